"""Roster: a team's people, its owners then its members, with their avatars and names."""

from hubs.avatars import user_avatar
from hubs.i18n import _l
from hubs.messages import ROLE_TOPICS, concerns_hub
from hubs.models import Role
from hubs.widgets.base import Chrome, hints

TITLE = _l("People")
DESCRIPTION = _l("The team's owners and members, with their avatars and names.")
HUB_TYPES = ("team",)  # a person's hub has no people but them
ARGUMENTS: list = []

template = "roster.html"
chrome = Chrome(title=_l("People"))


def data(session, widget) -> dict:
    hub = widget.hub
    people = [(role, user) for role in (Role.owner, Role.member) for user in hub.users_with(role)]
    people.sort(key=lambda person: (person[0] is not Role.owner, person[1].username))
    return {
        "people": [
            {"username": user.username, "fullname": user.fullname, "role": role.value,
             "avatar": user_avatar(user.username, 40)}
            for role, user in people
        ]
    }  # fmt: skip


@hints(topics=ROLE_TOPICS, own_hub=True)
def should_invalidate(message, session, widget) -> bool:
    return concerns_hub(message, widget.hub_id, *ROLE_TOPICS)
