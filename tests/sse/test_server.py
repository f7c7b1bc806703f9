"""hubs-sse over real HTTP on loopback, fed by the backend's real ZeroMQ publisher."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

import aiohttp
from aiohttp.test_utils import TestServer
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from hubs.backend.publisher import ZmqPublisher
from hubs.config import load_config
from hubs.sse.server import STREAMS, make_app
from tests.stack import free_port

SECRET = "sse-test-secret"


def sse_config(**overrides) -> dict:
    port = free_port()
    return load_config(
        {
            "SECRET_KEY": SECRET,
            "SSE_BACKEND_ENDPOINTS": [f"tcp://127.0.0.1:{port}"],
            "BACKEND_EVENTS_ENDPOINT": f"tcp://127.0.0.1:{port}",
            "SSE_HEARTBEAT_SECONDS": 15,
            **overrides,
        }
    )


def session_cookie(username: str, secret: str = SECRET, generation: int = 0) -> str:
    """A session cookie as the web app signs it at login."""
    app = Flask("cookie-maker")
    app.secret_key = secret
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    return serializer.dumps({"username": username, "generation": generation})


# Every test user at their first session generation (the users table's default).
FIRST_GENERATION = {"ralph": 0, "mizmo": 0, "nirik": 0}.get


async def read_event(response, timeout: float = 5) -> dict:
    """The next SSE block (comments included) as a dict of its fields."""
    fields: dict[str, str] = {}
    while True:
        line = (await asyncio.wait_for(response.content.readline(), timeout)).decode()
        if line in ("\n", ""):
            if fields:
                return fields
            if line == "":
                raise EOFError("stream closed")
            continue
        name, _, value = line.rstrip("\n").partition(":")
        fields[name or "comment"] = value.lstrip(" ")


async def with_server(config, scenario, generation_of=FIRST_GENERATION):
    app = make_app(config, generation_of)
    async with TestServer(app, host="127.0.0.1") as server, aiohttp.ClientSession() as http:
        return await scenario(server, http, app)


async def eventually(condition, what: str, timeout: float = 10) -> None:
    """Until ``condition()`` holds, letting the server run meanwhile."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.01)


async def publish_until_read(publisher, response, events: list[dict]) -> dict:
    """Publish ``events`` again and again until the stream shows one: a ZeroMQ
    subscriber misses what is published before it has joined ("slow joiner")."""
    reading = asyncio.ensure_future(read_event(response, timeout=10))
    while not reading.done():
        for event in events:
            publisher.publish(event)
        await asyncio.wait([reading], timeout=0.05)
    return reading.result()


def widget_event(widget_id: int, hub: str = "/t/infra/") -> dict:
    return {"hub": {"url": hub}, "widget_id": widget_id, "version": widget_id, "html": "<p/>"}


def test_widget_events_from_the_backend_reach_the_hub_stream():
    config = sse_config()
    publisher = ZmqPublisher(config["BACKEND_EVENTS_ENDPOINT"])

    async def scenario(server, http, app):
        async with http.get(server.make_url("/stream?hub=/t/infra/")) as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/event-stream")
            assert response.headers["Cache-Control"] == "no-cache"
            assert response.headers["X-Accel-Buffering"] == "no"
            assert "Content-Encoding" not in response.headers
            hello = await read_event(response)
            assert 2000 <= int(hello["retry"]) <= 4000
            # Another hub's event goes out first each time, and never reaches this stream.
            events = [widget_event(7, "/t/other/"), widget_event(8)]
            event = await publish_until_read(publisher, response, events)
            assert event["event"] == "widget"
            assert '"widget_id":8' in event["data"]
            assert event["id"].endswith(".1")

    try:
        asyncio.run(with_server(config, scenario))
    finally:
        publisher.close()


def test_reconnect_with_last_event_id_replays_missed_events():
    config = sse_config()

    async def scenario(server, http, app):
        streams = app[STREAMS]
        url = server.make_url("/stream?hub=/t/infra/")
        async with http.get(url) as response:
            await read_event(response)
            streams.publish("hub:/t/infra/", "widget", widget_event(1))
            last_id = (await read_event(response))["id"]
        await eventually(lambda: streams.connections == 0, "the first connection to go")
        for n in (2, 3):
            streams.publish("hub:/t/infra/", "widget", widget_event(n))
        async with http.get(url, headers={"Last-Event-ID": last_id}) as response:
            await read_event(response)  # retry
            replayed = [await read_event(response) for _ in range(2)]
        assert ['"widget_id":2' in replayed[0]["data"], '"widget_id":3' in replayed[1]["data"]] == [
            True,
            True,
        ]
        async with http.get(url, headers={"Last-Event-ID": "another-process.1"}) as response:
            hello = await read_event(response)
            assert hello["event"] == "snapshot"

    asyncio.run(with_server(config, scenario))


def test_private_streams_are_for_their_owner_only():
    config = sse_config()

    async def scenario(server, http, app):
        url = server.make_url("/stream?hub=/u/ralph/&user=ralph")
        async with http.get(url) as response:
            assert response.status == 403  # anonymous
            assert (await response.json()) == {
                "error": "forbidden",
                "message": "a private stream is only for its logged-in owner",
                "errors": {},
            }
        for cookie in (session_cookie("mizmo"), session_cookie("ralph", secret="forged")):
            async with http.get(url, cookies={"session": cookie}) as response:
                assert response.status == 403
        async with http.get(url, cookies={"session": session_cookie("ralph")}) as response:
            assert response.status == 200
            assert "retry" in await read_event(response)
        for bad in ("/stream", "/stream?hub=nothing", "/stream?hub=/t/a/&user=no%20way"):
            async with http.get(server.make_url(bad)) as response:
                assert response.status == 400

    asyncio.run(with_server(config, scenario))


def test_cors_for_the_web_app_origin_only():
    config = sse_config()

    async def scenario(server, http, app):
        url = server.make_url("/stream?hub=/t/infra/")
        async with http.get(url, headers={"Origin": "http://localhost:5000"}) as response:
            assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:5000"
            assert response.headers["Access-Control-Allow-Credentials"] == "true"
        async with http.get(url, headers={"Origin": "https://evil.example"}) as response:
            assert "Access-Control-Allow-Origin" not in response.headers

    asyncio.run(with_server(config, scenario))


def test_heartbeats_keep_idle_streams_open():
    config = sse_config(SSE_HEARTBEAT_SECONDS=0.2)

    async def scenario(server, http, app):
        async with http.get(server.make_url("/stream?hub=/t/infra/")) as response:
            await read_event(response)
            assert await read_event(response, timeout=2) == {"comment": "ping"}

    asyncio.run(with_server(config, scenario))


def test_a_client_that_stops_reading_is_dropped():
    config = sse_config(SSE_QUEUE_SIZE=8)

    async def scenario(server, http, app):
        streams = app[STREAMS]
        async with http.get(server.make_url("/stream?hub=/t/infra/")) as response:
            await read_event(response)
            # Not reading: the socket buffers fill, then the queue.
            for n in range(3000):
                streams.publish("hub:/t/infra/", "widget", {"n": n, "pad": "x" * 4000})
                if n % 50 == 0:
                    await asyncio.sleep(0)
            await eventually(lambda: streams.dropped >= 1, "the reader to be dropped")
            await eventually(lambda: streams.connections == 0, "its connection to close")
            assert len(streams.stream("hub:/t/infra/").ring) == config["SSE_RING_SIZE"]

    asyncio.run(with_server(config, scenario))


def test_sigterm_ends_streams_and_the_process():
    port = free_port()
    env = {**os.environ, "HUBS_CONFIG": ""}
    env.pop("HUBS_CONFIG")
    process = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "hubs-sse"), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )

    async def scenario():
        async with aiohttp.ClientSession() as http:
            for _ in range(50):
                try:
                    response = await http.get(f"http://127.0.0.1:{port}/stream?hub=/t/infra/")
                    break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            await read_event(response)
            process.send_signal(signal.SIGTERM)
            # The server ends the stream itself: read_event would time out otherwise.
            ended = None
            try:
                while True:
                    await read_event(response)
            except (EOFError, aiohttp.ClientPayloadError) as error:
                ended = error
            response.close()
            return ended

    try:
        ended = asyncio.run(scenario())
        assert ended is not None
        assert process.wait(10) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.stdout.close()
