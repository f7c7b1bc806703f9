"""Pagure (pagure.io): the open issues and pull requests of a project, from its API (version 0)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from hubs.clients import (
    OpenItem,
    OpenItems,
    ServiceClient,
    ServiceUnavailable,
    get_json,
    text,
    whole_number,
)


@dataclass(frozen=True)
class _Kind:
    api_path: str  # the API's list: /api/0/<project>/<api_path>
    key: str  # where the answer holds the list
    web_path: str  # a page of the web interface: /<project>/<web_path>/<number>


ISSUES = _Kind(api_path="issues", key="issues", web_path="issue")
PULL_REQUESTS = _Kind(api_path="pull-requests", key="requests", web_path="pull-request")


class PagureClient(ServiceClient):
    URL_SETTING = "PAGURE_URL"

    def project_url(self, project: str) -> str:
        """The project's page; ``project`` is "name" or "namespace/name"."""
        return f"{self.base_url}{quote(project)}"

    def issues_url(self, project: str) -> str:
        return f"{self.project_url(project)}/issues"

    def pull_requests_url(self, project: str) -> str:
        return f"{self.project_url(project)}/pull-requests"

    def open_issues(self, project: str, limit: int) -> OpenItems:
        """Up to ``limit`` open issues of ``project``, newest first (private ones stay hidden:
        we ask without a token)."""
        return self._open(project, ISSUES, limit)

    def open_pull_requests(self, project: str, limit: int) -> OpenItems:
        """Up to ``limit`` open pull requests of ``project``, newest first."""
        return self._open(project, PULL_REQUESTS, limit)

    def _open(self, project: str, kind: _Kind, limit: int) -> OpenItems:
        url = f"{self.base_url}api/0/{quote(project)}/{kind.api_path}"
        document = get_json(
            self.http, url, self.service, self.timeout, status="Open", per_page=limit
        )
        try:
            return _ticket_list(document, kind, self.project_url(project))
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as error:
            raise ServiceUnavailable(self.service, f"unexpected answer: {error}") from error


def _ticket_list(document: Any, kind: _Kind, project_url: str) -> OpenItems:
    if not isinstance(document, dict):
        raise TypeError("the answer is not an object")
    items = document[kind.key]
    if not isinstance(items, list):
        raise TypeError(f"{kind.key} is not a list")
    tickets = [_ticket(item, f"{project_url}/{kind.web_path}/") for item in items]
    total, more = _count(document.get("pagination"), len(tickets))
    return OpenItems(items=tickets, total=total, more=more)


def _count(pagination: Any, shown: int) -> tuple[int, bool]:
    """How many are open, from the pagination: "total_issues" and "total_requests" only
    count the page itself. With more than one page, at least all but the last are full."""
    if pagination is None:  # a Pagure older than pagination answers with every one
        return shown, False
    if not isinstance(pagination, dict):
        raise TypeError("pagination is not an object")
    pages, per_page = whole_number(pagination["pages"]), whole_number(pagination["per_page"])
    if pages <= 1:
        return shown, False
    return max(shown, (pages - 1) * per_page + 1), True


def _ticket(item: dict[str, Any], url_prefix: str) -> OpenItem:
    number = whole_number(item["id"])
    return OpenItem(
        number=number,
        title=text(item["title"]),
        author=text(item["user"]["name"]),
        created=_timestamp(item["date_created"]),
        url=f"{url_prefix}{number}",
    )


def _timestamp(value: Any) -> dt.datetime:
    """Pagure's dates: seconds since 1970, as a string ("1431414800")."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise TypeError(f"{value!r} is not a timestamp")
    return dt.datetime.fromtimestamp(float(value), dt.UTC)
