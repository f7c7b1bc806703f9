"""GitHub: the open pull requests and issues of a repository, from its REST API."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import requests

from hubs.clients import (
    OpenItem,
    OpenItems,
    ServiceClient,
    ServiceUnavailable,
    iso_time,
    text,
    web_url,
)

MEDIA_TYPE = "application/vnd.github+json"
API_VERSION = "2022-11-28"
USER_AGENT = "fedora-hubs"
# The issues list mixes in pull requests: a full page leaves enough issues once they are dropped.
ISSUES_PAGE = 100
# How many pages of the issues list are read at most to find the issues among the pull
# requests.
ISSUE_PAGES = 3


class RateLimited(ServiceUnavailable):
    """GitHub refused to answer because the rate limit of our token (or address) is spent."""

    def __init__(self, service: str, resets: dt.datetime | None, detail: str = "") -> None:
        super().__init__(service, detail)
        self.resets = resets

    def __str__(self) -> str:
        when = f" until {self.resets:%H:%M} UTC" if self.resets else " for a while"
        return f"GitHub's rate limit was hit: {self.service} will not answer{when}."


def is_pull_request(issue: dict[str, Any]) -> bool:
    """Whether an issue of the API (or of a github2fedmsg message) is a pull request. Old
    answers gave every issue a "pull_request" whose links were all null."""
    links = issue.get("pull_request")
    return isinstance(links, dict) and any(links.values())


class GitHubClient(ServiceClient):
    URL_SETTING = "GITHUB_URL"

    def __init__(
        self,
        base_url: str,
        timeout: tuple[float, float],
        token: str | None = None,
        http: requests.Session | None = None,
    ) -> None:
        super().__init__(base_url, timeout, http)
        self.headers = {
            "Accept": MEDIA_TYPE,
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": USER_AGENT,
        }
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def repo_url(self, repo: str) -> str:
        """The repository's web page: api.github.com serves github.com (GitHub Enterprise
        serves its API under /api/v3/ of the web site)."""
        parts = urlsplit(self.base_url)
        host = parts.netloc.removeprefix("api.")
        path = parts.path.removesuffix("api/v3/")
        return f"{parts.scheme}://{host}{path}{quote(repo)}"

    def pulls_url(self, repo: str) -> str:
        return f"{self.repo_url(repo)}/pulls"

    def issues_url(self, repo: str) -> str:
        return f"{self.repo_url(repo)}/issues"

    def open_pull_requests(self, repo: str, limit: int) -> OpenItems:
        """Up to ``limit`` open pull requests of ``repo`` ("owner/name"), newest first."""
        response = self._get(f"repos/{quote(repo)}/pulls", state="open", per_page=limit)
        try:
            items = [_item(pull, draft=bool(pull.get("draft"))) for pull in _list(response)]
            total, more = _count(response, len(items))
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ServiceUnavailable(self.service, f"unexpected answer: {error}") from error
        return OpenItems(items=items, total=total, more=more)

    def open_issues(self, repo: str, limit: int) -> OpenItems:
        """Up to ``limit`` open issues of ``repo``, newest first, without pull requests.

        GitHub lists issues and pull requests together: pages are read until ``limit``
        issues are found, at most ISSUE_PAGES of them (each one a request counted by the
        rate limit); the total counts the issues of the pages read."""
        issues: list[OpenItem] = []
        for page in range(1, ISSUE_PAGES + 1):
            response = self._get(
                f"repos/{quote(repo)}/issues", state="open", per_page=ISSUES_PAGE, page=page
            )
            try:
                issues += [_item(issue) for issue in _list(response) if not is_pull_request(issue)]
            except (KeyError, TypeError, ValueError, AttributeError) as error:
                raise ServiceUnavailable(self.service, f"unexpected answer: {error}") from error
            if len(issues) >= limit or "next" not in response.links:
                break
        return OpenItems(items=issues[:limit], total=len(issues), more="next" in response.links)

    def _get(self, path: str, **params: Any) -> requests.Response:
        url = f"{self.base_url}{path}"
        try:
            response = self.http.get(url, params=params, headers=self.headers, timeout=self.timeout)
        except requests.RequestException as error:
            raise ServiceUnavailable(self.service, f"{url}: {error}") from error
        if _rate_limited(response):
            raise RateLimited(self.service, _reset_time(response), f"{url}: {response.text[:200]}")
        try:
            response.raise_for_status()
        except requests.HTTPError as error:
            raise ServiceUnavailable(self.service, f"{url}: {error}") from error
        return response


def _rate_limited(response: requests.Response) -> bool:
    """GitHub says "rate limit" with a 429, or with a 403 once no request is left (primary
    limit) or with a Retry-After (secondary limit); other 403s are plain refusals."""
    if response.status_code == 429:
        return True
    if response.status_code != 403:
        return False
    return (
        response.headers.get("x-ratelimit-remaining") == "0"
        or "retry-after" in response.headers
        or "rate limit" in response.text.lower()
    )


def _reset_time(response: requests.Response) -> dt.datetime | None:
    """When GitHub answers again: after Retry-After seconds (secondary limit), else when
    the primary limit resets."""
    retry_after = response.headers.get("retry-after", "")
    if retry_after.isdigit():
        return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=int(retry_after))
    reset = response.headers.get("x-ratelimit-reset", "")
    if reset.isdigit():
        return dt.datetime.fromtimestamp(int(reset), dt.UTC)
    return None


def _list(response: requests.Response) -> list[dict[str, Any]]:
    try:
        document = response.json()
    except ValueError as error:
        raise ValueError(f"the answer is not JSON: {error}") from error
    if not isinstance(document, list):
        raise TypeError("the answer is not a list")
    return document


def _count(response: requests.Response, shown: int) -> tuple[int, bool]:
    """How many are open, from the Link header: with a next page, all pages before the last
    are full."""
    if "next" not in response.links:
        return shown, False
    query = parse_qs(urlsplit(response.links.get("last", {}).get("url", "")).query)
    last_page = int(query.get("page", ["2"])[0])
    per_page = int(query.get("per_page", [str(shown)])[0])
    return max(shown + 1, (last_page - 1) * per_page + 1), True


def _item(item: dict[str, Any], draft: bool = False) -> OpenItem:
    number = item["number"]
    if isinstance(number, bool) or not isinstance(number, int):
        raise TypeError(f"number {number!r} is not a whole number")
    return OpenItem(
        number=number,
        title=text(item["title"]),
        author=text(item["user"]["login"]),
        created=iso_time(item["created_at"]),
        url=web_url(item["html_url"]),
        draft=draft,
    )
