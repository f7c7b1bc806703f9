"""FASJSON, the JSON API of Fedora's account system (groups and their people).

Production FASJSON wants Kerberos (GSSAPI); FASJSON_AUTH = "gssapi" turns it on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import quote

import requests

from hubs.clients import ServiceClient


class FasjsonError(RuntimeError):
    """FASJSON could not be reached, or answered something unexpected."""


@dataclass(frozen=True)
class Group:
    name: str
    description: str = ""
    mailing_list: str | None = None
    url: str | None = None
    irc: list[str] = field(default_factory=list)


class FasjsonClient(ServiceClient):
    def __init__(
        self,
        base_url: str,
        timeout: tuple[float, float] = (5, 30),
        auth: str = "none",
        http: requests.Session | None = None,
        page_size: int = 100,
    ) -> None:
        super().__init__(base_url, timeout, http)
        self.page_size = page_size
        if auth == "gssapi":
            from requests_gssapi import HTTPSPNEGOAuth

            self.http.auth = HTTPSPNEGOAuth(mutual_authentication="OPTIONAL")

    def _get(self, path: str, **params) -> dict:
        url = self.base_url + path
        try:
            response = self.http.get(url, params=params, timeout=self.timeout)
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as error:
            raise FasjsonError(f"FASJSON at {self.base_url}: {error}") from error
        if not isinstance(document, dict) or "result" not in document:
            raise FasjsonError(f"FASJSON at {url} answered without a result")
        return document

    def _pages(self, path: str) -> Iterator[dict]:
        number = 1
        while True:
            document = self._get(path, page_size=self.page_size, page_number=number)
            yield from document["result"]
            page = document.get("page") or {}
            if number >= int(page.get("total_pages") or 1):
                return
            number += 1

    def group_names(self) -> list[str]:
        return [item["groupname"] for item in self._pages("v1/groups/")]

    def group(self, name: str) -> Group:
        result = self._get(f"v1/groups/{_segment(name)}/")["result"]
        return Group(
            name=result["groupname"],
            description=result.get("description") or "",
            mailing_list=result.get("mailing_list"),
            url=result.get("url"),
            irc=list(result.get("irc") or []),
        )

    def members(self, name: str) -> list[str]:
        return sorted(
            item["username"] for item in self._pages(f"v1/groups/{_segment(name)}/members/")
        )

    def sponsors(self, name: str) -> list[str]:
        return sorted(
            item["username"] for item in self._pages(f"v1/groups/{_segment(name)}/sponsors/")
        )


def _segment(name: str) -> str:
    """A group name as one path segment of a URL ("a/b" cannot reach another route)."""
    return quote(name, safe="")
