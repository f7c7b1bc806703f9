"""Badges: the Fedora Badges a person was awarded, newest first."""

from flask import current_app

from hubs.bus import message_people_and_packages
from hubs.clients.badges import BadgesClient
from hubs.i18n import _l
from hubs.messages import topic_suffix
from hubs.people import widget_user, widget_user_list
from hubs.widgets import validators
from hubs.widgets.base import Argument, Chrome, hints

TITLE = _l("Badges")
DESCRIPTION = _l("Fedora Badges awarded to a person, newest first.")
HUB_TYPES = ("user",)  # a person's badges
CLIENTS = [BadgesClient]  # the services it calls
ARGUMENTS = [
    Argument(
        "username",
        default="",
        validator=validators.optional(validators.username),
        help=_l("Whose badges; empty: the user of this (user) hub."),
        label=_l("Username"),
    ),
    Argument(
        "limit",
        default=12,
        validator=validators.integer(1, 100),
        help=_l("How many badges to show."),
        label=_l("Limit"),
    ),
]

template = "badges.html"
chrome = Chrome(title=_l("Badges"))


def data(session, widget, username: str, limit: int) -> dict:
    user = username or widget_user(widget)
    if not user:
        return {"username": "", "badges": [], "total": 0}
    config = current_app.config
    client = BadgesClient.from_config(config)
    badges = client.user_badges(user)
    return {
        "username": user,
        "total": len(badges),
        "profile": f"{client.base_url}user/{user}",
        "badges": [
            {
                "id": b.id,
                "name": b.name,
                "description": b.description,
                "image": b.image,
                "issued": b.issued.isoformat(),
            }
            for b in badges[:limit]
        ],
    }


@hints(categories=["fedbadges"], usernames=widget_user_list)
def should_invalidate(message, session, widget) -> bool:
    if not topic_suffix(str(message.get("topic", ""))).startswith("fedbadges."):
        return False
    usernames, _packages = message_people_and_packages(message)
    return widget_user(widget) in usernames
