"""The hubs directory (/hubs/): every hub, searchable by name and summary."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, render_template, request

from hubs.database import db
from hubs.i18n import _
from hubs.identity import current_user
from hubs.models import Hub, HubType, Membership, Role
from hubs.views.params import page_of

bp = Blueprint("directory", __name__)


def _role_exists(role: Role, user_id: int):
    return sa.exists().where(
        Membership.hub_id == Hub.id, Membership.user_id == user_id, Membership.role == role
    )


@bp.route("/hubs/")
def directory():
    """Every hub, searchable, a page at a time, in one query (counts and the visitor's
    roles included)."""
    query = request.args.get("q", "").strip()[:100]
    kind = request.args.get("type", "")
    if kind not in ("", "user", "team"):
        abort(400, _("type must be user or team (or left out, for every hub)."))
    members = (
        sa.select(sa.func.count())
        .where(Membership.hub_id == Hub.id, Membership.role.in_([Role.owner, Role.member]))
        .scalar_subquery()
    )
    user = current_user()
    columns = [Hub, members.label("members")]
    if user is not None:
        columns += [
            _role_exists(Role.subscriber, user.id).label("subscribed"),
            _role_exists(Role.stargazer, user.id).label("starred"),
        ]
    statement = sa.select(*columns).order_by(Hub.last_activity.desc().nulls_last(), Hub.name)
    if query:
        pattern = f"%{query.replace('%', '').replace('_', '')}%"
        statement = statement.where(sa.or_(Hub.name.ilike(pattern), Hub.summary.ilike(pattern)))
    if kind:
        statement = statement.where(Hub.type == HubType(kind))
    page = page_of(lambda paged: db.session.execute(paged).all(), statement)
    return render_template("directory.html", rows=page.rows, page=page, query=query, kind=kind)
