"""Sticky note: a block of markdown the owners keep at hand."""

from hubs.i18n import _l
from hubs.markup import render_markdown
from hubs.messages import concerns_widget
from hubs.widgets import validators
from hubs.widgets.base import Argument, Chrome, hints

TITLE = _l("Sticky note")
DESCRIPTION = _l("A note in markdown: announcements, how to get started, anything.")
ARGUMENTS = [
    Argument(
        "text",
        default="",
        validator=validators.text(max_length=10_000),
        help=_l("Markdown: **bold**, _italic_, [links](https://…), lists. Scripts are removed."),
        kind="textarea",
        label=_l("Text"),
    ),
]

template = "sticky.html"
chrome = Chrome(title=_l("Note"))


def data(session, widget, text: str) -> dict:
    return {"html": render_markdown(text)}


@hints(topics=["hubs.widget.updated"], own_hub=True)
def should_invalidate(message, session, widget) -> bool:
    return concerns_widget(message, widget.id)
