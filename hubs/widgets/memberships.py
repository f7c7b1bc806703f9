"""Memberships: the hubs a user owns, belongs to, follows and stars."""

import sqlalchemy as sa

from hubs.messages import ROLE_TOPICS, body, concerns_hub, is_hubs_message
from hubs.models import Hub, HubType, Membership, Role, User
from hubs.widgets.base import Chrome, hints

TITLE = "Memberships"
DESCRIPTION = "The hubs this user owns, belongs to, subscribes to and stars."
ARGUMENTS: list = []

template = "memberships.html"
chrome = Chrome(title="Hubs", hide_when_empty=True)


def _hub_user(widget) -> str:
    # A user hub is named after its user.
    return widget.hub.name


def data(session, widget) -> dict:
    rows = session.execute(
        sa.select(Membership.role, Hub.name, Hub.type, Hub.summary)
        .join(Membership.hub)
        .join(Membership.user)
        .where(User.username == _hub_user(widget), Hub.id != widget.hub_id)
        .order_by(Hub.type.desc(), Hub.name)
    ).all()
    by_role = {role.value: [] for role in Role}
    for role, name, hub_type, summary in rows:
        by_role[role.value].append(
            {"name": name, "summary": summary, "url": f"/{HubType(hub_type).url_prefix}/{name}/"}
        )
    return by_role


def _usernames(session, widget):
    return [_hub_user(widget)]


@hints(topics=[*ROLE_TOPICS, "hubs.hub.updated"], usernames=_usernames)
def should_invalidate(message, session, widget) -> bool:
    if is_hubs_message(message, *ROLE_TOPICS):
        return body(message).get("username") == _hub_user(widget)
    if concerns_hub(message, widget.hub_id, "hubs.hub.updated"):
        return False  # its own hub is not listed
    if is_hubs_message(message, "hubs.hub.updated"):
        # Another hub's name or summary changed: redraw if this user is in it.
        return (
            session.scalar(
                sa.select(sa.func.count())
                .select_from(Membership)
                .join(Membership.user)
                .where(Membership.hub_id == body(message).get("hub_id"))
                .where(User.username == _hub_user(widget))
            )
            > 0
        )
    return False
