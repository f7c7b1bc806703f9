"""Help wanted: the ``#help`` calls raised in the team's IRC meetings (meetbot), newest
first, until someone marks them resolved.

On a user hub with no channels set, it shows the calls raised in the channels of the
teams the user belongs to: where they could lend a hand.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hubs.feed import ago
from hubs.memo import memo
from hubs.messages import body, concerns_widget, topic_suffix
from hubs.models import Hub, HubType, Membership, Message, ResolvedHelpRequest, Role, User, Widget
from hubs.widgets import validators
from hubs.widgets.base import Argument, Chrome, hints

TITLE = "Help wanted"
DESCRIPTION = "Calls for help (#help) raised in the team's IRC meetings, until resolved."
ARGUMENTS = [
    Argument(
        "channels",
        default=[],
        validator=validators.channels,
        kind="text",
        help="IRC channels where the team meets, separated by spaces: #fedora-meeting-1 "
        "#fedora-admin. Empty on a user hub: the channels of the user's teams.",
    ),
    Argument(
        "meeting",
        default="",
        validator=validators.text(max_length=100),
        help='Only meetings whose title contains this (e.g. "Infrastructure"); empty: all.',
    ),
    Argument(
        "per_page",
        default=5,
        validator=validators.integer(1, 50),
        help="How many calls for help to show.",
    ),
]

template = "halp.html"
chrome = Chrome(title="Help wanted")

HELP_TOPIC = "meetbot.meeting.item.help"
RESOLVED_TOPIC = "hubs.help.resolved"
# How many of the latest calls for help, from every channel, are looked through.
SCAN = 1000


def _team_halp_rows(session: Session, *conditions) -> list[tuple[str, int, int, dict | None]]:
    """(member's username, team hub id, widget id, config) for the halp widgets of team
    hubs and their owners and members, narrowed by ``conditions``."""
    return session.execute(
        sa.select(User.username, Widget.hub_id, Widget.id, Widget.config)
        .join(Membership, Membership.hub_id == Widget.hub_id)
        .join(User, User.id == Membership.user_id)
        .where(
            Widget.plugin == "halp",
            Membership.role.in_([Role.owner, Role.member]),
            Widget.hub_id.in_(sa.select(Hub.id).where(Hub.type == HubType.team)),
            *conditions,
        )
    ).all()


def meeting_runners(message: Message) -> set[str]:
    """Who ran the meeting a call for help was raised in, as meetbot says: its owner
    and its chairs."""
    payload = body(message.body)
    chairs = payload.get("chairs")
    runners = (
        {name for name in chairs if isinstance(name, str)} if isinstance(chairs, dict) else set()
    )
    if isinstance(payload.get("owner"), str):
        runners.add(payload["owner"])
    return runners - {"zodbot"}


def may_resolve(session: Session, username: str, message: Message) -> bool:
    """Whether ``username`` may mark the call ``message`` resolved, which hides it on
    every hub: they must own or belong to a team whose own people ran the meeting it was
    raised in. The channels a halp widget watches are a setting any owner types, so
    they give no such right (two teams may even meet in one channel)."""
    runners = meeting_runners(message)
    if not runners:
        return False
    mine = (
        sa.select(Membership.hub_id)
        .join(User, User.id == Membership.user_id)
        .join(Hub, Hub.id == Membership.hub_id)
        .where(
            User.username == username,
            Hub.type == HubType.team,
            Membership.role.in_([Role.owner, Role.member]),
        )
    )
    ran_it = session.scalar(
        sa.select(sa.func.count())
        .select_from(Membership)
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.hub_id.in_(mine),
            Membership.role.in_([Role.owner, Role.member]),
            User.username.in_(sorted(runners)),
        )
    )
    return bool(ran_it)


def member_channels(session: Session, username: str) -> list[str]:
    """The channels watched by the halp widgets of the teams ``username`` owns or is a
    member of: where they may lend a hand, and mark calls resolved."""
    found: set[str] = set()
    for _name, _hub_id, _widget_id, config in _team_halp_rows(session, User.username == username):
        found.update((config or {}).get("channels") or [])
    return sorted(found)


@dataclass(frozen=True)
class TeamHalp:
    """For the backend's checks: each member's team hubs with a halp widget, and the
    channels those watch (read once, until hubs' own data changes)."""

    hubs: dict[str, frozenset[int]]
    channels: dict[str, frozenset[str]]
    widgets: frozenset[int]  # the halp widgets of team hubs


def team_halp(session: Session) -> TeamHalp:
    def load() -> TeamHalp:
        hubs: dict[str, set[int]] = {}
        channels: dict[str, set[str]] = {}
        widgets: set[int] = set()
        for username, hub_id, widget_id, config in _team_halp_rows(session):
            hubs.setdefault(username, set()).add(hub_id)
            channels.setdefault(username, set()).update((config or {}).get("channels") or [])
            widgets.add(widget_id)
        return TeamHalp(
            {name: frozenset(ids) for name, ids in hubs.items()},
            {name: frozenset(found) for name, found in channels.items()},
            frozenset(widgets),
        )

    return memo(session, "halp-teams", load)


def widget_channels(session: Session, widget: Widget, channels: list[str]) -> list[str]:
    """The channels ``widget`` watches: its own, or on a user hub without any, those of
    the halp widgets of the teams its user owns or is a member of."""
    if channels or widget.hub.type is not HubType.user:
        return list(channels)
    return member_channels(session, widget.hub.name)


def _is_help_call(payload: dict[str, Any], channels: list[str], meeting: str) -> bool:
    details = payload.get("details")
    if payload.get("channel") not in channels or not isinstance(details, dict):
        return False
    title = payload.get("meeting_topic") or ""
    return not meeting or meeting.casefold() in str(title).casefold()


def log_link(payload: dict[str, Any]) -> str | None:
    """The line of the meeting's log where the call was made."""
    url = payload.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return None
    url = url.replace("http://", "https://", 1)
    line = payload["details"].get("linenum")
    return f"{url}.log.html" + (f"#l-{line}" if isinstance(line, int) else "")


def help_call(message: Message, now: dt.datetime | None = None) -> dict[str, Any]:
    payload = body(message.body)
    details = payload["details"]
    return {
        "msg_id": message.msg_id,
        "who": str(details.get("nick") or "someone"),
        "text": str(details.get("line") or ""),
        "meeting": str(payload.get("meeting_topic") or ""),
        "topic": str(payload.get("topic") or ""),
        "channel": str(payload["channel"]),
        "time": message.timestamp.isoformat(),
        "ago": ago(message.timestamp, now),
        "link": log_link(payload),
    }


def open_calls(
    session: Session, channels: list[str], meeting: str = ""
) -> list[tuple[Message, dict[str, Any]]]:
    """The unresolved calls for help in ``channels``, newest first."""
    if not channels:
        return []
    latest = session.scalars(
        sa.select(Message)
        .where(Message.category == "meetbot", Message.topic.endswith("." + HELP_TOPIC))
        .order_by(Message.timestamp.desc(), Message.id.desc())
        .limit(SCAN)
    ).all()
    calls = [m for m in latest if _is_help_call(body(m.body), channels, meeting)]
    if not calls:
        return []
    resolved = set(
        session.scalars(
            sa.select(ResolvedHelpRequest.msg_id).where(
                ResolvedHelpRequest.msg_id.in_([m.msg_id for m in calls])
            )
        )
    )
    return [(m, help_call(m)) for m in calls if m.msg_id not in resolved]


def data(session, widget, channels: list, meeting: str, per_page: int) -> dict:
    watched = widget_channels(session, widget, channels)
    calls = [shown for _message, shown in open_calls(session, watched, meeting)]
    return {
        "channels": watched,
        "meeting": meeting,
        "calls": calls[:per_page],
        "total": len(calls),
        "own_channels": bool(channels),
    }


def _derives_channels(widget: Widget) -> bool:
    """A user hub's widget with no channels of its own: it shows its user's teams'."""
    return widget.hub.type is HubType.user and not (widget.config or {}).get("channels")


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
    derived = _derives_channels(widget)
    if suffix.startswith("hubs.widget."):
        if concerns_widget(message, widget.id):
            return True
        # The halp widget of one of the user's teams: the channels shown may change.
        teams = team_halp(session)
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
        channels = team_halp(session).channels.get(widget.hub.name, frozenset())
    else:
        channels = config.get("channels") or []
    if suffix == RESOLVED_TOPIC:
        return payload.get("channel") in channels
    return _is_help_call(payload, channels, config.get("meeting") or "")
