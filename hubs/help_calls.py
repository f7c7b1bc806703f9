"""Calls for help: the ``#help`` items of IRC meetings (meetbot), the channels a team's
help-wanted widget watches, and which calls are still open.

The help-wanted widget (``hubs.widgets.halp``) shows them, ``hubs.views.help_calls``
lists them and marks them resolved, and ``hubs.permissions`` decides who may
(``Action.RESOLVE_HELP`` on a :class:`HelpCall`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hubs.memo import memo
from hubs.messages import body
from hubs.models import Hub, HubType, Membership, Message, ResolvedHelpRequest, Role, User, Widget

HELP_TOPIC = "meetbot.meeting.item.help"
RESOLVED_TOPIC = "hubs.help.resolved"
# How many of the latest calls for help, from every channel, are looked through.
SCAN = 1000


@dataclass(frozen=True)
class HelpCall:
    """One open call for help as the widget ``widget`` of ``hub`` shows it."""

    hub: Hub
    widget: Widget
    message: Message
    shown: dict[str, Any]  # what pages show: who, text, meeting, channel, time, link

    @property
    def msg_id(self) -> str:
        return self.message.msg_id

    @property
    def channel(self) -> str:
        return self.shown["channel"]

    @property
    def meeting(self) -> str:
        """The meeting it was raised in, or its channel when meetbot gave no title."""
        return self.shown["meeting"] or self.channel

    def runners(self) -> set[str]:
        """Who ran the meeting it was raised in, as meetbot says: its owner and chairs."""
        payload = body(self.message.body)
        chairs = payload.get("chairs")
        runners = (
            {name for name in chairs if isinstance(name, str)}
            if isinstance(chairs, dict)
            else set()
        )
        if isinstance(payload.get("owner"), str):
            runners.add(payload["owner"])
        return runners - {"zodbot"}


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


def member_channels(session: Session, username: str) -> list[str]:
    """The channels watched by the halp widgets of the teams ``username`` owns or is a
    member of: where they may lend a hand."""
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


def derives_channels(widget: Widget) -> bool:
    """A user hub's widget with no channels of its own: it shows its user's teams'."""
    return widget.hub.type is HubType.user and not (widget.config or {}).get("channels")


def widget_channels(session: Session, widget: Widget, channels: list[str]) -> list[str]:
    """The channels ``widget`` watches: its own, or on a user hub without any, those of
    the halp widgets of the teams its user owns or is a member of."""
    if channels or widget.hub.type is not HubType.user:
        return list(channels)
    return member_channels(session, widget.hub.name)


def is_help_call(payload: dict[str, Any], channels, meeting: str) -> bool:
    """Whether the meetbot message body ``payload`` is a call for help raised in one of
    ``channels``, in a meeting whose title contains ``meeting`` (any when empty)."""
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


def shown(message: Message, now: dt.datetime | None = None) -> dict[str, Any]:
    """What pages show of the call for help ``message``."""
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
        "link": log_link(payload),
    }


def open_messages(session: Session, channels: list[str], meeting: str = "") -> list[Message]:
    """The unresolved calls for help in ``channels``, newest first."""
    if not channels:
        return []
    latest = session.scalars(
        sa.select(Message)
        .where(Message.category == "meetbot", Message.topic.endswith("." + HELP_TOPIC))
        .order_by(Message.timestamp.desc(), Message.id.desc())
        .limit(SCAN)
    ).all()
    calls = [m for m in latest if is_help_call(body(m.body), channels, meeting)]
    if not calls:
        return []
    resolved = set(
        session.scalars(
            sa.select(ResolvedHelpRequest.msg_id).where(
                ResolvedHelpRequest.msg_id.in_([m.msg_id for m in calls])
            )
        )
    )
    return [m for m in calls if m.msg_id not in resolved]


def open_calls(
    session: Session, widget: Widget, config: dict[str, Any], channels: list[str] | None = None
) -> list[HelpCall]:
    """The open calls for help the halp widget ``widget`` (configured ``config``) shows,
    in ``channels`` when the caller has them (``widget_channels``) already."""
    if channels is None:
        channels = widget_channels(session, widget, config["channels"])
    return [
        HelpCall(widget.hub, widget, message, shown(message))
        for message in open_messages(session, channels, config["meeting"])
    ]


def teammates(session: Session, username: str) -> set[str]:
    """The owners and members of every team hub ``username`` owns or is a member of."""
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
    return set(
        session.scalars(
            sa.select(User.username)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.hub_id.in_(mine), Membership.role.in_([Role.owner, Role.member]))
        )
    )
