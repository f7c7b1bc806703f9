"""Library: the team's curated links (docs, guides, wiki pages)."""

from hubs.messages import concerns_widget
from hubs.widgets import validators
from hubs.widgets.base import Argument, Chrome, hints

TITLE = "Library"
DESCRIPTION = "Curated links: documentation, guides, how-tos."
ARGUMENTS = [
    Argument(
        "links",
        default=[],
        validator=validators.link_list(max_links=100),
        help="One link per line: Title | https://address",
    ),
    Argument(
        "per_page",
        default=10,
        validator=validators.integer(1, 50),
        help="How many links to show before 'more'.",
    ),
]

template = "library.html"
chrome = Chrome(title="Library")


def data(session, widget, links: list, per_page: int) -> dict:
    return {"shown": links[:per_page], "more": links[per_page:], "total": len(links)}


@hints(topics=["hubs.widget.updated"], own_hub=True)
def should_invalidate(message, session, widget) -> bool:
    return concerns_widget(message, widget.id)
