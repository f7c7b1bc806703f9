"""A local datagrepper for the tests and benches: an HTTP server answering ``/v2/search``
and ``/v2/id`` as datagrepper 1.1.0 does (tests/data/datagrepper/README.md says where
each part of the shape comes from), over an archive of real corpus messages.

Faults are queued on the server: ``answer_next(429, {"Retry-After": "1"})`` makes the
next request get that status, ``stall_next(seconds)`` delays the next answer (a slow
datagrepper), and ``down`` refuses every request with a closed connection.
"""

from __future__ import annotations

import collections
import copy
import datetime as dt
import http.server
import itertools
import json
import math
import pathlib
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from hubs.bus import message_people_and_packages
from hubs.clients.datagrepper import load_message
from hubs.messaging import bus_message

SCHEMA_CORPUS = (
    pathlib.Path(__file__).parent / "data" / "fedora-messaging-corpus" / "messages.jsonl"
)


def iso(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat()


def from_fedmsg(message: dict, when: float, msg_id: str) -> dict:
    """A fedmsg-era message as datanommer's ``as_fedora_message_dict`` gives it: its
    body, headers holding only ``sent-at`` (fedmsg had none), priority 0, no queue."""
    return {"body": copy.deepcopy(message["msg"]), "headers": {"sent-at": iso(when)},
            "id": msg_id, "priority": 0, "queue": None, "topic": message["topic"]}  # fmt: skip


def from_schema_corpus(line: dict, when: float, msg_id: str) -> dict:
    """A fedora-messaging message of the schema corpus as datanommer keeps it: its
    headers (schema, severity, the user/package filter headers) with a new ``sent-at``."""
    headers = {**copy.deepcopy(line["headers"]), "sent-at": iso(when)}
    return {"body": copy.deepcopy(line["body"]), "headers": headers, "id": msg_id,
            "priority": headers.get("priority", 0), "queue": None,
            "topic": line.get("topic_full") or line["topic"]}  # fmt: skip


def schema_corpus() -> list[dict]:
    with open(SCHEMA_CORPUS) as handle:
        return [json.loads(line) for line in handle]


def involving(username: str, fedmsg_corpus: list[dict]) -> list[tuple[str, dict]]:
    """The corpus messages of both buses involving ``username`` (as the bus's reader
    finds them), as ("fedmsg", message) and ("schema", line) pairs, the two kinds taken
    in turn while both last."""
    fedmsg = [("fedmsg", e["msg"]) for e in fedmsg_corpus
              if username in message_people_and_packages(e["msg"])[0]]  # fmt: skip
    schema = []
    for line in schema_corpus():
        raw = from_schema_corpus(line, time.time(), line["id"])
        if username in message_people_and_packages(bus_message(load_message(raw)))[0]:
            schema.append(("schema", line))
    turns = itertools.zip_longest(fedmsg, schema)
    return [source for pair in turns for source in pair if source is not None]


def history(
    username: str, count: int, fedmsg_corpus: list[dict], days: float = 29, end: float | None = None
) -> list[dict]:
    """``count`` raw messages involving ``username``, oldest first, spread evenly over the
    ``days`` before ``end``: the corpus's messages about them, taken in turn, each time
    under a new id (real bodies, so the feed reads them as it reads live ones)."""
    sources = involving(username, fedmsg_corpus)
    end = time.time() - 60 if end is None else end
    step = days * 86400 / count
    raw = []
    for number, (kind, source) in zip(range(count), itertools.cycle(sources), strict=False):
        when = end - (count - number) * step
        msg_id = f"{username}-history-{number:05d}"
        build = from_fedmsg if kind == "fedmsg" else from_schema_corpus
        raw.append(build(source, when, msg_id))
    return raw


def sent_at(raw: dict) -> float:
    return dt.datetime.fromisoformat(raw["headers"]["sent-at"]).timestamp()


def users_of(raw: dict) -> frozenset[str]:
    """Whom datanommer indexed the message under: what the schema class (or fedmsg.meta)
    says, as the bus's reader says it."""
    return frozenset(message_people_and_packages(bus_message(load_message(raw)))[0])


@dataclass
class Archive:
    """What datanommer holds: raw messages and the users each is indexed under."""

    messages: list[dict] = field(default_factory=list)
    _users: list[frozenset[str]] = field(default_factory=list)

    def add(self, raw: Iterable[dict]) -> None:
        for message in raw:
            self.messages.append(message)
            self._users.append(users_of(message))

    def search(self, users: list[str], start: float, end: float) -> list[dict]:
        wanted = set(users)
        return [
            message
            for message, people in zip(self.messages, self._users, strict=True)
            if start <= sent_at(message) <= end and (not wanted or wanted & people)
        ]


class BadRequest(Exception):
    """An argument datagrepper refuses (it answers 400)."""


class Datagrepper(http.server.ThreadingHTTPServer):
    """Serves an Archive on 127.0.0.1 (a free port)."""

    daemon_threads = True

    def __init__(self, archive: Archive | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.archive = archive or Archive()
        self.url = f"http://127.0.0.1:{self.server_port}/"
        self.requests: list[dict[str, list[str]]] = []
        self.faults: collections.deque = collections.deque()
        self.down = False
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    def __enter__(self) -> Datagrepper:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=5)

    def answer_next(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.faults.append(("status", status, headers or {}))

    def stall_next(self, seconds: float) -> None:
        self.faults.append(("stall", seconds, {}))

    def search_requests(self) -> list[dict[str, list[str]]]:
        return [query for query in self.requests if query.get("path") == ["/v2/search"]]

    # -- answers, as datagrepper's views build them -----------------------------------

    def search_answer(self, query: dict[str, list[str]]) -> dict:
        """datagrepper.app.raw(): the JSON branch, for the arguments Hubs sends."""
        start = float(query["start"][0]) if "start" in query else None
        end = float(query["end"][0]) if "end" in query else None
        page = int(query.get("page", ["1"])[0])
        if page < 1:
            raise BadRequest("page must be > 0")
        rows_per_page = int(query.get("rows_per_page", ["25"])[0])
        if rows_per_page > 100:
            raise BadRequest("rows_per_page must be <= 100")
        order = query.get("order", ["desc"])[0]
        if order not in ("desc", "asc"):
            raise BadRequest("order must be either 'desc' or 'asc'")
        now = time.time()
        end = now if end is None else end
        start = 0.0 if start is None else start
        users = query.get("user", [])
        found = sorted(self.archive.search(users, start, end), key=sent_at,
                       reverse=order == "desc")  # fmt: skip
        total = len(found)
        pages = math.ceil(total / rows_per_page)
        messages = found[rows_per_page * (page - 1) : rows_per_page * page]
        arguments = {
            "start": start, "delta": end - start, "end": end, "users": users,
            "packages": query.get("package", []), "categories": query.get("category", []),
            "topics": query.get("topic", []), "agents": query.get("agent", []),
            "contains": query.get("contains", []), "not_users": [], "not_packages": [],
            "not_categories": [], "not_topics": [], "not_agents": [], "page": page,
            "rows_per_page": rows_per_page, "order": order, "meta": query.get("meta", []),
        }  # fmt: skip
        return {"raw_messages": messages, "total": total, "pages": pages,
                "count": len(messages), "arguments": arguments}  # fmt: skip


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Datagrepper
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args) -> None:
        """Quiet: the tests read server.requests."""

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        self.server.requests.append({**query, "path": [url.path]})
        if self.server.down:
            self.close_connection = True
            self.connection.close()
            return
        if self.server.faults:
            kind, value, headers = self.server.faults.popleft()
            if kind == "stall":  # a slow datagrepper: the stall's own length, no condition
                threading.Event().wait(value)
            else:
                self._send(value, {"error": f"status {value}"}, headers)
                return
        try:
            if url.path.rstrip("/") == "/v2/search":
                self._send(200, self.server.search_answer(query))
            elif url.path.rstrip("/") == "/v2/id":
                self._by_id(query)
            else:
                self._send(404, {"error": "not found"})
        except (BadRequest, ValueError) as error:
            self._send(400, {"error": str(error)})

    def _by_id(self, query: dict[str, list[str]]) -> None:
        if "id" not in query:
            self._send(400, {"error": "id is required"})
            return
        found = [m for m in self.server.archive.messages if m["id"] == query["id"][0]]
        if found:
            self._send(200, found[0])
        else:
            self._send(404, {"error": "not found"})

    def _send(self, status: int, document: dict, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
