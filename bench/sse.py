#!/usr/bin/env python
"""hubs-sse under load, beside a reference server (bench/sse_peer.py, a bare aiohttp
handler loop) measured in the same run (#21 target 3):

- RSS with 10,000 open streams (1,000 on one hub, the rest over 500 hubs), and the
  latency of one event fanned out to the 1,000 (budget: <= 120 MB, p99 <= 50 ms);
- the latency of one event fanned out to 10,000 streams of one hub (p99 <= 300 ms);
- the same with two hubs-sse processes, the streams split between them, as behind the
  reverse proxy: the RSS of each and the fan-out latency.

Every server is a fresh subprocess fed by the backend's real ZeroMQ publisher. The
streams are opened by this process over loopback with bare asyncio protocols, so that
on a small machine the client costs little beside the server it measures. Latency is
from the publisher's send to each stream's read of the event, over several events.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from hubs.backend.publisher import ZmqPublisher  # noqa: E402
from tests.stack import accepts, free_port, rss_bytes, wait_for  # noqa: E402

HOT = "/t/bench/"
SENT = b'"sent":'
BIN = os.path.dirname(sys.executable)


def rss_mb(pid: int) -> float:
    return rss_bytes(pid) / (1024 * 1024)


class Round:
    """What the streams of one measurement read: how many said hello, and each
    delivery of the current event as (read at, sent at)."""

    def __init__(self) -> None:
        self.ready = 0
        self.all_ready = asyncio.Event()
        self.expected = 0
        self.received: list[tuple[float, float]] = []
        self.all_received = asyncio.Event()

    def hello(self) -> None:
        self.ready += 1
        if self.ready == self.expected:
            self.all_ready.set()

    def delivered(self, sent: float) -> None:
        self.received.append((time.time(), sent))
        if len(self.received) == self.expected:
            self.all_received.set()


class StreamReader(asyncio.Protocol):
    """One EventSource, as lean as a client gets: it looks for the hello's blank line,
    then for each event's "sent" time, in the bytes as they come."""

    def __init__(self, round_: Round, request: bytes, counted: bool) -> None:
        self.round = round_
        self.request = request
        self.counted = counted  # one of the streams whose deliveries are measured
        self.greeted = False
        self.tail = b""

    def connection_made(self, transport) -> None:
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        seen = self.tail + data
        if not self.greeted:
            if b"HTTP/1.1 200" not in seen[:16]:
                sys.exit(f"a stream was refused: {seen[:200]!r}")
            if b"data: {}\n\n" not in seen:
                self.tail = seen
                return
            self.greeted = True
            self.round.hello()
            seen = seen[seen.index(b"data: {}\n\n") + 10 :]
        start = seen.find(SENT)
        while start != -1:
            end = seen.find(b"}", start)
            if end == -1:
                break  # the rest comes in the next read
            if self.counted:
                self.round.delivered(float(seen[start + len(SENT) : end]))
            start = seen.find(SENT, end)
        self.tail = seen[start:] if start != -1 else seen[-len(SENT) :]


@dataclass
class Result:
    rss: list[float]  # MB, each server process
    latencies: list[float]  # ms, sorted

    def percentile(self, fraction: float) -> float:
        return self.latencies[int(fraction * (len(self.latencies) - 1))]


async def measure(ports: list[int], pids: list[int], hubs: list[str], events: int,
                  endpoint: str, counted_hub: str = HOT) -> Result:  # fmt: skip
    """Open a stream to each of ``hubs`` (over ``ports`` in turn), then time ``events``
    events published to ``counted_hub``, as read by its streams."""
    loop = asyncio.get_running_loop()
    round_ = Round()
    round_.expected = len(hubs)
    transports = []
    started = time.monotonic()
    for batch in range(0, len(hubs), 250):
        opened = await asyncio.gather(*(
            loop.create_connection(
                lambda hub=hub: StreamReader(
                    round_,
                    f"GET /stream?hub={hub} HTTP/1.1\r\nHost: bench\r\n\r\n".encode(),
                    hub == counted_hub,
                ),
                "127.0.0.1",
                ports[n % len(ports)],
            )
            for n, hub in enumerate(hubs[batch : batch + 250], start=batch)
        ))  # fmt: skip
        transports.extend(transport for transport, _protocol in opened)
    await asyncio.wait_for(round_.all_ready.wait(), 120)
    print(f"  {len(hubs)} streams open in {time.monotonic() - started:.1f} s")
    await asyncio.sleep(1)  # let the server settle after the rush, as RSS is read
    rss = [rss_mb(pid) for pid in pids]

    publisher = ZmqPublisher(endpoint)
    await asyncio.sleep(1)  # the servers' SUB sockets connect
    round_.expected = hubs.count(counted_hub)
    latencies: list[float] = []
    # This client's own collector, walking its 10,000 streams' objects in the middle of
    # a round, stalled its reads by some 300 ms (in the later runs of one bench):
    # that is no server's latency, so it waits until the rounds are done.
    gc.collect()
    gc.disable()
    try:
        for _ in range(events):
            round_.received.clear()
            round_.all_received.clear()
            publisher.send(f"hub:{counted_hub}", "widget", {"sent": time.time()})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(round_.all_received.wait(), 10)
            if len(round_.received) < round_.expected:
                print(f"  only {len(round_.received)} of {round_.expected} streams got an event")
            latencies.extend((got - sent) * 1000 for got, sent in round_.received)
            await asyncio.sleep(0.2)  # one event at a time: each measures a quiet server
    finally:
        gc.enable()
    publisher.close()
    for transport in transports:
        transport.abort()
    return Result(rss, sorted(latencies))


@contextlib.contextmanager
def servers(kind: str, count: int, workdir: str):
    """``count`` fresh server processes of ``kind`` (hubs-sse or peer), fed from one
    publisher endpoint: yields (ports, pids, endpoint)."""
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    config = os.path.join(workdir, "config.py")
    with open(config, "w") as handle:
        handle.write(
            f"SSE_BACKEND_ENDPOINTS = [{endpoint!r}]\nSSE_QUEUE_SIZE = 64\n"
            "SSE_MAX_CONNECTIONS_PER_CLIENT = 0\n"  # every stream comes from this address
        )
    ports = [free_port() for _ in range(count)]
    processes = []
    for port in ports:
        if kind == "hubs-sse":
            command = [os.path.join(BIN, "hubs-sse"), "--port", str(port)]
        else:
            peer = os.path.join(ROOT, "bench", "sse_peer.py")
            command = [sys.executable, peer, "--port", str(port), "--events", endpoint]
        processes.append(subprocess.Popen(
            command, env={**os.environ, "HUBS_CONFIG": config},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ))  # fmt: skip
    try:
        for port in ports:
            wait_for(lambda port=port: accepts(port), 20, kind)
        yield ports, [process.pid for process in processes], endpoint
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(20)


def run(kind: str, count: int, hubs: list[str], events: int) -> Result:
    with tempfile.TemporaryDirectory() as workdir, servers(kind, count, workdir) as started:
        ports, pids, endpoint = started
        start_rss = ", ".join(f"{rss_mb(pid):.0f}" for pid in pids)
        print(f"{kind} x{count}, RSS at start {start_rss} MB")
        result = asyncio.run(measure(ports, pids, hubs, events, endpoint))
        print(
            f"  RSS {', '.join(f'{mb:.0f}' for mb in result.rss)} MB; "
            f"fan-out to {hubs.count(HOT)}: {len(result.latencies)} deliveries, "
            f"p50 {statistics.median(result.latencies):.1f} ms, "
            f"p99 {result.percentile(0.99):.1f} ms, max {result.latencies[-1]:.1f} ms"
        )
        return result


def verdict(figure: float, budget: float) -> str:
    return "met" if figure <= budget else "NOT met"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--streams", type=int, default=10_000)
    parser.add_argument("--fanout", type=int, default=1_000)
    parser.add_argument("--events", type=int, default=10)
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    mixed = [HOT if n < args.fanout else f"/t/team{n % 500}/" for n in range(args.streams)]
    one_hub = [HOT] * args.streams
    ours, peer = run("hubs-sse", 1, mixed, args.events), run("peer", 1, mixed, args.events)
    ours_all, peer_all = (
        run("hubs-sse", 1, one_hub, args.events),
        run("peer", 1, one_hub, args.events),
    )
    two = run("hubs-sse", 2, one_hub, args.events)

    n, f = f"{args.streams:,}", f"{args.fanout:,}"
    print("\ntarget | hubs-sse | peer | ratio | budget")
    rows = [
        (f"RSS, {n} streams (MB)", ours.rss[0], peer.rss[0], 120),
        (f"fan-out to {f}, p99 (ms)", ours.percentile(0.99), peer.percentile(0.99), 50),
        (f"fan-out to {n}, p99 (ms)", ours_all.percentile(0.99), peer_all.percentile(0.99), 300),
    ]
    for name, figure, reference, budget in rows:
        print(
            f"{name} | {figure:.1f} | {reference:.1f} | {figure / reference:.2f}x | "
            f"<= {budget} ({verdict(figure, budget)})"
        )
    print(
        f"2 processes, {n} streams: RSS {' + '.join(f'{mb:.0f}' for mb in two.rss)} MB "
        f"(each <= 120: {verdict(max(two.rss), 120)}); fan-out to {n}, "
        f"p99 {two.percentile(0.99):.1f} ms (<= 300: {verdict(two.percentile(0.99), 300)})"
    )


if __name__ == "__main__":
    main()
