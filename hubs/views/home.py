"""The front page: the hubs of this site."""

import sqlalchemy as sa
from flask import Blueprint, render_template
from sqlalchemy.orm import selectinload

from hubs.database import db
from hubs.models import Hub, HubType, Membership

bp = Blueprint("home", __name__)


@bp.route("/")
def index():
    hubs = db.session.scalars(
        sa.select(Hub)
        .where(Hub.archived.is_(False))
        .options(selectinload(Hub.memberships).selectinload(Membership.user))
        .order_by(Hub.name)
    ).all()
    return render_template(
        "index.html",
        teams=[hub for hub in hubs if hub.type is HubType.team],
        users=[hub for hub in hubs if hub.type is HubType.user],
    )
