"""Feed: the hub's activity on the bus, newest first, with older entries on demand."""

from hubs.feed import latest
from hubs.messages import ROLE_TOPICS
from hubs.people import hub_people, involves_hub_people, widget_people
from hubs.widgets import validators
from hubs.widgets.base import ANY, Argument, Chrome, hints

TITLE = "Activity feed"
DESCRIPTION = "What the user, or the team's people, did lately across Fedora."
ARGUMENTS = [
    Argument(
        "per_page",
        default=10,
        validator=validators.integer(3, 50),
        help="How many entries to show at first, and to add with each 'More'.",
    ),
]

template = "feed.html"
chrome = Chrome(title="Activity feed")


def data(session, widget, per_page: int) -> dict:
    entries = latest(session, hub_people(session, widget.hub), per_page + 1)
    return {"entries": entries[:per_page], "more": len(entries) > per_page, "per_page": per_page}


@hints(categories=[ANY], topics=ROLE_TOPICS, usernames=widget_people)
def should_invalidate(message, session, widget) -> bool:
    return involves_hub_people(message, session, widget)
