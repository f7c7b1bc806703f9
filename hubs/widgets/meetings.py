"""Meetings: the next meetings of a Fedora calendar (fedocal), soonest first."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app

from hubs.clients.fedocal import FedocalClient, Meeting, UnknownCalendar
from hubs.i18n import _, _l
from hubs.markup import render_markdown
from hubs.messages import body, topic_suffix
from hubs.models import HubType, utcnow
from hubs.widgets import validators
from hubs.widgets.base import Argument, Chrome, WidgetData, hints

TITLE = _l("Meetings")
DESCRIPTION = _l("The next meetings of a Fedora calendar (fedocal), soonest first.")
CLIENTS = [FedocalClient]  # the services it calls


def calendar_name(value: Any) -> str:
    """A fedocal calendar name: text that can stand in the calendar's web address."""
    name = validators.text(max_length=80)(value)
    if "/" in name or not name.isprintable():
        raise ValueError(_("must be a fedocal calendar name, without slashes"))
    return name


ARGUMENTS = [
    Argument(
        "calendar",
        default="",
        validator=calendar_name,
        help=_l("The fedocal calendar, e.g. infrastructure; empty: the name of this (team) hub."),
        label=_l("Calendar"),
    ),
    Argument(
        "n_meetings",
        default=4,
        validator=validators.integer(1, 20),
        help=_l("How many meetings to show."),
        label=_l("Meetings shown"),
    ),
    Argument(
        "days",
        default=30,
        validator=validators.integer(1, 180),
        help=_l("How many days ahead to look for meetings."),
        label=_l("Days ahead"),
    ),
]

template = "meetings.html"
chrome = Chrome(title=_l("Meetings"))


def widget_calendar(widget) -> str:
    """The calendar the widget shows: its setting, else a team hub's own name."""
    configured = (widget.config or {}).get("calendar")
    if configured:
        return configured
    return widget.hub.name if widget.hub.type is HubType.team else ""


def data(session, widget, calendar: str, n_meetings: int, days: int) -> dict | WidgetData:
    name = calendar or widget_calendar(widget)
    found = {"calendar": name, "calendar_url": "", "unknown_calendar": False, "days": days}
    if not name:
        return {**found, "meetings": []}
    config = current_app.config
    client = FedocalClient.from_config(config)
    found["calendar_url"] = client.calendar_url(name)
    now = utcnow()
    # Fedocal picks meetings by the day they fall on in their own zone: start a day early.
    first, last = now.date() - dt.timedelta(days=1), now.date() + dt.timedelta(days=days)
    try:
        meetings = client.meetings(name, first, last)
    except UnknownCalendar:
        return {**found, "unknown_calendar": True, "meetings": []}
    upcoming = [meeting for meeting in meetings if meeting.end > now][:n_meetings]
    # No message says a meeting started or ended: the data is good until the next does.
    changes = [m.start if m.start > now else m.end for m in upcoming]
    return WidgetData(
        {**found, "meetings": [_meeting(client, meeting, now) for meeting in upcoming]},
        fresh_until=min(changes).timestamp() if changes else None,
    )


def _meeting(client: FedocalClient, meeting: Meeting, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": meeting.id,
        "name": meeting.name,
        "start": meeting.start.isoformat(),
        "end": meeting.end.isoformat(),
        "when": _when(meeting.start, meeting.end),
        "local": _local_start(meeting),
        "ongoing": meeting.start <= now,
        "location": meeting.location,
        "managers": list(meeting.managers),
        "description_html": render_markdown(meeting.information),
        "url": client.meeting_url(meeting),
    }


def _day(moment: dt.datetime) -> str:
    return f"{moment:%a} {moment.day} {moment:%b %Y}"


def _when(start: dt.datetime, end: dt.datetime) -> str:
    """ "Thu 4 Dec 2025, 16:00-17:00 UTC", or a span of days."""
    if start.date() == end.date():
        return f"{_day(start)}, {start:%H:%M}-{end:%H:%M} UTC"
    if start.time() == end.time() == dt.time(0):  # fedocal's whole-day meetings
        last = end - dt.timedelta(days=1)
        if last.date() == start.date():
            return f"{_day(start)}, all day"
        return f"{_day(start)} - {_day(last)}"
    return f"{_day(start)} {start:%H:%M} - {_day(end)} {end:%H:%M} UTC"


def _local_start(meeting: Meeting) -> str:
    """The start in the zone the meeting was entered in ("17:00 Europe/Paris"); "" for UTC
    or a zone we do not know."""
    if meeting.timezone.upper() == "UTC":
        return ""
    try:
        zone = ZoneInfo(meeting.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ""
    return f"{meeting.start.astimezone(zone):%H:%M} {meeting.timezone}"


# What fedocal publishes when a calendar or its meetings change (reminders change nothing).
FEDOCAL_TOPICS = (
    "fedocal.calendar.new",
    "fedocal.calendar.update",
    "fedocal.calendar.upload",
    "fedocal.calendar.delete",
    "fedocal.calendar.clear",
    "fedocal.meeting.new",
    "fedocal.meeting.update",
    "fedocal.meeting.delete",
)


def message_calendar(message: dict[str, Any]) -> str:
    """The name of the calendar a fedocal message is about, or ""."""
    payload = body(message)
    for part in (payload.get("meeting"), payload.get("calendar")):
        if isinstance(part, dict) and isinstance(part.get("calendar_name"), str):
            return part["calendar_name"]
    return ""


def _calendars(session, widget) -> list[str]:
    calendar = widget_calendar(widget)
    return [calendar] if calendar else []


def _message_calendars(message: dict[str, Any]) -> list[str]:
    calendar = message_calendar(message)
    return [calendar] if calendar else []


@hints(topics=FEDOCAL_TOPICS, keys=_calendars, message_keys=_message_calendars)
def should_invalidate(message, session, widget) -> bool:
    if topic_suffix(str(message.get("topic", ""))) not in FEDOCAL_TOPICS:
        return False
    calendar = widget_calendar(widget)
    return bool(calendar) and message_calendar(message) == calendar
