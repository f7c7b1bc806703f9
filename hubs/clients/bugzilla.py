"""Red Hat Bugzilla: the open bugs of some Fedora packages, from its REST API (Bugzilla 5)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from hubs.clients import ServiceClient, ServiceUnavailable, get_json, iso_time, text

# Every status of Red Hat Bugzilla's Fedora workflow before CLOSED.
OPEN_STATUSES = (
    "NEW",
    "ASSIGNED",
    "POST",
    "MODIFIED",
    "ON_DEV",
    "ON_QA",
    "VERIFIED",
    "RELEASE_PENDING",
)
FIELDS = (
    "id",
    "summary",
    "status",
    "component",
    "product",
    "priority",
    "severity",
    "assigned_to",
    "creation_time",
    "last_change_time",
)
NEWEST_CHANGE_FIRST = "changeddate DESC"


@dataclass(frozen=True)
class Bug:
    id: int
    summary: str
    status: str
    component: str
    product: str
    priority: str
    severity: str
    assigned_to: str
    created: dt.datetime
    changed: dt.datetime


@dataclass(frozen=True)
class BugList:
    """Some open bugs, newest change first, and how many match in all."""

    bugs: list[Bug]
    total: int


class BugzillaClient(ServiceClient):
    URL_SETTING = "BUGZILLA_URL"

    def bug_url(self, bug_id: int) -> str:
        return f"{self.base_url}show_bug.cgi?id={bug_id}"

    def search_url(self, products: Sequence[str], components: Sequence[str]) -> str:
        """The same search as open_bugs(), as a page of Bugzilla's web interface."""
        query = open_bugs_query(products, components)
        return f"{self.base_url}buglist.cgi?{urlencode(query, doseq=True)}"

    def open_bugs(self, products: Sequence[str], components: Sequence[str], limit: int) -> BugList:
        """Up to ``limit`` open bugs of ``components`` in ``products``, newest change first."""
        params = {
            **open_bugs_query(products, components),
            "include_fields": ",".join(FIELDS),
            "limit": limit,
        }
        document = get_json(
            self.http, f"{self.base_url}rest/bug", self.service, self.timeout, **params
        )
        try:
            bugs, total = _bug_list(document)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ServiceUnavailable(self.service, f"unexpected answer: {error}") from error
        bugs.sort(key=lambda bug: bug.changed, reverse=True)
        return BugList(bugs=bugs[:limit], total=max(total, len(bugs)))


def open_bugs_query(products: Iterable[str], components: Iterable[str]) -> dict[str, Any]:
    """Search terms shared by the REST API and the web interface: each list means "any of"."""
    return {
        "product": list(products),
        "component": list(components),
        "bug_status": list(OPEN_STATUSES),
        "order": NEWEST_CHANGE_FIRST,
    }


def _bug_list(document: Any) -> tuple[list[Bug], int]:
    if not isinstance(document, dict):
        raise TypeError("the answer is not an object")
    if document.get("error"):
        raise ValueError(f"Bugzilla error {document.get('code')}: {document.get('message')}")
    items = document["bugs"]
    if not isinstance(items, list):
        raise TypeError("bugs is not a list")
    bugs = [_bug(item) for item in items]
    total = document.get("total_matches", len(bugs))  # Red Hat's Bugzilla counts all matches
    if isinstance(total, bool) or not isinstance(total, int):
        raise TypeError("total_matches is not a number")
    return bugs, total


def _bug(item: dict[str, Any]) -> Bug:
    bug_id = item["id"]
    if isinstance(bug_id, bool) or not isinstance(bug_id, int):
        raise TypeError(f"bug id {bug_id!r} is not a number")
    return Bug(
        id=bug_id,
        summary=text(item["summary"]),
        status=text(item["status"]),
        component=_names(item["component"]),
        product=text(item.get("product", "")),
        priority=text(item.get("priority", "")),
        severity=text(item.get("severity", "")),
        assigned_to=text(item.get("assigned_to", "")),
        created=iso_time(item["creation_time"]),
        changed=iso_time(item["last_change_time"]),
    )


def _names(value: Any) -> str:
    """A component: one name upstream, a list of names on Red Hat's Bugzilla."""
    if isinstance(value, list):
        return ", ".join(text(name) for name in value)
    return text(value)
