"""Feed: the hub's activity on the bus, newest first, with older entries on demand.
New messages are added on top of the cached entries (and pushed alone to the pages),
rather than the whole feed being read again."""

import hashlib

from flask import render_template

from hubs.backfill import history_state
from hubs.entries import cursor, entry, group_edits, last_stored, latest, messages_involving
from hubs.i18n import _l
from hubs.messages import ROLE_TOPICS
from hubs.people import hub_people, involves_hub_people, widget_people
from hubs.widgets import validators
from hubs.widgets.base import ANY, Argument, Chrome, Prepend, WidgetData, hints

TITLE = _l("Activity feed")
DESCRIPTION = _l("What the user, or the team's people, did lately across Fedora.")
ARGUMENTS = [
    Argument(
        "per_page",
        default=10,
        validator=validators.integer(3, 50),
        help=_l("How many entries to show at first, and to add with each 'More'."),
        label=_l("Per page"),
    ),
]

template = "feed.html"
chrome = Chrome(title=_l("Activity feed"))


def people_digest(people) -> str:
    """A short fingerprint of whose messages a feed shows."""
    return hashlib.sha1("\n".join(sorted(people)).encode()).hexdigest()[:16]


def data(session, widget, per_page: int) -> dict:
    people = hub_people(session, widget.hub)
    seen = last_stored(session)  # before reading: what comes later is new to refresh()
    entries, more = latest(session, people, per_page)
    return {
        "entries": entries,
        "more": more,
        "per_page": per_page,
        "people": people_digest(people),
        "seen": seen,
        "history": history_state(session, people),  # still being fetched from datagrepper?
    }


def refresh(session, widget, data: dict, per_page: int) -> WidgetData | None:
    """The cached feed with the messages stored since it was read on top; None when a
    full read is needed: the hub's people changed, nothing was shown yet, nothing is
    new (so something else changed), more than a page is new, a new message is older
    than the top entry (it belongs further down), or fetching the history ended."""
    people = hub_people(session, widget.hub)
    entries = data.get("entries") or []
    if data.get("people") != people_digest(people) or not entries or "seen" not in data:
        return None
    if data.get("history") != history_state(session, people):
        return None
    seen = last_stored(session)
    found = messages_involving(session, people, per_page + 1, newer_than=data["seen"])
    # A message stored while data() read may be shown already though newer than "seen"
    # (it reads "seen" first): it is not new.
    shown = {msg_id for old in entries for msg_id in old.get("msg_ids") or [old["msg_id"]]}
    found = [message for message in found if message.id <= seen and message.msg_id not in shown]
    top = cursor(entries[0])
    if not found or len(found) > per_page:
        return None
    if any((message.timestamp, message.id) < top for message in found):
        return None
    # The template says how long ago each entry was, from its time, when it renders.
    merged = group_edits([entry(message) for message in found] + entries)
    # The entries on top holding a new message: new ones, or a run of changes that grew
    # (it keeps its msg_id, so the page puts it in the place of the one it shows).
    new = {message.msg_id for message in found}
    changed = 0
    while changed < len(merged) and new & set(merged[changed].get("msg_ids", ())):
        changed += 1
    fresh = {
        **data,
        "entries": merged[:per_page],
        "more": data.get("more") or len(merged) > per_page,
        "seen": seen,
    }
    html = render_template("widgets/feed_entries.html", entries=merged[:changed])
    return WidgetData(fresh, prepend=Prepend("feed", html))


@hints(categories=[ANY], topics=ROLE_TOPICS, usernames=widget_people, history=True)
def should_invalidate(message, session, widget) -> bool:
    return involves_hub_people(message, session, widget)
