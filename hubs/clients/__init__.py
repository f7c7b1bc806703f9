"""One small client per external service, each with timeouts and typed results."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self
from urllib.parse import urlsplit

import requests

from hubs.demo.recorded import demo_session


class ServiceUnavailable(RuntimeError):
    """An external service could not be reached or answered nonsense. Its message is
    safe to show: it names the service, not the details (those go to the log)."""

    def __init__(self, service: str, detail: str = "") -> None:
        self.service = service
        self.detail = detail
        super().__init__(f"Could not reach {service} right now.")

    @property
    def reason(self) -> str:
        """What went wrong, in a few words, for the one log line of an outage."""
        cause = self.__cause__
        if isinstance(cause, requests.Timeout):
            return "timed out"
        if isinstance(cause, requests.ConnectionError):
            return "cannot connect"
        if isinstance(cause, requests.HTTPError) and cause.response is not None:
            return f"HTTP {cause.response.status_code}"
        return "unexpected answer"


def get_json(
    http: requests.Session,
    url: str,
    service: str,
    timeout: tuple[float, float],
    *,
    headers: dict[str, str] | None = None,
    **params: Any,
) -> Any:
    """GET ``url`` and decode its JSON, or raise ServiceUnavailable naming ``service``.
    ``headers`` go with this request only (the session may be shared)."""
    try:
        response = http.get(url, params=params or None, headers=headers, timeout=timeout)
        response.raise_for_status()
        return response.json()
    except (requests.RequestException, ValueError) as error:
        raise ServiceUnavailable(service, f"{url}: {error}") from error


# Readers of the fields of an answer: each returns the value, or raises TypeError or
# ValueError, which the clients turn into ServiceUnavailable with the rest of a
# malformed answer.


def text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{value!r} is not text")
    return value


def whole_number(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{value!r} is not a whole number")
    return value


def iso_time(value: Any) -> dt.datetime:
    """An ISO 8601 time, in UTC (one without a zone is taken as UTC)."""
    when = dt.datetime.fromisoformat(text(value))
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)


def web_url(value: Any) -> str:
    """A link a service gave for people to follow: http or https only (anything else,
    such as a javascript: URL, is an answer to refuse)."""
    if not isinstance(value, str) or urlsplit(value.strip()).scheme.lower() not in (
        "http",
        "https",
    ):
        raise TypeError(f"{value!r} is not an http(s) link")
    return value.strip()


@dataclass(frozen=True)
class OpenItem:
    """An open issue or pull request of a forge (pagure, GitHub)."""

    number: int
    title: str
    author: str
    created: dt.datetime
    url: str
    draft: bool = False  # a pull request not ready for review (GitHub's)


@dataclass(frozen=True)
class OpenItems:
    """The newest open issues (or pull requests) of a project, and how many are open:
    ``total`` is exact, or only a lower bound when ``more`` says others did not fit."""

    items: list[OpenItem]
    total: int
    more: bool


class ServiceClient:
    """What every client has: the service's base URL, its name for error messages (its
    host), the connect and read timeouts, and one HTTP session."""

    # The setting holding the service's base URL (hubs/default_config.py).
    URL_SETTING: ClassVar[str]

    @classmethod
    def from_config(cls, config: Mapping[str, Any], **options: Any) -> Self:
        """The client of the service as ``config`` sets it: its URL and timeouts and, in
        demo mode, recorded answers (hubs/demo/services/) instead of the network."""
        base_url = config[cls.URL_SETTING]
        http = demo_session(cls.URL_SETTING, base_url) if config["DEMO_MODE"] else None
        return cls(base_url, tuple(config["SERVICE_TIMEOUT"]), http=http, **options)

    def __init__(
        self, base_url: str, timeout: tuple[float, float], http: requests.Session | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.service = urlsplit(base_url).netloc or base_url
        self.timeout = tuple(timeout)
        self.http = http or requests.Session()
