"""Bodhi: a packager's updates in testing, from its REST API (GET /updates/)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from hubs.clients import ServiceClient, ServiceUnavailable, get_json

# Bodhi answers up to 1000 rows a page; 100 a page and 3 pages cover any packager's
# updates in testing while keeping one rebuild to a few requests.
ROWS_PER_PAGE = 100
MAX_PAGES = 3


@dataclass(frozen=True)
class Update:
    alias: str
    title: str
    builds: tuple[str, ...]
    release: str
    submitter: str
    status: str
    request: str | None
    karma: int
    stable_karma: int | None
    meets_testing_requirements: bool
    date_testing: dt.datetime | None

    @property
    def can_be_pushed_to_stable(self) -> bool:
        """In testing, past its testing requirements, and with nothing requested yet."""
        return self.status == "testing" and self.meets_testing_requirements and not self.request


# Bodhi picks its answer's format from Accept: HTML for browsers, JSON here.
ACCEPT_JSON = {"Accept": "application/json"}


class BodhiClient(ServiceClient):
    URL_SETTING = "BODHI_URL"

    def __init__(
        self,
        base_url: str,
        timeout: tuple[float, float],
        http: requests.Session | None = None,
        rows_per_page: int = ROWS_PER_PAGE,
        max_pages: int = MAX_PAGES,
    ) -> None:
        super().__init__(base_url, timeout, http)
        self.rows_per_page = rows_per_page
        self.max_pages = max_pages

    def update_url(self, alias: str) -> str:
        """The page of one update on Bodhi."""
        return f"{self.base_url}updates/{quote(alias, safe='')}"

    def user_updates_url(self, username: str) -> str:
        """Bodhi's page listing the user's updates in testing."""
        return f"{self.base_url}updates/?user={quote(username, safe='')}&status=testing"

    def updates_in_testing(self, username: str) -> list[Update]:
        """The user's updates in testing, newest submitted first (Bodhi's order), read
        page by page up to ``max_pages``; [] for someone with none."""
        updates: list[Update] = []
        page = pages = 1
        while page <= min(pages, self.max_pages):
            document = get_json(
                self.http,
                f"{self.base_url}updates/",
                self.service,
                self.timeout,
                headers=ACCEPT_JSON,
                user=username,
                status="testing",
                rows_per_page=self.rows_per_page,
                page=page,
            )
            try:
                updates.extend(_update(item) for item in _field(document, "updates", list))
                pages = _field(document, "pages", int)
            except (KeyError, TypeError, ValueError) as error:
                raise ServiceUnavailable(self.service, f"unexpected answer: {error}") from error
            page += 1
        return updates


def _field(document: Any, key: str, kind: type | tuple[type, ...]) -> Any:
    """``document[key]``, checked to be of ``kind`` (a bool is no number here)."""
    if not isinstance(document, dict):
        raise TypeError(f"expected an object holding {key!r}")
    value = document[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise TypeError(f"{key!r} is {type(value).__name__}, not {kind}")
    return value


def _date(value: str | None) -> dt.datetime | None:
    """Bodhi's dates are "2019-06-10 14:02:11" in UTC."""
    if value is None:
        return None
    return dt.datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)


def _update(item: Any) -> Update:
    """One update of Bodhi's answer, or TypeError/KeyError/ValueError when malformed."""
    return Update(
        alias=_field(item, "alias", str),
        title=_field(item, "title", str),
        builds=tuple(_field(build, "nvr", str) for build in _field(item, "builds", list)),
        release=_field(_field(item, "release", dict), "name", str),
        submitter=_field(_field(item, "user", dict), "name", str),
        status=_field(item, "status", str),
        request=_field(item, "request", (str, type(None))),
        karma=_field(item, "karma", int),
        stable_karma=_field(item, "stable_karma", (int, type(None))),
        meets_testing_requirements=_field(item, "meets_testing_requirements", bool),
        date_testing=_date(_field(item, "date_testing", (str, type(None)))),
    )
