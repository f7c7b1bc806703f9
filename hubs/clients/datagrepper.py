"""Datagrepper, the HTTP API over datanommer (every message Fedora's bus carried).

``GET /v2/search`` answers ``{"raw_messages", "total", "pages", "count", "arguments"}``;
each raw message is a fedora-messaging message as a dict (``topic``, ``headers``, ``id``,
``body``, ``priority``, ``queue``), a fedmsg-era one included (its headers hold only
``sent-at``). The client turns each into a ``fedora_messaging.message.Message`` of its
schema class, the same value an AMQP delivery gives, so a backfilled message is read
exactly as a live one (hubs.messaging.bus_message).

A polite client: one request at a time, at most one per ``min_interval`` seconds, and a
429 or 503 answer waits for its Retry-After (or an exponential back-off) and asks again.
"""

from __future__ import annotations

import contextlib
import email.utils
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import requests
from fedora_messaging import exceptions as fm_exceptions
from fedora_messaging import message as fm_message

from hubs.clients import ServiceClient, ServiceUnavailable, whole_number

# datagrepper refuses more (werkzeug BadRequest "rows_per_page must be <= 100").
MAX_ROWS_PER_PAGE = 100
# Answers asking the client to slow down; any other error is an outage.
BACK_OFF_STATUSES = (429, 503)


@dataclass(frozen=True)
class SearchPage:
    """One page of a search: the messages that load (in the order asked), the raw
    messages that do not (each described in a few words), and the totals."""

    messages: list[fm_message.Message]
    invalid: list[str]
    total: int
    pages: int
    page: int

    @property
    def last(self) -> bool:
        return self.page >= self.pages


@dataclass
class Politeness:
    """How hard the client may press: the gap between two requests, and how long it
    waits for a service that asks it to slow down (429/503) before giving up."""

    min_interval: float = 0.2
    max_back_off: float = 60.0
    tries: int = 6
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)


class DatagrepperClient(ServiceClient):
    URL_SETTING = "DATAGREPPER_URL"

    def __init__(
        self,
        base_url: str,
        timeout: tuple[float, float],
        http: requests.Session | None = None,
        politeness: Politeness | None = None,
    ) -> None:
        super().__init__(base_url, timeout, http)
        self.politeness = politeness or Politeness()
        self.backed_off = 0  # how many times a 429/503 made it wait
        self._lock = threading.Lock()
        self._last_request = 0.0

    def search(
        self,
        *,
        users: Sequence[str],
        start: float,
        end: float,
        page: int = 1,
        rows_per_page: int = MAX_ROWS_PER_PAGE,
    ) -> SearchPage:
        """The messages involving any of ``users`` sent in [start, end] (POSIX times),
        oldest first: with a fixed end, later pages do not shift as new messages come."""
        params: dict[str, Any] = {
            "user": list(users),
            "start": f"{start:.6f}",
            "end": f"{end:.6f}",
            "page": page,
            "rows_per_page": min(rows_per_page, MAX_ROWS_PER_PAGE),
            "order": "asc",
        }
        document = self._get("v2/search", params)
        try:
            return _search_page(document, page)
        except (KeyError, TypeError, ValueError) as error:
            raise ServiceUnavailable(self.service, f"unexpected answer: {error}") from error

    def message(self, msg_id: str) -> fm_message.Message | None:
        """One message by its id; None when datagrepper does not have it."""
        try:
            document = self._get("v2/id", {"id": msg_id})
        except ServiceUnavailable as error:
            cause = error.__cause__
            if isinstance(cause, requests.HTTPError) and cause.response.status_code == 404:
                return None
            raise
        try:
            return load_message(document)
        except (fm_exceptions.ValidationError, TypeError) as error:
            raise ServiceUnavailable(self.service, f"unexpected answer: {error}") from error

    def _get(self, path: str, params: dict[str, Any]) -> Any:
        url = self.base_url + path
        polite = self.politeness
        for attempt in range(polite.tries):
            with self._lock:
                self._wait_turn()
                try:
                    response = self.http.get(url, params=params, timeout=self.timeout)
                except requests.RequestException as error:
                    raise ServiceUnavailable(self.service, f"{url}: {error}") from error
            if response.status_code in BACK_OFF_STATUSES and attempt + 1 < polite.tries:
                self.backed_off += 1
                polite.sleep(_retry_after(response, attempt, polite.max_back_off))
                continue
            try:
                response.raise_for_status()
                return response.json()
            except (requests.RequestException, ValueError) as error:
                raise ServiceUnavailable(self.service, f"{url}: {error}") from error
        raise AssertionError("unreachable: the last try returns or raises")

    def _wait_turn(self) -> None:
        gap = self._last_request + self.politeness.min_interval - time.monotonic()
        if gap > 0:
            self.politeness.sleep(gap)
        self._last_request = time.monotonic()


def _retry_after(response: requests.Response, attempt: int, cap: float) -> float:
    """Seconds to wait: the answer's Retry-After (seconds or an HTTP date), else 1, 2,
    4... seconds; never more than ``cap``."""
    header = response.headers.get("Retry-After", "").strip()
    wait = float(2**attempt)
    if header.isdigit():
        wait = float(header)
    elif header:
        with contextlib.suppress(TypeError, ValueError):
            wait = email.utils.parsedate_to_datetime(header).timestamp() - time.time()
    return min(max(wait, 0.0), cap)


def _search_page(document: Any, page: int) -> SearchPage:
    if not isinstance(document, dict):
        raise TypeError("the answer is not an object")
    raw = document["raw_messages"]
    if not isinstance(raw, list):
        raise TypeError("raw_messages is not a list")
    messages, invalid = [], []
    for item in raw:
        try:
            messages.append(load_message(item))
        except (fm_exceptions.ValidationError, TypeError) as error:
            invalid.append(_describe(item, error))
    return SearchPage(
        messages=messages,
        invalid=invalid,
        total=whole_number(document["total"]),
        pages=whole_number(document["pages"]),
        page=page,
    )


# fedora_messaging.message.load_message() checks its own schema before each message
# (a few milliseconds each); checked once, the validator reads a page in no time.
_SERIALIZED = jsonschema.Draft4Validator(fm_message.SERIALIZED_MESSAGE_SCHEMA)


def load_message(item: Any) -> fm_message.Message:
    """A message dict (``topic``, ``headers``, ``id``, ``body``...) as the Message of its
    schema class, as fedora_messaging.message.load_message() builds it; raises
    fedora_messaging's ValidationError for a dict of another shape."""
    if not isinstance(item, dict):
        raise TypeError(f"{str(item)[:40]!r} is not a message")
    error = jsonschema.exceptions.best_match(_SERIALIZED.iter_errors(item))
    if error is not None:
        raise fm_exceptions.ValidationError(error)
    headers = item.get("headers") or {}
    schema = headers.get("fedora_messaging_schema")
    cls = fm_message.get_class(schema) if schema else fm_message.Message
    message = cls(
        body=item["body"],
        topic=item["topic"],
        headers=headers,
        severity=headers.get("fedora_messaging_severity"),
    )
    if "sent-at" in headers:  # the constructor stamped its own
        message._headers["sent-at"] = headers["sent-at"]
    if "id" in item:
        message.id = item["id"]
    message.queue = item.get("queue")
    message.priority = item.get("priority")
    return message


def _describe(item: Any, error: Exception) -> str:
    name = item.get("id") if isinstance(item, dict) else None
    return f"{name or 'a message'}: {str(error).splitlines()[0][:120]}"
