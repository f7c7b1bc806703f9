"""The front page: the hubs of this site."""

import sqlalchemy as sa
from flask import Blueprint, render_template
from sqlalchemy.orm import selectinload

from hubs.database import db
from hubs.models import Hub, HubType, Membership
from hubs.views.params import page_of

bp = Blueprint("home", __name__)


@bp.route("/")
def index():
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
