"""The front page: a logged-in person's home (their hubs, their stream's latest entries,
the requests to join their hubs), or for visitors the hubs of this site."""

import sqlalchemy as sa
from flask import Blueprint, render_template
from sqlalchemy.orm import selectinload

from hubs import changes
from hubs.database import db
from hubs.identity import current_user
from hubs.memberships import hubs_by_role
from hubs.models import Hub, HubType, Membership, User
from hubs.my_stream import grouped, last_read_id, stream_messages
from hubs.views.params import page_of

bp = Blueprint("home", __name__)

# Stream entries a home page shows; My Stream has the rest.
HOME_STREAM_MESSAGES = 10


@bp.route("/")
def index():
    user = current_user()
    return personal_home(user) if user else directory_home()


def personal_home(user: User):
    """The person's hubs, their stream's latest entries (left unread: this is not My
    Stream), and the requests to join the hubs they own."""
    entries = grouped(
        stream_messages(db.session, user.username, HOME_STREAM_MESSAGES), user.username
    )
    read_up_to = last_read_id(db.session, user)
    for shown in entries:
        shown["unread"] = shown["id"] > read_up_to
    return render_template(
        "home.html",
        hubs=hubs_by_role(db.session, user.username),
        entries=entries,
        requests=changes.requests_to_answer(db.session, user),
    )


def directory_home():
    """The hubs that are not archived, a page at a time: the teams first, then the people."""
    statement = (
        sa.select(Hub)
        .where(Hub.archived.is_(False))
        .options(selectinload(Hub.memberships).selectinload(Membership.user))
        .order_by(sa.case((Hub.type == HubType.team, 0), else_=1), Hub.name)
    )
    page = page_of(lambda paged: db.session.scalars(paged).all(), statement)
    return render_template(
        "index.html",
        page=page,
        teams=[hub for hub in page.rows if hub.type is HubType.team],
        users=[hub for hub in page.rows if hub.type is HubType.user],
    )
