"""hubs-sse's door: what a connection must do before its request is served.

Each accepted connection is wrapped in a ``Guard`` protocol, which reads the request's
head, hands the connection to the protocol its route says (hubs-sse's own for a stream,
aiohttp's request handler for anything else), and adds two limits:

- at most ``SSE_MAX_CONNECTIONS_PER_CLIENT`` open connections per client address
  (0: no limit, e.g. behind a proxy that limits them itself); the next one is answered
  429 and closed at once;
- the request's headers must arrive within ``SSE_HEADER_TIMEOUT_SECONDS``: a client
  that opens connections and sends nothing, or half a request, is closed then.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Callable

from hubs.errors import error_document

log = logging.getLogger("hubs.sse")

END_OF_HEADERS = b"\r\n\r\n"
# A head not whole by this size goes to aiohttp unread, which answers it 400.
MAX_HEAD_BYTES = 32 * 1024

# Given a request's whole head (None: one too long to be read whole), the protocol
# that serves the connection from its first byte.
Route = Callable[["bytes | None"], asyncio.Protocol]


def raw_response(status: int, reason: str, message: str, headers: dict[str, str]) -> bytes:
    """A whole HTTP/1.1 response that closes its connection, for a refusal."""
    body = json.dumps(error_document(status, message)).encode()
    lines = [
        f"HTTP/1.1 {status} {reason}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Door:
    """The shared state of every Guard of one listening socket."""

    def __init__(self, route: Route, config: dict, headers: dict) -> None:
        self.route = route
        self.per_client = int(config["SSE_MAX_CONNECTIONS_PER_CLIENT"])
        self.header_timeout = float(config["SSE_HEADER_TIMEOUT_SECONDS"])
        self.headers = headers
        self.open: Counter[str] = Counter()
        self.refused = 0  # over the per-client limit
        self.timed_out = 0  # no whole request in time

    def __call__(self) -> Guard:
        return Guard(self)


class Guard(asyncio.Protocol):
    """One connection: counted per client, given a deadline for its headers, and then
    its route's protocol's from the first byte to the last."""

    __slots__ = ("client", "deadline", "door", "head", "inner", "transport")

    def __init__(self, door: Door) -> None:
        self.door = door
        self.inner: asyncio.Protocol | None = None
        self.client: str | None = None
        self.transport: asyncio.Transport | None = None
        self.deadline: asyncio.TimerHandle | None = None
        # The request's head as it comes; then, while a head handed on unfinished is
        # not all in, its last bytes read.
        self.head = b""

    def connection_made(self, transport) -> None:
        door = self.door
        self.transport = transport
        peer = transport.get_extra_info("peername")
        client = peer[0] if isinstance(peer, tuple) else str(peer)
        if door.per_client and door.open[client] >= door.per_client:
            door.refused += 1
            message = f"at most {door.per_client} streams are open per client"
            transport.write(raw_response(429, "Too Many Requests", message, door.headers))
            # Half-close, so that the answer arrives (closing with the request unread
            # would reset the connection); the client has the header timeout to go.
            transport.write_eof()
            self.deadline = asyncio.get_running_loop().call_later(
                door.header_timeout, transport.abort
            )
            return
        self.client = client
        door.open[client] += 1
        self.deadline = asyncio.get_running_loop().call_later(door.header_timeout, self._too_slow)

    def _too_slow(self) -> None:
        self.door.timed_out += 1
        self.deadline = None
        self.transport.abort()

    def data_received(self, data: bytes) -> None:
        if self.client is None:
            return  # refused
        if self.inner is None:
            self._read_head(data)
            return
        if self.deadline is not None:
            seen = self.head + data
            if END_OF_HEADERS in seen:
                self._headers_in()
            else:
                self.head = seen[-3:]
        self.inner.data_received(data)

    def _read_head(self, data: bytes) -> None:
        received = self.head + data
        end = received.find(END_OF_HEADERS)
        if end == -1 and len(received) <= MAX_HEAD_BYTES:
            self.head = received
            return
        if end == -1:
            self.inner = self.door.route(None)
            self.head = received[-3:]
        else:
            self._headers_in()
            self.inner = self.door.route(received[: end + len(END_OF_HEADERS)])
        self.inner.connection_made(self.transport)
        self.inner.data_received(received)

    def _headers_in(self) -> None:
        self.deadline.cancel()
        self.deadline = None
        self.head = b""

    def eof_received(self):
        return self.inner.eof_received() if self.inner is not None else None

    def pause_writing(self) -> None:
        if self.inner is not None:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if self.inner is not None:
            self.inner.resume_writing()

    def connection_lost(self, exc) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None
        if self.client is not None:
            self.door.open[self.client] -= 1
            if not self.door.open[self.client]:
                del self.door.open[self.client]
            self.client = None
        if self.inner is not None:
            self.inner.connection_lost(exc)
