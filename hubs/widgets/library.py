"""Library: the team's curated links (docs, guides, wiki pages)."""

from hubs.i18n import _l
from hubs.messages import concerns_widget
from hubs.widgets import validators
from hubs.widgets.base import Argument, Chrome, hints

TITLE = _l("Library")
DESCRIPTION = _l("Curated links: documentation, guides, how-tos.")
ARGUMENTS = [
    Argument(
        "links",
        default=[],
        validator=validators.link_list(max_links=100),
        help=_l("One link per line: Title | https://address"),
        label=_l("Links"),
    ),
    Argument(
        "per_page",
        default=10,
        validator=validators.integer(1, 50),
        help=_l("How many links to show before 'more'."),
        label=_l("Per page"),
    ),
]

template = "library.html"
chrome = Chrome(title=_l("Library"))


def data(session, widget, links: list, per_page: int) -> dict:
    return {"shown": links[:per_page], "more": links[per_page:], "total": len(links)}


@hints(topics=["hubs.widget.updated"], own_hub=True)
def should_invalidate(message, session, widget) -> bool:
    return concerns_widget(message, widget.id)
