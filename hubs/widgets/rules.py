"""Rules: how the team works, its important links, and who to ask (the owners)."""

from hubs.avatars import user_avatar
from hubs.i18n import _l
from hubs.markup import render_markdown
from hubs.messages import ROLE_TOPICS, concerns_hub, concerns_widget
from hubs.models import Role
from hubs.widgets import validators
from hubs.widgets.base import Argument, Chrome, hints

TITLE = _l("Rules")
DESCRIPTION = _l("The team's rules and links, with its owners to contact.")
ARGUMENTS = [
    Argument(
        "text",
        default="",
        validator=validators.text(max_length=5_000),
        help=_l("The rules, in markdown."),
        kind="textarea",
        label=_l("Text"),
    ),
    Argument(
        "links",
        default=[],
        validator=validators.link_list(max_links=20),
        help=_l("Important links, one per line: Title | https://address"),
        label=_l("Links"),
    ),
]

template = "rules.html"
chrome = Chrome(title=_l("Rules"))


def data(session, widget, text: str, links: list) -> dict:
    owners = sorted(widget.hub.users_with(Role.owner), key=lambda user: user.username)
    return {
        "html": render_markdown(text),
        "links": links,
        "owners": [
            {"username": u.username, "fullname": u.fullname, "avatar": user_avatar(u.username, 32)}
            for u in owners
        ],
    }


@hints(topics=[*ROLE_TOPICS, "hubs.widget.updated"], own_hub=True)
def should_invalidate(message, session, widget) -> bool:
    return concerns_widget(message, widget.id) or concerns_hub(message, widget.hub_id, *ROLE_TOPICS)
