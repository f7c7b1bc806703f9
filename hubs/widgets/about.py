"""About: the hub's description, written by its owners in markdown."""

from hubs.i18n import _l
from hubs.markup import render_markdown
from hubs.messages import concerns_hub
from hubs.widgets.base import Chrome, hints

TITLE = _l("About")
DESCRIPTION = _l("The hub's description, from its settings.")
ARGUMENTS: list = []

template = "about.html"
chrome = Chrome(title=_l("About"))


def data(session, widget) -> dict:
    hub = widget.hub
    return {"summary": hub.summary, "html": render_markdown(hub.description)}


@hints(topics=["hubs.hub.updated"], own_hub=True)
def should_invalidate(message, session, widget) -> bool:
    return concerns_hub(message, widget.hub_id, "hubs.hub.updated")
