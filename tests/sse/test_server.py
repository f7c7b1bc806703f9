"""hubs-sse over real HTTP on loopback, fed by the backend's real ZeroMQ publisher."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys

import aiohttp
import pytest
import zmq
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from yarl import URL

from hubs.backend.publisher import ZmqPublisher
from hubs.config import load_config
from hubs.sse.server import SESSIONS_RETRY_SECONDS, STREAMS, make_app
from hubs.sse.session_cookie import SessionsUnknown, generations_in
from tests.stack import accepts, free_port, wait_for

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


class Served:
    """hubs-sse as it runs (streams are served behind its door, not by the aiohttp app
    alone), on a free loopback port."""

    def __init__(self, site) -> None:
        self.site = site

    def make_url(self, path: str) -> URL:
        return URL(f"http://127.0.0.1:{self.site.port}{path}")


async def with_server(config, scenario, generation_of=FIRST_GENERATION):
    from hubs.sse.server import serve

    app = make_app(config, generation_of)
    runner, site = await serve(app, config, "127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession() as http:
            return await scenario(Served(site), http, app)
    finally:
        await runner.cleanup()


async def eventually(condition, what: str, timeout: float = 10) -> None:
    """Until ``condition()`` holds, letting the server run meanwhile."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.01)


async def publish_until_read(
    publisher, response, events: list[dict], skipped: list | None = None
) -> dict:
    """Publish ``events`` again and again until the stream shows one: a ZeroMQ
    subscriber misses what is published before it has joined ("slow joiner"). The
    snapshot hubs-sse sends when it finds it missed some is passed over (into
    ``skipped``, if given)."""
    while True:
        reading = asyncio.ensure_future(read_event(response, timeout=10))
        while not reading.done():
            for event in events:
                publisher.publish(event)
            await asyncio.wait([reading], timeout=0.05)
        if reading.result().get("event") != "snapshot":
            return reading.result()
        if skipped is not None:
            skipped.append(reading.result())


async def stalled_reader(port: int, hub: str = "/t/infra/") -> asyncio.StreamWriter:
    """A stream that reads its hello, then nothing: its socket buffers fill, then the
    server's. A small receive window, as a far client's, so the server holds it sooner."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    reader, writer = await asyncio.open_connection(sock=sock)
    writer.write(f"GET /stream?hub={hub} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    await writer.drain()
    await reader.readuntil(b"event: hello\ndata: {}\n\n")
    return writer


def widget_event(widget_id: int, hub: str = "/t/infra/") -> dict:
    return {"hub": {"url": hub}, "widget_id": widget_id, "version": widget_id, "html": "<p/>"}


def test_widget_events_from_the_backend_reach_the_hub_stream():
    config = sse_config()
    publisher = ZmqPublisher(config["BACKEND_EVENTS_ENDPOINT"])

    async def scenario(server, http, app):
        async with http.get(server.make_url("/stream?hub=/t/infra/")) as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/event-stream")
            assert response.headers["Cache-Control"] == "no-store"
            assert response.headers["X-Accel-Buffering"] == "no"
            assert "Content-Encoding" not in response.headers
            hello = await read_event(response)
            assert 2000 <= int(hello["retry"]) <= 4000
            # Another hub's event goes out first each time, and never reaches this stream.
            events = [widget_event(7, "/t/other/"), widget_event(8)]
            snapshots: list[dict] = []  # frames the slow joiner dropped: numbered too
            event = await publish_until_read(publisher, response, events, snapshots)
            assert event["event"] == "widget"
            assert '"widget_id":8' in event["data"]
            assert event["id"].endswith(f".{len(snapshots) + 1}")

    try:
        asyncio.run(with_server(config, scenario))
    finally:
        publisher.close()


def test_open_pages_fetch_themselves_anew_when_the_backend_restarts():
    """A backend killed and started again heard nothing the bus carried meanwhile
    (fedmsg keeps nothing), and publishes nothing about it: hubs-sse knows it from its
    first hello, and tells every page to fetch itself anew."""
    config = sse_config(SSE_SNAPSHOT_SPACING_SECONDS=0.1)
    endpoint = config["BACKEND_EVENTS_ENDPOINT"]

    async def next_of_kind(response, kind: str, last: dict) -> dict:
        while (event := await read_event(response))["event"] != kind:
            assert event["event"] == "widget", event  # hellos never reach a page
            last = event
        # Numbered as the next event: a browser away at that moment is replayed it.
        number = int(event["id"].rpartition(".")[2])
        assert number == int(last["id"].rpartition(".")[2]) + 1
        return event

    async def started_again(endpoint: str) -> ZmqPublisher:
        """A new backend on the same endpoint, once the killed one's port is free
        (ZeroMQ lets it go in its own thread)."""
        deadline = asyncio.get_running_loop().time() + 10
        while True:
            try:
                return ZmqPublisher(endpoint, hello_seconds=0.05)
            except zmq.ZMQError:
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.01)

    async def scenario(server, http, app):
        first = ZmqPublisher(endpoint, hello_seconds=0.05)
        try:
            async with http.get(server.make_url("/stream?hub=/t/infra/")) as response:
                await read_event(response)  # its hello
                shown = await publish_until_read(first, response, [widget_event(1)])
                assert shown["event"] == "widget"
                first.close()  # kill -9
                second = await started_again(endpoint)
                try:
                    told = await next_of_kind(response, "snapshot", shown)
                finally:
                    second.close()
                assert json.loads(told["data"]) == {"reason": "a backend started"}
        finally:
            first.close()

    asyncio.run(with_server(config, scenario))


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


def test_a_private_stream_asks_to_come_back_while_sessions_cannot_be_checked():
    """The database away is no refusal (a 403 would end the browser's EventSource for
    good): a 503 saying when to try again; and a real database that cannot be reached
    says so too (generations_in)."""
    config = sse_config()
    away = {"now": True}

    def generation_of(username):
        if away["now"]:
            raise SessionsUnknown("the database is restarting")
        return FIRST_GENERATION(username)

    async def scenario(server, http, app):
        url = server.make_url("/stream?hub=/u/ralph/&user=ralph")
        cookies = {"session": session_cookie("ralph")}
        async with http.get(url, cookies=cookies) as response:
            assert response.status == 503
            assert response.headers["Retry-After"] == str(SESSIONS_RETRY_SECONDS)
            assert (await response.json())["error"] == "service_unavailable"
        away["now"] = False
        async with http.get(url, cookies=cookies) as response:
            assert response.status == 200

    asyncio.run(with_server(config, scenario, generation_of))
    unreachable = generations_in(f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/none")
    with pytest.raises(SessionsUnknown):
        unreachable("ralph")


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


def test_one_heartbeat_timer_pings_every_stream_and_lets_go_of_readers_gone():
    config = sse_config(SSE_HEARTBEAT_SECONDS=0.2)

    async def scenario(server, http, app):
        url = server.make_url("/stream?hub=/t/infra/")
        async with http.get(url) as staying, http.get(url.with_query(hub="/t/other/")) as gone:
            await read_event(staying)
            await read_event(gone)
            await eventually(lambda: app[STREAMS].connections == 2, "both streams")
            gone.connection.transport.abort()  # the browser went away, saying nothing
            await eventually(lambda: app[STREAMS].connections == 1, "the gone one let go")
            assert await read_event(staying, timeout=2) == {"comment": "ping"}
            assert await read_event(staying, timeout=2) == {"comment": "ping"}

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


# -- the door: limits before aiohttp reads a request ------------------------------------


async def with_real_server(config, scenario):
    """The app behind hubs-sse's door (hubs.sse.guard), on a free loopback port."""
    from hubs.sse.server import serve

    app = make_app(config, FIRST_GENERATION)
    runner, site = await serve(app, config, "127.0.0.1", 0)
    try:
        return await scenario(site, app)
    finally:
        await runner.cleanup()


def test_every_answer_carries_the_security_headers():
    config = sse_config()

    async def scenario(site, app):
        base = f"http://127.0.0.1:{site.port}"
        async with aiohttp.ClientSession() as http:
            answers = []
            async with http.get(f"{base}/stream?hub=/t/infra/") as stream:
                await read_event(stream)
                answers.append(stream)
            for path in ("/stream?hub=nope", "/healthz", "/nothing-here"):
                async with http.get(base + path) as response:
                    await response.read()
                    answers.append(response)
        assert [a.status for a in answers] == [200, 400, 200, 404]
        for answer in answers:
            assert answer.headers["X-Content-Type-Options"] == "nosniff"
            assert answer.headers["X-Frame-Options"] == "DENY"
            assert answer.headers["Referrer-Policy"] == "no-referrer"
            assert answer.headers["Content-Security-Policy"].startswith("default-src 'none'")
            assert answer.headers["Cache-Control"] == "no-store"

    asyncio.run(with_real_server(config, scenario))


def test_a_thousand_half_open_connections_are_closed_and_a_normal_client_is_served():
    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # as hubs-sse's main() does
    config = sse_config(SSE_HEADER_TIMEOUT_SECONDS=5.0, SSE_MAX_CONNECTIONS_PER_CLIENT=64)
    publisher = ZmqPublisher(config["BACKEND_EVENTS_ENDPOINT"])

    async def half_open(port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /stream?hub=/t/infra/ HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # no end
        await writer.drain()
        return reader, writer

    async def closed(reader) -> bytes:
        """What the server sent before closing: nothing (it aborts), or its 429."""
        try:
            return await asyncio.wait_for(reader.read(), 10)
        except ConnectionResetError:
            return b""

    async def scenario(site, app):
        door = site.door
        # A normal reader, from another address of this machine, is served throughout.
        connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
        async with aiohttp.ClientSession(connector=connector) as http:
            url = f"http://127.0.0.1:{site.port}/stream?hub=/t/infra/"
            async with http.get(url) as stream:
                await read_event(stream)
                attackers = await asyncio.gather(*(half_open(site.port) for _ in range(1000)))
                # Over the limit: answered 429 at once; the 64 others wait for their deadline.
                await eventually(lambda: door.refused == 1000 - 64, "the refusals")
                event = await publish_until_read(publisher, stream, [widget_event(3)])
                assert '"widget_id":3' in event["data"]
                answers = await asyncio.gather(*(closed(reader) for reader, _w in attackers))
                refused = [a for a in answers if a.startswith(b"HTTP/1.1 429")]
                assert len(refused) == 1000 - 64
                assert b"at most 64 streams are open per client" in refused[0]
                assert [a for a in answers if a not in refused] == [b""] * 64
                assert door.timed_out == 64
                for _reader, writer in attackers:
                    writer.close()
                # Still live after all that: the next event arrives too.
                event = await publish_until_read(publisher, stream, [widget_event(4)])
                assert '"widget_id":4' in event["data"]
        await eventually(lambda: not door.open, "every connection to be let go")

    try:
        asyncio.run(with_real_server(config, scenario))
    finally:
        publisher.close()


def test_an_over_long_request_line_is_a_400_without_a_traceback(caplog):
    config = sse_config()

    async def scenario(site, app):
        reader, writer = await asyncio.open_connection("127.0.0.1", site.port)
        writer.write(b"GET /stream?hub=/t/" + b"x" * 20000 + b"/ HTTP/1.1\r\nHost: h\r\n\r\n")
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 10)
        writer.close()
        return answer

    with caplog.at_level("DEBUG"):
        answer = asyncio.run(with_real_server(config, scenario))
    assert answer.split(b"\r\n")[0].endswith(b" 400 Bad Request")
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records]


def test_a_burst_reaches_normal_readers_whole_and_slow_readers_hold_one_event_a_widget():
    # 1,500 events over the 30 widgets of a hub: readers that keep up see the last
    # version of every widget and stay; readers that stop reading are not let to hold
    # more than one waiting event per widget (a newer panel replaces the older).
    config = sse_config(SSE_QUEUE_SIZE=64)
    publisher = ZmqPublisher(config["BACKEND_EVENTS_ENDPOINT"])
    burst, widgets = 1500, 30
    last = {n % widgets + 1: n for n in range(1, burst + 1)}

    async def reads_to_the_end(response) -> dict[int, int]:
        shown: dict[int, int] = {}
        while any(shown.get(wid, -1) < version for wid, version in last.items()):
            event = await read_event(response, timeout=20)
            data = json.loads(event.get("data") or "{}")
            if event.get("event") == "widget" and data["widget_id"] in last:
                shown[data["widget_id"]] = max(shown.get(data["widget_id"], -1), data["version"])
        return shown

    async def scenario(site, app):
        streams = app[STREAMS]
        url = f"http://127.0.0.1:{site.port}/stream?hub=/t/infra/"
        async with aiohttp.ClientSession() as http:
            readers = [await http.get(url) for _ in range(5)]
            for response in readers:
                await read_event(response)
            slow_ones = [await stalled_reader(site.port) for _ in range(20)]
            await eventually(lambda: streams.connections == 25, "every stream attached")
            # The first event, again until it shows (ZeroMQ's slow joiner); then the burst.
            await publish_until_read(publisher, readers[0], [widget_event(0)])
            reading = [asyncio.ensure_future(reads_to_the_end(r)) for r in readers]
            for number in range(1, burst + 1):
                event = {**widget_event(number % widgets + 1), "version": number}
                publisher.publish({**event, "html": "x" * 8000})
            shown = await asyncio.gather(*reading)
            assert shown == [last] * 5
            connections = streams.stream("hub:/t/infra/").connections
            assert len(connections) == 25 and streams.dropped == 0
            assert max(c.queue.qsize() for c in connections) <= widgets + 1
            for writer in slow_ones:
                writer.close()
            for response in readers:
                response.close()

    try:
        asyncio.run(with_real_server(config, scenario))
    finally:
        publisher.close()


def test_a_pages_first_connection_says_when_it_was_rendered():
    import time

    config = sse_config()

    async def scenario(server, http, app):
        url = server.make_url("/stream")
        # Nobody watched this hub here: what was published since is unknown, a snapshot.
        before = {"hub": "/t/design/", "since": str(time.time())}
        async with http.get(url, params=before) as unknown:
            assert (await read_event(unknown))["event"] == "snapshot"
        async with http.get(url, params={"hub": "/t/infra/"}) as watcher:
            await read_event(watcher)
            rendered = time.time()  # a page rendered now; then an event, then it connects
            app[STREAMS].publish("hub:/t/infra/", "widget", {"widget_id": 5, "version": 5})
            params = {"hub": "/t/infra/", "since": str(rendered)}
            async with http.get(url, params=params) as page:
                assert (await read_event(page))["event"] == "hello"
                replayed = await read_event(page)
                assert replayed["event"] == "widget" and '"widget_id":5' in replayed["data"]
        for junk in ("yesterday", "nan", "inf"):  # not a time: as if none was given
            async with http.get(url, params={"hub": "/t/x/", "since": junk}) as response:
                assert (await read_event(response))["event"] == "hello"

    asyncio.run(with_server(config, scenario))


def test_a_reader_holding_too_much_unsent_is_dropped_alone():
    # Panels bigger than the limit: the reader that takes each one stays; the one that
    # stopped reading, once the kernel's buffers are full, still holds most of one when
    # the next comes, and goes.
    config = sse_config(SSE_WRITE_BUFFER_BYTES=128 * 1024)
    panel = "x" * 400_000

    async def scenario(site, app):
        streams = app[STREAMS]
        url = f"http://127.0.0.1:{site.port}/stream?hub=/t/infra/"
        async with aiohttp.ClientSession() as http, http.get(url) as reader:
            await read_event(reader)
            stalled = await stalled_reader(site.port)
            await eventually(lambda: streams.connections == 2, "both streams attached")
            number = 0
            while not streams.dropped:
                number += 1
                assert number <= 200, "80 MB sent and the stalled reader still served"
                # One widget: its newer panel replaces the waiting one, no queue overflows.
                panel_event = {"widget_id": 1, "version": number, "html": panel}
                streams.publish("hub:/t/infra/", "widget", panel_event)
                event = await read_event(reader)
                assert f'"version":{number},' in event["data"]
            assert streams.dropped == 1
            assert len(streams.stream("hub:/t/infra/").connections) == 1
            # Closed, not merely left out: what it did not take is let go.
            await eventually(lambda: site.door.open["127.0.0.1"] == 1, "its connection closed")
            streams.publish("hub:/t/infra/", "widget", {"widget_id": 2, "html": panel})
            assert '"widget_id":2,' in (await read_event(reader))["data"]
            stalled.close()

    asyncio.run(with_real_server(config, scenario))


def test_two_processes_on_one_publisher_each_serve_their_streams(tmp_path):
    """As behind the reverse proxy (README, "Several hubs-sse"): both processes get
    every event and number it themselves; a browser sent to the other one with its id
    gets a snapshot, as the other cannot know what it missed."""
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    config = tmp_path / "config.py"
    config.write_text(f"SECRET_KEY = {SECRET!r}\nSSE_BACKEND_ENDPOINTS = [{endpoint!r}]\n")
    ports = [free_port(), free_port()]
    processes = [
        subprocess.Popen(
            [os.path.join(os.path.dirname(sys.executable), "hubs-sse"), "--port", str(port)],
            env={**os.environ, "HUBS_CONFIG": str(config)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    publisher = ZmqPublisher(endpoint)

    async def scenario():
        async with aiohttp.ClientSession() as http:
            urls = [f"http://127.0.0.1:{port}/stream?hub=/t/infra/" for port in ports]
            responses = [await http.get(url) for url in urls]
            hellos = [await read_event(response) for response in responses]
            assert hellos[0]["id"].split(".")[0] != hellos[1]["id"].split(".")[0]
            events = [await publish_until_read(publisher, r, [widget_event(5)]) for r in responses]
            for event, hello in zip(events, hellos, strict=True):
                assert '"widget_id":5' in event["data"]
                assert event["id"].split(".")[0] == hello["id"].split(".")[0]
            moved = await http.get(urls[1], headers={"Last-Event-ID": events[0]["id"]})
            assert (await read_event(moved))["event"] == "snapshot"
            for response in [*responses, moved]:
                response.close()

    try:
        for port in ports:
            wait_for(lambda port=port: accepts(port), 20, "hubs-sse")
        asyncio.run(scenario())
    finally:
        publisher.close()
        for process in processes:
            process.terminate()
            process.wait(20)


def test_a_stream_request_is_read_whole_however_it_comes_and_others_go_to_aiohttp():
    """The door reads a request's head across reads before choosing who serves it: a
    stream is hubs-sse's, anything it cannot take as one is aiohttp's to answer."""
    config = sse_config()

    async def ask(port: int, *pieces: bytes) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for piece in pieces:
            writer.write(piece)
            await writer.drain()
            await asyncio.sleep(0.01)  # each its own read on the server's side
        try:
            return await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        finally:
            writer.close()

    async def scenario(site, app):
        head = await ask(
            site.port, b"GET /stream?hub=/t/in", b"fra/ HTTP/1.1\r\nHo", b"st: h\r\n", b"\r\n"
        )
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        assert b"\r\nTransfer-Encoding: chunked\r\n" in head
        old = await ask(site.port, b"GET /stream?hub=/t/infra/ HTTP/1.0\r\n\r\n")
        assert old.startswith(b"HTTP/1.1 505 ")
        broken = await ask(site.port, b"GET /stream?hub=/t/infra/ HTTP/1.1\r\nno colon\r\n\r\n")
        assert broken.split(b"\r\n")[0].endswith(b" 400 Bad Request")  # aiohttp's answer
        await eventually(lambda: app[STREAMS].connections == 0, "the stream let go")

    asyncio.run(with_real_server(config, scenario))


def test_a_reader_that_lagged_gets_what_waited_in_order_when_it_reads_again():
    config = sse_config(SSE_WRITE_BUFFER_BYTES=64 * 1024 * 1024)

    async def scenario(site, app):
        streams = app[STREAMS]
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", site.port))
        reader, writer = await asyncio.open_connection(sock=sock, limit=1024 * 1024)
        writer.write(b"GET /stream?hub=/t/infra/ HTTP/1.1\r\nHost: h\r\n\r\n")
        await reader.readuntil(b"event: hello\ndata: {}\n\n")
        await eventually(lambda: streams.connections == 1, "the stream attached")
        (connection,) = streams.stream("hub:/t/infra/").connections
        published = 0
        while connection.queue.qsize() < 5:  # not read: its buffers fill, then its queue
            assert published < 2000, "40 MB sent and nothing waits in its queue"
            streams.publish("hub:/t/infra/", "entry", {"n": published, "pad": "x" * 20000})
            published += 1
            await asyncio.sleep(0)
        numbers = []
        while len(numbers) < published:
            block = await asyncio.wait_for(reader.readuntil(b"\n\n"), 10)
            if b"data: " in block:
                numbers.append(json.loads(block.split(b"data: ")[1])["n"])
        assert numbers == list(range(published))
        assert connection.queue.empty() and streams.dropped == 0
        writer.close()

    asyncio.run(with_real_server(config, scenario))
