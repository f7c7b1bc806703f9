"""Help wanted: the ``#help`` calls raised in the team's IRC meetings (meetbot), newest
first, until someone marks them resolved.

On a user hub with no channels set, it shows the calls raised in the channels of the
teams the user belongs to: where they could lend a hand.
"""

from __future__ import annotations

from hubs import help_calls
from hubs.help_calls import HELP_TOPIC, RESOLVED_TOPIC
from hubs.i18n import _l
from hubs.messages import body, concerns_widget, topic_suffix
from hubs.widgets import validators
from hubs.widgets.base import Argument, Chrome, hints

TITLE = _l("Help wanted")
DESCRIPTION = _l("Calls for help (#help) raised in the team's IRC meetings, until resolved.")
ARGUMENTS = [
    Argument(
        "channels",
        default=[],
        validator=validators.channels,
        kind="text",
        help=_l(
            "IRC channels where the team meets, separated by spaces: #fedora-meeting-1 "
            "#fedora-admin. Empty on a user hub: the channels of the user's teams."
        ),
        label=_l("Channels"),
    ),
    Argument(
        "meeting",
        default="",
        validator=validators.text(max_length=100),
        help=_l('Only meetings whose title contains this (e.g. "Infrastructure"); empty: all.'),
        label=_l("Meeting"),
    ),
    Argument(
        "per_page",
        default=5,
        validator=validators.integer(1, 50),
        help=_l("How many calls for help to show."),
        label=_l("Per page"),
    ),
]

template = "halp.html"
chrome = Chrome(title=_l("Help wanted"))


def data(session, widget, channels: list, meeting: str, per_page: int) -> dict:
    watched = help_calls.widget_channels(session, widget, channels)
    calls = [help_calls.shown(m) for m in help_calls.open_messages(session, watched, meeting)]
    return {
        "channels": watched,
        "meeting": meeting,
        "calls": calls[:per_page],
        "total": len(calls),
        "own_channels": bool(channels),
    }


@hints(
    topics=[
        HELP_TOPIC,
        RESOLVED_TOPIC,
        "hubs.widget.created",
        "hubs.widget.updated",
        "hubs.widget.deleted",
        "hubs.user.role.added",
        "hubs.user.role.changed",
        "hubs.user.role.removed",
    ]
)
def should_invalidate(message, session, widget) -> bool:
    suffix = topic_suffix(str(message.get("topic", "")))
    payload = body(message)
    derived = help_calls.derives_channels(widget)
    if suffix.startswith("hubs.widget."):
        if concerns_widget(message, widget.id):
            return True
        # The halp widget of one of the user's teams: the channels shown may change.
        teams = help_calls.team_halp(session)
        return (
            derived
            and payload.get("widget_id") in teams.widgets
            and payload.get("hub_id") in teams.hubs.get(widget.hub.name, frozenset())
        )
    if suffix.startswith("hubs.user.role."):
        return derived and payload.get("username") == widget.hub.name
    if suffix not in (HELP_TOPIC, RESOLVED_TOPIC):
        return False
    config = widget.config or {}
    if derived:
        channels = help_calls.team_halp(session).channels.get(widget.hub.name, frozenset())
    else:
        channels = config.get("channels") or []
    if suffix == RESOLVED_TOPIC:
        return payload.get("channel") in channels
    return help_calls.is_help_call(payload, channels, config.get("meeting") or "")
