"""hubs-sse's memory, measured on a real process: what slow readers cost while they are
connected is given back when they leave."""

from __future__ import annotations

import asyncio
import os
import subprocess

import aiohttp

from hubs.backend.publisher import ZmqPublisher
from tests.sse.test_server import publish_until_read, read_event, stalled_reader
from tests.stack import BIN, accepts, free_port, rss_bytes, wait_for

MIB = 1024 * 1024
# Events kept for reconnecting browsers: still held, by design, after the readers leave.
RING_BYTES = 4 * MIB
# Back within this of where it started once the readers are gone: the ring, and what no
# trim gives back (pages shared with live objects, the interpreter's own arenas; about
# 6 MiB here, whatever the ring's size), with room for noise. Without trims about 38 MiB
# more stay, and before frames were shared about 85 MiB.
BUDGET = RING_BYTES + 12 * MIB
SLOW_READERS = 200
EVENTS, WIDGETS, HTML_BYTES = 3000, 30, 100_000
HUB = "/t/infra/"


async def health(http: aiohttp.ClientSession, port: int) -> dict:
    async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
        return await response.json()


async def until_health(http, port: int, condition, what: str, timeout: float = 30) -> dict:
    """Poll /healthz until ``condition`` holds of it."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition(figures := await health(http, port)):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}: {figures}")
        await asyncio.sleep(0.02)
    return figures


def test_memory_comes_back_after_slow_readers_leave(tmp_path):
    port, events = free_port(), f"tcp://127.0.0.1:{free_port()}"
    config = tmp_path / "config.py"
    config.write_text(
        f"SSE_BACKEND_ENDPOINTS = [{events!r}]\n"
        f"SSE_RING_BYTES = {RING_BYTES}\n"
        "SSE_MAX_CONNECTIONS_PER_CLIENT = 0\n"  # every reader comes from this address
        "SECRET_KEY = 'sse-memory-test'\n"
    )
    log = open(tmp_path / "hubs-sse.log", "wb")  # noqa: SIM115 (closed in finally)
    process = subprocess.Popen(
        [BIN / "hubs-sse", "--port", str(port)],
        env={**os.environ, "HUBS_CONFIG": str(config)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    publisher = ZmqPublisher(events)

    async def scenario() -> tuple[int, int, int]:
        async with aiohttp.ClientSession() as http:
            # Warm: one reader and one event through every path, then gone.
            async with http.get(f"http://127.0.0.1:{port}/stream?hub={HUB}") as response:
                await read_event(response)
                await publish_until_read(publisher, response, [{"hub": {"url": HUB}}])
            await until_health(http, port, lambda h: h["connections"] == 0, "no connection")
            start = rss_bytes(process.pid)

            stalled = [stalled_reader(port, HUB) for _ in range(SLOW_READERS)]
            writers = await asyncio.gather(*stalled)
            figures = await health(http, port)
            html = "x" * HTML_BYTES
            for number in range(1, EVENTS + 1):
                event = {"hub": {"url": HUB}, "widget_id": number % WIDGETS, "html": html}
                publisher.publish({**event, "version": number})
                if number % 100 == 0:  # within ZeroMQ's high-water marks: none is lost
                    expected = figures["delivered"] + number * SLOW_READERS
                    await until_health(
                        http, port, lambda h, e=expected: h["delivered"] >= e, "the burst"
                    )
            peak = rss_bytes(process.pid)

            for writer in writers:
                writer.close()
            await until_health(http, port, lambda h: h["connections"] == 0, "the readers gone")
            # The heap is trimmed at most once a second (SSE_MEMORY_TRIM_SECONDS).
            deadline = asyncio.get_running_loop().time() + 10
            while (after := rss_bytes(process.pid)) > start + BUDGET:
                if asyncio.get_running_loop().time() > deadline:
                    break
                await asyncio.sleep(0.05)
            return start, peak, after

    try:
        wait_for(lambda: accepts(port), 20, "hubs-sse")
        start, peak, after = asyncio.run(scenario())
        figures = f"RSS at start {start / MIB:.0f} MiB, {peak / MIB:.0f} with the readers, "
        assert after <= start + BUDGET, figures + f"{after / MIB:.0f} after they left"
    finally:
        publisher.close()
        process.terminate()
        process.wait(20)
        log.close()


def test_the_heap_is_trimmed_once_after_streams_that_end_together():
    from hubs.sse.memory import MemoryTrim, glibc_malloc_trim

    assert glibc_malloc_trim() is not None  # this is glibc: hubs-sse trims here
    trims = []

    async def scenario():
        memory = MemoryTrim(interval=0.05, trim=lambda: trims.append(1))
        for _ in range(200):  # the slow readers leave at once
            memory.stream_ended()
        while memory.trims < 1:
            await asyncio.sleep(0.01)
        memory.stream_ended()  # one more, just after: trimmed again, once
        memory.stream_ended()
        while memory.trims < 2:
            await asyncio.sleep(0.01)
        memory.close()

    asyncio.run(asyncio.wait_for(scenario(), 10))
    assert len(trims) == 2
