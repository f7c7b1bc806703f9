#!/usr/bin/env python
"""One hubs-sse process under load: RSS with 10,000 open streams, then the delivery
latency of one event fanned out to 1,000 of them (DESIGN.md: < 300 MB; p99 < 100 ms).

The sse process runs as a subprocess fed by the backend's real ZeroMQ publisher; the
streams are opened by this process over loopback. Latency is from the publisher's
send to each stream's read of the event, over several events.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import aiohttp

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from hubs.backend.publisher import ZmqPublisher  # noqa: E402
from tests.stack import accepts, free_port, rss_bytes, wait_for  # noqa: E402

HOT = "/t/bench/"


def rss_mb(pid: int) -> float:
    return rss_bytes(pid) / (1024 * 1024)


async def open_stream(http, url, ready, received):
    async with http.get(url, timeout=aiohttp.ClientTimeout(total=None)) as response:
        if response.status != 200:  # refused: the bench would measure nothing
            sys.exit(f"a stream was refused: {response.status} {await response.text()}")
        await response.content.readuntil(b"\n\n")  # the hello
        ready.append(1)
        async for line in response.content:
            if line.startswith(b'data: {"sent"'):
                received.append((time.time(), float(line[14:].split(b"}")[0])))


async def run(args, port: int, events_endpoint: str, pid: int) -> None:
    base = f"http://127.0.0.1:{port}/stream?hub="
    ready: list[int] = []
    received: list[tuple[float, float]] = []
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        tasks = []
        started = time.monotonic()
        for n in range(args.streams):
            hub = HOT if n < args.fanout else f"/t/team{n % 500}/"
            tasks.append(asyncio.create_task(open_stream(http, base + hub, ready, received)))
            if n % 500 == 499:
                await asyncio.sleep(0.05)
        while len(ready) < args.streams:
            if time.monotonic() - started > 120:
                sys.exit(f"only {len(ready)} of {args.streams} streams opened")
            await asyncio.sleep(0.1)
        await asyncio.sleep(1)
        print(f"open streams: {len(ready)} in {time.monotonic() - started:.1f} s")
        print(f"sse RSS with {len(ready)} streams: {rss_mb(pid):.0f} MB (budget: 300 MB)")

        publisher = ZmqPublisher(events_endpoint)
        await asyncio.sleep(1)  # the sse process's SUB socket connects
        latencies = []
        for _ in range(args.events):
            received.clear()
            sent = time.time()
            publisher.send(f"hub:{HOT}", "widget", {"sent": sent})
            deadline = time.monotonic() + 10
            while len(received) < args.fanout and time.monotonic() < deadline:
                await asyncio.sleep(0.005)
            latencies.extend((got - sent_at) * 1000 for got, sent_at in received)
            await asyncio.sleep(0.2)
        publisher.close()
        for task in tasks:
            task.cancel()
    latencies.sort()
    p99 = latencies[int(0.99 * (len(latencies) - 1))]
    print(
        f"fan-out of {args.events} events to {args.fanout} streams: "
        f"{len(latencies)} deliveries, p50 {statistics.median(latencies):.1f} ms, "
        f"p99 {p99:.1f} ms, max {latencies[-1]:.1f} ms (budget: p99 < 100 ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--streams", type=int, default=10_000)
    parser.add_argument("--fanout", type=int, default=1_000)
    parser.add_argument("--events", type=int, default=10)
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    port, events = free_port(), f"tcp://127.0.0.1:{free_port()}"
    with tempfile.TemporaryDirectory() as workdir:
        config = os.path.join(workdir, "config.py")
        with open(config, "w") as handle:
            handle.write(
                f"SSE_BACKEND_ENDPOINTS = [{events!r}]\nSSE_QUEUE_SIZE = 64\n"
                "SSE_MAX_CONNECTIONS_PER_CLIENT = 0\n"  # every stream comes from this address
            )
        process = subprocess.Popen(
            [os.path.join(os.path.dirname(sys.executable), "hubs-sse"), "--port", str(port)],
            env={**os.environ, "HUBS_CONFIG": config},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(lambda: accepts(port), 20, "hubs-sse")
            print(f"sse RSS at start: {rss_mb(process.pid):.0f} MB")
            asyncio.run(run(args, port, events, process.pid))
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(20)


if __name__ == "__main__":
    main()
