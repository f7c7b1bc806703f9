"""Avatar: the hub's picture, from its settings or the user's libravatar."""

from hubs.avatars import hub_avatar
from hubs.i18n import _l
from hubs.messages import concerns_hub
from hubs.widgets import validators
from hubs.widgets.base import Argument, Chrome, hints

TITLE = _l("Avatar")
DESCRIPTION = _l("The hub's picture (libravatar for users).")
ARGUMENTS = [
    Argument(
        "size",
        default=160,
        validator=validators.integer(32, 512),
        help=_l("Width and height of the picture, in pixels (32 to 512)."),
        label=_l("Size"),
    ),
]

template = "avatar.html"
chrome = Chrome()


def data(session, widget, size: int) -> dict:
    hub = widget.hub
    return {"url": hub_avatar(hub, size), "size": size, "name": hub.name}


@hints(topics=["hubs.hub.updated"], own_hub=True)
def should_invalidate(message, session, widget) -> bool:
    return concerns_hub(message, widget.hub_id, "hubs.hub.updated")
