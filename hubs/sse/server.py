"""hubs-sse: the asyncio server holding the browsers' EventSource connections.

GET /stream?hub=/t/infrastructure/[&user=ralph] streams that hub's widget events and,
for its logged-in owner only, the user's private events. Events come from the backend
over ZeroMQ (SUB sockets connected to SSE_BACKEND_ENDPOINTS).

A stream is served by an EventSource protocol of its own on the bare transport (what
aiohttp keeps for each connection, a request, a response and a task waiting, was more
than half of a stream's memory); aiohttp serves everything else (/healthz, errors).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email.utils
import functools
import http
import json
import logging
import math
import os
import random
import re
import resource
import signal
import time
import urllib.parse
from dataclasses import dataclass

import zmq
import zmq.asyncio
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from hubs.accounts import is_account_name
from hubs.backend.publisher import CONTROL_STREAM
from hubs.config import load_config
from hubs.sse.event_streams import (
    Connection,
    Event,
    Publishers,
    SnapshotRounds,
    Streams,
    chunk,
)
from hubs.sse.guard import Door, raw_response
from hubs.sse.memory import MemoryTrim, glibc_malloc_trim
from hubs.sse.session_cookie import SessionReader, SessionsUnknown

log = logging.getLogger("hubs.sse")

HUB_PATH = re.compile(r"^/[ut]/[^/?#\s]{1,64}/$")
STREAMS = web.AppKey("streams", Streams)
CONFIG = web.AppKey("config", dict)
SESSIONS = web.AppKey("sessions", SessionReader)
MEMORY = web.AppKey("memory", MemoryTrim)
# How soon a browser refused while sessions cannot be checked (the database away) asks again.
SESSIONS_RETRY_SECONDS = 3


# On every response, as on the web app's pages: nothing here is to be sniffed, framed,
# cached or referred from, and nothing in it may run.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
}


async def _secure(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(SECURITY_HEADERS)


@dataclass(frozen=True, slots=True)
class StreamRequest:
    """A GET /stream request's head, read once at the door."""

    version: str  # "HTTP/1.1"
    query: dict[str, str]  # the first value of each parameter
    headers: dict[str, str]  # by lower-case name, the first of each
    cookies: dict[str, str]


# aiohttp's own limit on a line of a head: a longer one goes to it, and is answered 400.
MAX_LINE_BYTES = 8190


def stream_request(head: bytes) -> StreamRequest | None:
    """The GET /stream request whose whole head is ``head``, or None for any other
    request (aiohttp answers those, an invalid one included)."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or len(lines[0]) > MAX_LINE_BYTES:
        return None
    method, target, version = parts
    path, _, query = target.partition("?")
    if method != "GET" or path != "/stream" or version not in ("HTTP/1.1", "HTTP/1.0"):
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            break
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip() or len(line) > MAX_LINE_BYTES:
            return None
        headers.setdefault(name.lower(), value.strip(" \t"))
    parameters: dict[str, str] = {}
    for name, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
        parameters.setdefault(name, value)
    cookies: dict[str, str] = {}
    for pair in headers.get("cookie", "").split(";"):
        name, equals, value = pair.strip().partition("=")
        if equals and name:
            cookies.setdefault(name, value.strip('"'))
    return StreamRequest(version, parameters, headers, cookies)


def _cors_headers(config: dict, origin: str | None) -> dict[str, str]:
    if origin and origin in config["SSE_ALLOWED_ORIGINS"]:
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Credentials": "true",
            "Vary": "Origin",
        }
    return {}


# A stream's response head, but for its date and CORS headers.
STREAM_HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "X-Accel-Buffering": "no",
    "Transfer-Encoding": "chunked",
    **SECURITY_HEADERS,
}
PING = chunk(b": ping\n\n")
LAST_CHUNK = b"0\r\n\r\n"


class EventSource(asyncio.Protocol):
    """One GET /stream, served on its transport without aiohttp: each event's frame is
    one shared bytes object (with its id line, shared by the connections at the same
    place), written by the fan-out loop itself, and the pings by the process's one
    heartbeat timer; no task nor coroutine waits for each stream. While the reader
    lags (its transport over the high-water mark) nothing more is written and its newer
    events replace the older in its queue, written when it resumes; one still holding
    more than SSE_WRITE_BUFFER_BYTES unsent when a new event comes is dropped, as is one
    whose queue overflows."""

    __slots__ = ("app", "connection", "due", "paused", "request", "streams", "transport")

    def __init__(self, app: web.Application, request: StreamRequest) -> None:
        self.app = app
        self.streams = app[STREAMS]
        self.request: StreamRequest | None = request  # until the stream starts
        self.transport: asyncio.Transport | None = None
        self.connection: Connection | None = None
        self.paused = False
        self.due = False  # a look at its queue is scheduled

    def connection_made(self, transport) -> None:
        self.transport = transport
        request = self.request
        hub, user = request.query.get("hub", ""), request.query.get("user")
        if request.version != "HTTP/1.1":
            self._refuse(505, "a stream is served over HTTP/1.1")
        elif not HUB_PATH.match(hub):
            self._refuse(400, "hub must be a hub's path, like /t/infrastructure/")
        elif user is None:
            self._start([f"hub:{hub}"])
        elif not is_account_name(user):
            self._refuse(400, "user must be an account name")
        else:
            sessions = self.app[SESSIONS]
            checking = asyncio.get_running_loop().run_in_executor(
                None, sessions.username, request.cookies
            )
            checking.add_done_callback(functools.partial(self._checked, hub, user))

    def _checked(self, hub: str, user: str, checking: asyncio.Future) -> None:
        if self.transport.is_closing():
            return  # the browser went away meanwhile
        try:
            owner = checking.result()
        except SessionsUnknown:  # the database is away: not a refusal, a "later"
            retry = {"Retry-After": str(SESSIONS_RETRY_SECONDS)}
            self._refuse(503, "sessions cannot be checked now; try again soon", retry)
            return
        except Exception:
            log.exception("Cannot check the session of a private stream")
            self._refuse(500, "the session could not be checked")
            return
        if owner != user:
            self._refuse(403, "a private stream is only for its logged-in owner")
        else:
            self._start([f"hub:{hub}", f"user:{user}"])

    def _refuse(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        cors = _cors_headers(self.app[CONFIG], self.request.headers.get("origin"))
        every = {**(headers or {}), **cors, **SECURITY_HEADERS}
        reason = http.HTTPStatus(status).phrase
        self.transport.write(raw_response(status, reason, message, every))
        self.transport.close()

    def _start(self, names: list[str]) -> None:
        config, request, streams = self.app[CONFIG], self.request, self.streams
        last_id = request.headers.get("last-event-id") or request.query.get("lastEventId")
        connection, snapshot = streams.attach(names, last_id, _since(request.query.get("since")))
        headers = {
            **STREAM_HEADERS,
            "Date": email.utils.formatdate(usegmt=True),
            **_cors_headers(config, request.headers.get("origin")),
        }
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        retry = config["SSE_RETRY_MS"] + random.randint(0, config["SSE_RETRY_MS"])
        # An id from the start, so a browser reconnecting to another process says so.
        hello = f"retry: {retry}\nid: {streams.event_id(connection)}\n"
        if snapshot:
            hello += 'event: snapshot\ndata: {"reason": "missed events"}\n'
        else:
            hello += "event: hello\ndata: {}\n"
        self.transport.write(
            f"HTTP/1.1 200 OK\r\n{head}\r\n".encode() + chunk((hello + "\n").encode())
        )
        self.request = None
        self.connection = connection
        connection.write_now, connection.ping = self.write_now, self.ping
        connection.queue.listen(self._queued)
        self._flush()  # what it missed, replayed

    def write_now(self, event: Event) -> bool:
        if self.paused or self.transport.is_closing():  # closing: the browser is gone
            return False
        for piece in self.streams.framed(self.connection, event):
            self.transport.write(piece)
        return True

    def ping(self) -> None:
        if not self.paused and not self.transport.is_closing():
            self.transport.write(PING)

    def _queued(self) -> None:
        if not self.due:
            self.due = True
            asyncio.get_running_loop().call_soon(self._look)

    def _look(self) -> None:
        """After events were queued: drop the reader if it lags too far behind, end the
        stream if told to, or write them if it takes them again."""
        self.due = False
        if self.transport.is_closing():
            return
        connection = self.connection
        if not self.paused:
            self._flush()
        elif connection.dropped or (
            self.transport.get_write_buffer_size() > self.app[CONFIG]["SSE_WRITE_BUFFER_BYTES"]
        ):
            if not connection.dropped:
                self.streams.drop(connection)
            self.transport.abort()  # what it did not take is let go at once

    def _flush(self) -> None:
        queue = self.connection.queue
        while not self.paused and not queue.empty():
            event = queue.get_nowait()
            if event is None:  # shutting down: the end of the response, then the close
                self.streams.detach(self.connection)
                self.transport.write(LAST_CHUNK)
                self.transport.close()
                return
            if self.connection.dropped:
                break
            self.write_now(event)
        if self.connection.dropped:
            self.transport.abort()

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        if self.connection is not None and not self.transport.is_closing():
            self._flush()

    def data_received(self, data: bytes) -> None:
        """Nothing more is read from a stream's browser (its head was read already)."""

    def connection_lost(self, exc: Exception | None) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            self.streams.detach(connection)
            connection.write_now = connection.ping = None
            connection.queue.listen(None)
            self.app[MEMORY].stream_ended()


def route(app: web.Application, aiohttp_handler, head: bytes | None) -> asyncio.Protocol:
    """The protocol serving a connection whose request has this head: an EventSource
    for a stream, aiohttp's request handler for anything else (/healthz, errors)."""
    request = stream_request(head) if head is not None else None
    return EventSource(app, request) if request is not None else aiohttp_handler()


def _since(value: str | None) -> float | None:
    """When the page was rendered (seconds since 1970), as its first connection says."""
    try:
        since = float(value) if value else None
    except ValueError:
        return None
    return since if since is not None and math.isfinite(since) else None


async def health(request: web.Request) -> web.Response:
    streams = request.app[STREAMS]
    return web.json_response(
        {"connections": streams.connections, "delivered": streams.delivered,
         "dropped": streams.dropped, "epoch": streams.epoch,
         "memory_trims": request.app[MEMORY].trims}
    )  # fmt: skip


async def _subscribe(app: web.Application) -> None:
    """Receive [stream name, kind, JSON event, tag] from the backends and publish them;
    the tags tell when pages must fetch themselves anew (Publishers)."""
    context = zmq.asyncio.Context.instance()
    socket = context.socket(zmq.SUB)
    for endpoint in app[CONFIG]["SSE_BACKEND_ENDPOINTS"]:
        socket.connect(endpoint)
    if app[CONFIG].get("SSE_EVENTS_BIND"):  # several backends connect here
        socket.bind(app[CONFIG]["SSE_EVENTS_BIND"])
    socket.setsockopt(zmq.SUBSCRIBE, b"")
    streams = app[STREAMS]
    publishers = Publishers()
    spacing = app[CONFIG]["SSE_SNAPSHOT_SPACING_SECONDS"]
    snapshots = SnapshotRounds(streams, spacing, asyncio.get_running_loop())
    try:
        while True:
            try:
                name, kind, payload, *tag = await socket.recv_multipart()
                stream = name.decode()
                event = stream != CONTROL_STREAM  # else a backend's hello
                reason = publishers.heard(tag[0].decode(), event) if tag else None
                if reason is not None:
                    snapshots.ask(reason)
                if event:
                    streams.publish(stream, kind.decode(), json.loads(payload))
                # Let the streams write it before the next: a burst arrives without the
                # loop turning, and would fill every queue, the fast readers' too.
                await asyncio.sleep(0)
            except (ValueError, UnicodeDecodeError) as error:
                log.warning("Ignored a malformed event from the backend: %s", error)
    finally:
        snapshots.cancel()
        socket.close(linger=0)


async def _heartbeats(app: web.Application) -> None:
    """Every SSE_HEARTBEAT_SECONDS, a comment to every stream: one timer for all of
    them, not one each (nor a task woken each), so that proxies keep idle streams open
    and a reader gone is noticed."""
    streams = app[STREAMS]
    while True:
        await asyncio.sleep(app[CONFIG]["SSE_HEARTBEAT_SECONDS"])
        for connection in streams.all_connections():
            if connection.ping is not None:
                connection.ping()


async def _start_background(app: web.Application):
    tasks = [asyncio.create_task(_subscribe(app)), asyncio.create_task(_heartbeats(app))]
    yield
    for task in tasks:
        task.cancel()


async def _close_streams(app: web.Application) -> None:
    """On shutdown, end every stream so browsers reconnect elsewhere at once."""
    streams = app[STREAMS]
    for connection in streams.all_connections():
        connection.dropped = True
        with contextlib.suppress(asyncio.QueueFull):
            connection.queue.put_nowait(None)


class OneLineBadRequests(logging.Filter):
    """aiohttp logs a request it cannot parse (an over-long line, a broken header) as
    an error with its traceback; it is the client's mistake, answered 400: one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            record.msg = f"{record.getMessage()}: {type(error).__name__} ({error.code})"
            record.args = ()
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


_BAD_REQUESTS = OneLineBadRequests()


def make_app(config: dict, generation_of=None) -> web.Application:
    """The sse app; ``generation_of`` (username -> session generation) defaults to
    reading the users table of DATABASE_URL."""
    logging.getLogger("aiohttp.server").addFilter(_BAD_REQUESTS)  # once: a set
    app = web.Application()
    app[CONFIG] = config
    app[STREAMS] = Streams(
        epoch=f"{int(time.time()):x}{os.getpid():x}",
        ring_size=config["SSE_RING_SIZE"],
        queue_size=config["SSE_QUEUE_SIZE"],
        ring_bytes=config["SSE_RING_BYTES"],
        keep_seconds=config["SSE_RING_KEEP_SECONDS"],
    )
    app[SESSIONS] = SessionReader(config, generation_of)
    app[MEMORY] = MemoryTrim(config["SSE_MEMORY_TRIM_SECONDS"], glibc_malloc_trim())
    app.router.add_get("/healthz", health)
    app.cleanup_ctx.append(_start_background)
    app.on_shutdown.append(_close_streams)
    app.on_response_prepare.append(_secure)
    return app


class GuardedSite(web.TCPSite):
    """A TCP site whose connections pass hubs.sse.guard's door first (a limit per
    client, a deadline for the headers)."""

    def __init__(self, runner: web.AppRunner, host: str, port: int, config: dict) -> None:
        # A deep backlog: browsers reconnect all at once when a process restarts.
        super().__init__(runner, host, port, reuse_address=True, backlog=1024)
        self.config = config
        self.door: Door | None = None

    async def start(self) -> None:
        self._runner._reg_site(self)
        routed = functools.partial(route, self._runner.app, self._runner.server)
        self.door = Door(routed, self.config, SECURITY_HEADERS)
        self._server = await asyncio.get_running_loop().create_server(
            self.door, self._host, self._port, backlog=self._backlog, reuse_address=True
        )
        self._bound_port = self._server.sockets[0].getsockname()[1]


async def serve(app: web.Application, config: dict, host: str, port: int):
    """Start serving ``app`` on host:port behind the door; returns (runner, site)."""
    runner = web.AppRunner(app, shutdown_timeout=5)
    await runner.setup()
    site = GuardedSite(runner, host, port, config)
    await site.start()
    return runner, site


async def _run(config: dict, host: str, port: int) -> None:
    runner, _site = await serve(make_app(config), config, host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):  # a graceful shutdown, as systemd asks
        loop.add_signal_handler(number, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", help="address to listen on (default: SSE_HOST)")
    parser.add_argument("--port", type=int, help="port to listen on (default: SSE_PORT)")
    args = parser.parse_args(argv)
    config = load_config()
    # One file descriptor per open stream: allow as many as the system lets us.
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s [%(name)s] %(message)s"
    )
    host, port = args.host or config["SSE_HOST"], args.port or config["SSE_PORT"]
    log.info("hubs-sse on %s:%s, events from %s", host, port, config["SSE_BACKEND_ENDPOINTS"])
    asyncio.run(_run(config, host, port))


if __name__ == "__main__":
    main()
