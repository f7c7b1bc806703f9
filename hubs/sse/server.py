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
import os
import random
import re
import resource
import time

import zmq
import zmq.asyncio
from aiohttp import web

from hubs.config import load_config
from hubs.errors import error_document
from hubs.sse.auth import SessionReader
from hubs.sse.streams import Streams

log = logging.getLogger("hubs.sse")

HUB_PATH = re.compile(r"^/[ut]/[^/?#\s]{1,64}/$")
USERNAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
STREAMS = web.AppKey("streams", Streams)
CONFIG = web.AppKey("config", dict)
SESSIONS = web.AppKey("sessions", SessionReader)


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
        if not USERNAME.match(user):
            return _refuse(request, 400, "user must be an account name")
        loop = asyncio.get_running_loop()
        owner = await loop.run_in_executor(None, request.app[SESSIONS].username, request.cookies)
        if owner != user:
            return _refuse(request, 403, "a private stream is only for its logged-in owner")
        names.append(f"user:{user}")

    streams = request.app[STREAMS]
    last_id = request.headers.get("Last-Event-ID") or request.query.get("lastEventId")
    connection, snapshot = streams.attach(names, last_id)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
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

    heartbeat = config["SSE_HEARTBEAT_SECONDS"]
    try:
        # A browser going away (reset, or our shutdown cancelling the task) just ends it.
        with contextlib.suppress(ConnectionResetError, asyncio.CancelledError):
            while not connection.dropped:
                try:
                    event = await asyncio.wait_for(connection.queue.get(), heartbeat)
                except TimeoutError:
                    await response.write(b": ping\n\n")
                    continue
                if event is None:  # shutting down
                    break
                frame = (
                    f"id: {streams.event_id(connection, event)}\n"
                    f"event: {event.kind}\ndata: {event.payload}\n\n"
                )
                await response.write(frame.encode())
    finally:
        streams.detach(connection)
    return response


async def health(request: web.Request) -> web.Response:
    streams = request.app[STREAMS]
    return web.json_response(
        {"connections": streams.connections, "delivered": streams.delivered,
         "dropped": streams.dropped, "epoch": streams.epoch}
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
            except (ValueError, UnicodeDecodeError) as error:
                log.warning("Ignored a malformed event from the backend: %s", error)
    finally:
        socket.close(linger=0)


async def _start_background(app: web.Application):
    task = asyncio.create_task(_subscribe(app))
    yield
    task.cancel()


async def _close_streams(app: web.Application) -> None:
    """On shutdown, end every stream so browsers reconnect elsewhere at once."""
    streams = app[STREAMS]
    for connection in {c for s in streams._streams.values() for c in s.connections}:
        connection.dropped = True
        with contextlib.suppress(asyncio.QueueFull):
            connection.queue.put_nowait(None)


def make_app(config: dict, generation_of=None) -> web.Application:
    """The sse app; ``generation_of`` (username -> session generation) defaults to
    reading the users table of DATABASE_URL."""
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
    app.router.add_get("/stream", stream)
    app.router.add_get("/healthz", health)
    app.cleanup_ctx.append(_start_background)
    app.on_shutdown.append(_close_streams)
    return app


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
    # run_app turns SIGTERM and SIGINT into a graceful shutdown.
    web.run_app(
        make_app(config), host=host, port=port, print=None, handle_signals=True,
        shutdown_timeout=5,
    )  # fmt: skip


if __name__ == "__main__":
    main()
