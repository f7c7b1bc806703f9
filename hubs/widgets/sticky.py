"""Sticky note: a block of markdown the owners keep at hand."""

from hubs.markup import render_markdown
from hubs.messages import concerns_widget
from hubs.widgets import validators
from hubs.widgets.base import Argument, Chrome, hints

TITLE = "Sticky note"
DESCRIPTION = "A note in markdown: announcements, how to get started, anything."
ARGUMENTS = [
    Argument(
        "text",
        default="",
        validator=validators.text(max_length=10_000),
        help="Markdown: **bold**, _italic_, [links](https://…), lists. Scripts are removed.",
        kind="textarea",
    ),
]

template = "sticky.html"
chrome = Chrome(title="Note")


def data(session, widget, text: str) -> dict:
    return {"html": render_markdown(text)}


@hints(topics=["hubs.widget.updated"], own_hub=True)
def should_invalidate(message, session, widget) -> bool:
    return concerns_widget(message, widget.id)
