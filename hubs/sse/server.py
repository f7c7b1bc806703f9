"""hubs-sse: the asyncio server holding the browsers' EventSource connections.

GET /stream?hub=/t/infrastructure/[&user=ralph] streams that hub's widget events and,
for its logged-in owner only, the user's private events. Events come from the backend
over ZeroMQ (SUB sockets connected to SSE_BACKEND_ENDPOINTS).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import os
import random
import re
import resource
import signal
import time

import zmq
import zmq.asyncio
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from hubs.accounts import is_account_name
from hubs.config import load_config
from hubs.errors import error_document
from hubs.sse.event_streams import Connection, Event, Streams, chunk
from hubs.sse.guard import Door
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


def _cors_headers(request: web.Request) -> dict[str, str]:
    origin = request.headers.get("Origin")
    if origin and origin in request.app[CONFIG]["SSE_ALLOWED_ORIGINS"]:
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Credentials": "true",
            "Vary": "Origin",
        }
    return {}


def _refuse(request: web.Request, status: int, message: str) -> web.Response:
    return web.json_response(
        error_document(status, message), status=status, headers=_cors_headers(request)
    )


async def stream(request: web.Request) -> web.StreamResponse:
    config = request.app[CONFIG]
    hub = request.query.get("hub", "")
    user = request.query.get("user")
    if not HUB_PATH.match(hub):
        return _refuse(request, 400, "hub must be a hub's path, like /t/infrastructure/")
    names = [f"hub:{hub}"]
    if user is not None:
        if not is_account_name(user):
            return _refuse(request, 400, "user must be an account name")
        loop = asyncio.get_running_loop()
        try:
            owner = await loop.run_in_executor(
                None, request.app[SESSIONS].username, request.cookies
            )
        except SessionsUnknown:  # the database is away: not a refusal, a "later"
            response = _refuse(request, 503, "sessions cannot be checked now; try again soon")
            response.headers["Retry-After"] = str(SESSIONS_RETRY_SECONDS)
            return response
        if owner != user:
            return _refuse(request, 403, "a private stream is only for its logged-in owner")
        names.append(f"user:{user}")

    streams = request.app[STREAMS]
    last_id = request.headers.get("Last-Event-ID") or request.query.get("lastEventId")
    connection, snapshot = streams.attach(names, last_id, _since(request.query.get("since")))
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "X-Accel-Buffering": "no",
            **_cors_headers(request),
        }
    )
    response.enable_chunked_encoding()
    await response.prepare(request)
    retry = config["SSE_RETRY_MS"] + random.randint(0, config["SSE_RETRY_MS"])
    # An id from the start, so a browser reconnecting to another process says so.
    hello = f"retry: {retry}\nid: {streams.event_id(connection)}\n"
    if snapshot:
        hello += 'event: snapshot\ndata: {"reason": "missed events"}\n'
    else:
        hello += "event: hello\ndata: {}\n"
    await response.write((hello + "\n").encode())

    try:
        # A browser going away (reset, or our shutdown cancelling the task) just ends it.
        with contextlib.suppress(ConnectionResetError, asyncio.CancelledError):
            await _write_events(request, streams, connection)
    finally:
        streams.detach(connection)
        request.app[MEMORY].stream_ended()
    return response


PING = chunk(b": ping\n\n")
JOINED_FRAME_BYTES = 8192
# Queued after the fan-out wrote into a reader that now lags: its writer waits for it.
LAGGING = Event("", 0, "lagging", b"")


def _framed(streams: Streams, connection: Connection, event: Event) -> list[bytes]:
    """What to write for ``event`` on ``connection``: its id line, then the shared frame."""
    data = chunk(f"id: {streams.event_id(connection, event)}\n".encode())
    # A small frame goes in the same send as its id (half the system calls); a large
    # one is not copied for each connection, it is written as it is.
    if len(event.frame) <= JOINED_FRAME_BYTES:
        return [data + event.frame]
    return [data, event.frame]


async def _write_events(request: web.Request, streams: Streams, connection: Connection) -> None:
    """Write the connection's events as they come, straight to its transport: each
    event's frame is one shared bytes object, and only its id line is this connection's.
    An event finding nothing queued before it is written by the fan-out loop itself;
    this task writes the rest, and the process's heartbeat timer the pings. While the
    reader lags (its transport over the high-water mark) nothing more is written and
    its newer events replace the older in its queue; one still holding more than
    SSE_WRITE_BUFFER_BYTES unsent when a new event comes is dropped."""
    transport = request.transport
    protocol = request.protocol

    def write(pieces: list[bytes]) -> bool:
        """False when the reader is gone."""
        if transport is None or transport.is_closing():
            return False
        for piece in pieces:
            transport.write(piece)
        return True

    def write_now(event: Event) -> bool:
        if protocol.writing_paused or not write(_framed(streams, connection, event)):
            return False
        if protocol.writing_paused:
            connection.queue.put_nowait(LAGGING)
        return True

    def ping() -> None:
        if transport is None or transport.is_closing():
            connection.queue.put_nowait(None)  # the reader is gone: its writer ends
        elif not protocol.writing_paused:
            transport.write(PING)

    connection.write_now, connection.ping = write_now, ping
    try:
        while not connection.dropped:
            event = await connection.queue.get()
            if event is None:  # shutting down, or the reader is gone
                return
            pieces = [] if event is LAGGING else _framed(streams, connection, event)
            if not write(pieces):
                return  # the reader is gone
            if protocol.writing_paused and not await _taken(request, transport, connection):
                if not connection.dropped:
                    streams.drop(connection)
                transport.abort()  # what it did not take is let go at once
                return
    finally:
        connection.write_now = connection.ping = None


async def _taken(
    request: web.Request, transport: asyncio.Transport, connection: Connection
) -> bool:
    """Whether a lagging reader takes what was written (True, once the transport is
    below its low-water mark), or is dropped first: more than SSE_WRITE_BUFFER_BYTES
    still unsent when its next event comes, or its queue overflowing (False)."""
    limit = request.app[CONFIG]["SSE_WRITE_BUFFER_BYTES"]
    drained = asyncio.ensure_future(request.writer.drain())
    try:
        while not drained.done():
            arrival = asyncio.ensure_future(connection.queue.next_arrival())
            try:
                await asyncio.wait([drained, arrival], return_when=asyncio.FIRST_COMPLETED)
            finally:
                arrival.cancel()
            if drained.done():
                break
            if connection.dropped or transport.get_write_buffer_size() > limit:
                return False
        drained.result()  # the reader gone while it lagged: ConnectionResetError
        return True
    finally:
        drained.cancel()


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
    """Receive [stream name, JSON event] from the backend and publish them."""
    context = zmq.asyncio.Context.instance()
    socket = context.socket(zmq.SUB)
    for endpoint in app[CONFIG]["SSE_BACKEND_ENDPOINTS"]:
        socket.connect(endpoint)
    if app[CONFIG].get("SSE_EVENTS_BIND"):  # several backends connect here
        socket.bind(app[CONFIG]["SSE_EVENTS_BIND"])
    socket.setsockopt(zmq.SUBSCRIBE, b"")
    streams = app[STREAMS]
    try:
        while True:
            try:
                name, kind, payload = await socket.recv_multipart()
                streams.publish(name.decode(), kind.decode(), json.loads(payload))
                # Let the streams write it before the next: a burst arrives without the
                # loop turning, and would fill every queue, the fast readers' too.
                await asyncio.sleep(0)
            except (ValueError, UnicodeDecodeError) as error:
                log.warning("Ignored a malformed event from the backend: %s", error)
    finally:
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
    app.router.add_get("/stream", stream)
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
        self.door = Door(self._runner.server, self.config, SECURITY_HEADERS)
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
