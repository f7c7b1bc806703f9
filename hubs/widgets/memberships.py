"""Memberships: the hubs a user owns, belongs to, follows and stars."""

import sqlalchemy as sa

from hubs.i18n import _l
from hubs.memberships import hubs_by_role
from hubs.messages import ROLE_TOPICS, body, is_hubs_message
from hubs.models import Membership, User
from hubs.widgets.base import Chrome, hints

TITLE = _l("Memberships")
DESCRIPTION = _l("The hubs this user owns, belongs to, subscribes to and stars.")
HUB_TYPES = ("user",)  # the user's own hubs
ARGUMENTS: list = []

template = "memberships.html"
chrome = Chrome(title=_l("Hubs"), hide_when_empty=True)


def _hub_user(widget) -> str:
    # A user hub is named after its user.
    return widget.hub.name


def data(session, widget) -> dict:
    return hubs_by_role(session, _hub_user(widget), leave_out=widget.hub_id)


def _usernames(session, widget):
    return [_hub_user(widget)]


@hints(topics=[*ROLE_TOPICS, "hubs.hub.updated"], usernames=_usernames)
def should_invalidate(message, session, widget) -> bool:
    fields = body(message)
    if fields.get("hub_id") == widget.hub_id:
        return False
    if is_hubs_message(message, "hubs.hub.updated"):
        # Another hub's new summary shows here if the user has a role in it (the
        # backend offers this message to the widgets of that hub's people).
        changed = fields.get("changed_keys")
        if not isinstance(changed, list) or "summary" not in changed:
            return False
        return (
            session.scalar(
                sa.select(sa.func.count())
                .select_from(Membership)
                .join(Membership.user)
                .where(
                    Membership.hub_id == fields.get("hub_id"), User.username == _hub_user(widget)
                )
            )
            > 0
        )
    return is_hubs_message(message, *ROLE_TOPICS) and fields.get("username") == _hub_user(widget)
