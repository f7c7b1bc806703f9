"""Fedora Badges (Tahrir): the badges a person was awarded, from its JSON API."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import quote

from hubs.clients import ServiceClient, ServiceUnavailable, get_json, web_url


@dataclass(frozen=True)
class Badge:
    id: str
    name: str
    description: str
    image: str
    issued: dt.datetime


class BadgesClient(ServiceClient):
    URL_SETTING = "BADGES_URL"

    def user_badges(self, username: str) -> list[Badge]:
        """The user's badges, newest first; [] for someone with none."""
        url = f"{self.base_url}user/{quote(username, safe='')}/json"
        document = get_json(self.http, url, self.service, self.timeout)
        try:
            badges = [
                Badge(
                    id=str(item["id"]),
                    name=str(item["name"]),
                    description=str(item.get("description") or ""),
                    image=web_url(item["image"]) if item.get("image") else "",
                    issued=dt.datetime.fromtimestamp(float(item["issued"]), dt.UTC),
                )
                for item in document.get("assertions") or []
            ]
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ServiceUnavailable(self.service, f"unexpected answer: {error}") from error
        return sorted(badges, key=lambda badge: badge.issued, reverse=True)
