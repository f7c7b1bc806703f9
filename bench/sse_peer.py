#!/usr/bin/env python
"""The reference SSE server bench/sse.py measures hubs-sse against: the plain way to
write one with aiohttp, a handler looping over its own asyncio.Queue, with events from
the same ZeroMQ publisher. No ring, no limits, no checks: a peer and a floor."""

from __future__ import annotations

import argparse
import asyncio
import collections

import zmq
import zmq.asyncio
from aiohttp import web

WATCHERS = web.AppKey("watchers", collections.defaultdict)


async def stream(request: web.Request) -> web.StreamResponse:
    watchers = request.app[WATCHERS][f"hub:{request.query.get('hub', '')}"]
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    watchers.add(queue)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    await response.write(b"event: hello\ndata: {}\n\n")
    try:
        while True:
            await response.write(await queue.get())
    finally:
        watchers.discard(queue)


async def _receive(app: web.Application, endpoint: str) -> None:
    socket = zmq.asyncio.Context.instance().socket(zmq.SUB)
    socket.connect(endpoint)
    socket.setsockopt(zmq.SUBSCRIBE, b"")
    while True:
        name, kind, payload, *_tag = await socket.recv_multipart()
        frame = b"event: %b\ndata: %b\n\n" % (kind, payload)
        for queue in app[WATCHERS].get(name.decode(), ()):
            queue.put_nowait(frame)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--events", required=True, help="the publisher's ZeroMQ endpoint")
    args = parser.parse_args()
    app = web.Application()
    app[WATCHERS] = collections.defaultdict(set)
    app.router.add_get("/stream", stream)

    async def receive_in_background(app: web.Application):
        task = asyncio.create_task(_receive(app, args.events))
        yield
        task.cancel()

    app.cleanup_ctx.append(receive_in_background)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, backlog=1024, shutdown_timeout=1)


if __name__ == "__main__":
    main()
