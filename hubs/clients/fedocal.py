"""Fedocal, Fedora's calendar: the meetings of one calendar, from its JSON API."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from hubs.clients import ServiceClient, ServiceUnavailable, get_json


@dataclass(frozen=True)
class Meeting:
    id: int
    name: str
    calendar: str
    start: dt.datetime  # UTC
    end: dt.datetime  # UTC
    timezone: str  # the zone the meeting was entered in, e.g. "Europe/Paris"
    information: str  # markdown
    location: str
    managers: tuple[str, ...]


class UnknownCalendar(LookupError):
    """Fedocal has no calendar of that name."""

    def __init__(self, calendar: str) -> None:
        self.calendar = calendar
        super().__init__(f"fedocal has no calendar named {calendar!r}")


class FedocalClient(ServiceClient):
    URL_SETTING = "FEDOCAL_URL"

    def calendar_url(self, calendar: str) -> str:
        return f"{self.base_url}{quote(calendar, safe='')}/"

    def meeting_url(self, meeting: Meeting) -> str:
        """The meeting's page; for a recurring meeting, the page of this occurrence."""
        return f"{self.base_url}meeting/{meeting.id}/?from_date={meeting.start:%Y-%m-%d}"

    def meetings(self, calendar: str, start: dt.date, end: dt.date) -> list[Meeting]:
        """The meetings of ``calendar`` on the days from ``start`` to ``end`` (both
        included), soonest first; UnknownCalendar when fedocal has no such calendar."""
        url = f"{self.base_url}api/meetings/"
        try:
            document = get_json(
                self.http,
                url,
                self.service,
                self.timeout,
                calendar=calendar,
                start=start.isoformat(),
                end=end.isoformat(),
            )
        except ServiceUnavailable as error:
            if _is_unknown_calendar(error.__cause__):
                raise UnknownCalendar(calendar) from error
            raise
        try:
            items = document["meetings"]
            if not isinstance(items, list):
                raise TypeError("meetings is not a list")
            meetings = [_meeting(item) for item in items]
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ServiceUnavailable(self.service, f"unexpected answer: {error!r}") from error
        return sorted(meetings, key=lambda meeting: (meeting.start, meeting.name))


def _is_unknown_calendar(error: BaseException | None) -> bool:
    """Whether ``error`` is fedocal's 400 answer naming an invalid calendar."""
    response = getattr(error, "response", None)
    if not isinstance(error, requests.HTTPError) or response is None:
        return False
    if response.status_code != 400:
        return False
    try:
        message = response.json().get("error", "")
    except (ValueError, AttributeError):
        return False
    return isinstance(message, str) and message.startswith("Invalid calendar provided")


def _meeting(item: Any) -> Meeting:
    """One meeting of the API's answer; its dates and times are UTC."""
    managers = item.get("meeting_manager") or []
    if isinstance(managers, str):  # fedocal before 0.8 sent "pingou,ralph,"
        managers = [name.strip() for name in managers.split(",")]
    if not isinstance(managers, list) or not all(isinstance(name, str) for name in managers):
        raise TypeError("meeting_manager is not a list of names")
    meeting_id = item["meeting_id"]
    if not isinstance(meeting_id, int) or isinstance(meeting_id, bool):
        raise TypeError("meeting_id is not a number")
    return Meeting(
        id=meeting_id,
        name=_text(item, "meeting_name", required=True),
        calendar=_text(item, "calendar_name", required=True),
        start=_utc(item["meeting_date"], item["meeting_time_start"]),
        end=_utc(item["meeting_date_end"], item["meeting_time_stop"]),
        timezone=_text(item, "meeting_timezone") or "UTC",
        information=_text(item, "meeting_information"),
        location=_text(item, "meeting_location"),
        managers=tuple(name for name in managers if name),
    )


def _text(item: dict[str, Any], key: str, required: bool = False) -> str:
    value = item[key] if required else item.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise TypeError(f"{key} is not text")
    return value


def _utc(day: Any, time: Any) -> dt.datetime:
    if not (isinstance(day, str) and isinstance(time, str)):
        raise TypeError("a meeting's date or time is not text")
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time.fromisoformat(time), dt.UTC)
