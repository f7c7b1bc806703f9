"""Demo mode's transport: the external services' clients get their answers from the
recordings of hubs/demo/services/ instead of the network.

``routes.json`` there lists, for each service (by the setting naming its base URL), which
recorded answer serves which request: the first route whose path (below the base URL, with
``*`` wildcards) and query values match. Every date a recording holds is moved forward by
whole weeks on replay, so the demo never looks older than a week and weekly meetings keep
their weekday. See the folder's README for where each answer's shape comes from.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import functools
import io
import json
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from hubs.demo import SERVICE_RECORDINGS

SERVICES = SERVICE_RECORDINGS
ROUTES = SERVICES / "routes.json"
WEEK = dt.timedelta(weeks=1)


@functools.cache
def routes() -> dict[str, Any]:
    """routes.json, read once."""
    with open(ROUTES) as handle:
        return json.load(handle)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def replay_shift(now: dt.datetime) -> dt.timedelta:
    """How far the recordings' dates move at ``now``: the whole weeks since they were made."""
    recorded = dt.datetime.fromisoformat(routes()["recorded"])
    return max(now - recorded, dt.timedelta(0)) // WEEK * WEEK


class RecordedService(BaseAdapter):
    """A requests transport answering one service's requests from its recordings."""

    def __init__(self, setting: str, base_url: str, now: dt.datetime | None = None) -> None:
        super().__init__()
        service = routes()["services"][setting]
        self.answers: list[dict[str, Any]] = service["answers"]
        self.dates = frozenset(service["dates"])
        self.base_path = urlsplit(base_url).path.rstrip("/") + "/"
        self.now = now

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        parts = urlsplit(request.url)
        path = unquote(parts.path).removeprefix(self.base_path)
        query = parse_qs(parts.query)
        answer = next((a for a in self.answers if _matches(a, path, query)), None)
        if request.method != "GET" or answer is None:
            status, document = 404, {"error": f"No demo recording answers {request.method} /{path}"}
        else:
            with open(SERVICES / answer["file"]) as handle:
                document = json.load(handle)
            shift = replay_shift(self.now or _now())
            document = _moved(document, self.dates, shift)
            status = answer.get("status", 200)
        return _response(request, status, json.dumps(document).encode())

    def close(self) -> None:
        """Nothing to close: no connection is ever opened."""


def demo_session(setting: str, base_url: str) -> requests.Session:
    """An HTTP session whose every request, whatever its address, is answered from the
    recordings of the service named by ``setting``: demo mode never reaches the network."""
    session = requests.Session()
    transport = RecordedService(setting, base_url)
    session.mount("http://", transport)
    session.mount("https://", transport)
    return session


def _matches(answer: dict[str, Any], path: str, query: dict[str, list[str]]) -> bool:
    if not fnmatch.fnmatchcase(path, answer["path"]):
        return False
    for name, wanted in answer.get("query", {}).items():
        values = wanted if isinstance(wanted, list) else [wanted]
        if sorted(query.get(name, [])) != sorted(values):
            return False
    return True


def _response(request: requests.PreparedRequest, status: int, body: bytes) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.reason = HTTPStatus(status).phrase
    response.headers = CaseInsensitiveDict(
        {"Content-Type": "application/json", "Content-Length": str(len(body))}
    )
    response.raw = io.BytesIO(body)
    response.encoding = "utf-8"
    response.url = request.url
    response.request = request
    return response


def _moved(document: Any, keys: frozenset[str], shift: dt.timedelta) -> Any:
    """``document`` with the values of ``keys``, wherever they are, ``shift`` later."""
    if isinstance(document, list):
        return [_moved(item, keys, shift) for item in document]
    if not isinstance(document, dict):
        return document
    return {
        key: _later(value, shift) if key in keys else _moved(value, keys, shift)
        for key, value in document.items()
    }


def _later(value: Any, shift: dt.timedelta) -> Any:
    """A date as the services write them, ``shift`` later: seconds since 1970 (a number, or
    digits as text: badges, pagure), "YYYY-MM-DD" (fedocal), "YYYY-MM-DD HH:MM:SS" (bodhi)
    or ISO 8601 with a zone (bugzilla, github). Anything else (null) stays as it is."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return value + type(value)(shift.total_seconds())
    if not isinstance(value, str):
        return value
    if value.isdigit():
        return str(int(value) + int(shift.total_seconds()))
    if len(value) == 10:
        return (dt.date.fromisoformat(value) + shift).isoformat()
    if len(value) == 19 and value[10] == " ":
        return (dt.datetime.fromisoformat(value) + shift).strftime("%Y-%m-%d %H:%M:%S")
    moved = dt.datetime.fromisoformat(value) + shift
    return moved.strftime("%Y-%m-%dT%H:%M:%SZ") if value.endswith("Z") else moved.isoformat()
