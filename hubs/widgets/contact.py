"""Contact: where to reach the team — mailing list, chat rooms, website."""

from urllib.parse import quote

from hubs.i18n import _l
from hubs.messages import concerns_widget
from hubs.widgets import validators
from hubs.widgets.base import Argument, Chrome, hints

TITLE = _l("Contact")
DESCRIPTION = _l("The team's mailing list, chat rooms and website.")
ARGUMENTS = [
    Argument(
        "mailing_list",
        default="",
        validator=validators.optional(validators.email),
        help=_l("The list's address, e.g. design-team@lists.fedoraproject.org."),
        label=_l("Mailing list"),
    ),
    Argument(
        "chat",
        default=[],
        validator=validators.channels,
        kind="text",
        help=_l(
            "Chat rooms, separated by spaces: #fedora-design (IRC) or "
            "#design:fedoraproject.org (Matrix)."
        ),
        label=_l("Chat"),
    ),
    Argument(
        "website",
        default="",
        validator=validators.optional(validators.url),
        help=_l("The team's web page (http or https)."),
        label=_l("Website"),
    ),
]

template = "contact.html"
chrome = Chrome(title=_l("Contact"), hide_when_empty=True)


def chat_link(room: str) -> str:
    if ":" in room:
        return f"https://matrix.to/#/{quote(room, safe='#:')}"
    return f"https://web.libera.chat/{quote(room, safe='#')}"


def data(session, widget, mailing_list: str, chat: list, website: str) -> dict:
    return {
        "mailing_list": mailing_list,
        "chat": [{"room": room, "url": chat_link(room)} for room in chat],
        "website": website,
    }


@hints(topics=["hubs.widget.updated"], own_hub=True)
def should_invalidate(message, session, widget) -> bool:
    return concerns_widget(message, widget.id)
