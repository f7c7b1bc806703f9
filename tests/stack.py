"""Running the real processes for integration and browser tests: fedmsg-relay,
fedmsg-hub with the hubs consumer, hubs-sse, and the web app, on free loopback ports."""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

import zmq
from werkzeug.serving import WSGIRequestHandler, make_server

from hubs.app import create_app
from hubs.backend.triage import stats_path
from hubs.cache import close_cache
from hubs.database import db, upgrade
from hubs.seed import populate, warm_cache
from tests.conftest import recreate_postgres_database

ROOT = pathlib.Path(__file__).resolve().parents[1]
BIN = pathlib.Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def rss_bytes(pid: int) -> int:
    """The resident memory of process ``pid`` (VmRSS of /proc/<pid>/status)."""
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"process {pid} has no VmRSS (gone, or a kernel thread)")


def accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


# The settings naming Fedora's web services.
SERVICE_URLS = [
    "BADGES_URL", "BODHI_URL", "BUGZILLA_URL", "DATAGREPPER_URL", "FEDOCAL_URL", "GITHUB_URL",
    "PAGURE_URL",
]  # fmt: skip


class IdleClosingHandler(WSGIRequestHandler):
    """Closes a connection that sends nothing for a while: Chromium opens sockets ahead
    of its requests, and one left open by a browser that is gone would hold a one-thread
    server, and its shutdown, for ever."""

    timeout = 10


@dataclass
class Stack:
    """The demo hubs on their own PostgreSQL database, and the processes serving them."""

    workdir: pathlib.Path
    cache_config: dict
    database: str = "hubs_test_stack"
    settings: dict = field(default_factory=dict)  # over the stack's own
    ports: dict[str, int] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    app: object = None
    _web: object = None
    _web_socket: socket.socket | None = None
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    def __post_init__(self) -> None:
        for name in ("inbound", "outbound", "events", "sse"):
            self.ports[name] = free_port()
        # The web app's socket is taken now, not when it serves: a port found free and
        # bound later may be taken meanwhile (the processes' own connections use them).
        self._web_socket = socket.create_server(("127.0.0.1", 0))
        self.ports["web"] = self._web_socket.getsockname()[1]
        url = recreate_postgres_database(self.database)
        upgrade(url)
        self.web_url = f"http://127.0.0.1:{self.ports['web']}"
        self.config = {
            "DATABASE_URL": url,
            "VAR_DIR": str(self.workdir / "var"),
            "SECRET_KEY": "stack-secret",
            "BACKEND_EVENTS_ENDPOINT": f"tcp://127.0.0.1:{self.ports['events']}",
            "SSE_BACKEND_ENDPOINTS": [f"tcp://127.0.0.1:{self.ports['events']}"],
            "SSE_URL": f"http://127.0.0.1:{self.ports['sse']}/stream",
            "SSE_PORT": self.ports["sse"],
            "SSE_ALLOWED_ORIGINS": [self.web_url],
            "SSE_RETRY_MS": 300,
            "FEDMSG_PUBLISH": True,
            "FEDMSG_CONFIG_DIR": str(self.workdir / "fedmsg.d"),
            # No process of the stack reaches the internet: Fedora's services are "down".
            **dict.fromkeys(SERVICE_URLS, f"http://127.0.0.1:{free_port()}/"),
            **self.cache_config,
            **self.settings,
        }
        self.app = create_app(self.config)
        with self.app.app_context():
            populate(db.session, say=lambda line: None)
            warm_cache(db.session, say=lambda line: None)
            db.session.remove()
        confdir = self.workdir / "fedmsg.d"
        shutil.copytree(ROOT / "fedmsg.d", confdir)
        (confdir / "zz_test.py").write_text(
            "config = " + repr({
                "relay_inbound": f"tcp://127.0.0.1:{self.ports['inbound']}",
                "endpoints": {"relay_outbound": [f"tcp://127.0.0.1:{self.ports['outbound']}"]},
                "hubs.config": self.config,
            })
        )  # fmt: skip
        (self.workdir / "hubs-config.py").write_text(
            "\n".join(f"{key} = {value!r}" for key, value in self.config.items()) + "\n"
        )

    def _env(self) -> dict[str, str]:
        return {**os.environ, "HOME": str(self.workdir),
                "HUBS_CONFIG": str(self.workdir / "hubs-config.py")}  # fmt: skip

    def start(self, name: str) -> subprocess.Popen:
        command = {
            "relay": [str(BIN / "fedmsg-relay")],
            "hub": [str(BIN / "fedmsg-hub")],
            "sse": [str(BIN / "hubs-sse")],
        }[name]
        log = self._stack.enter_context((self.workdir / f"{name}.log").open("a"))
        process = subprocess.Popen(
            command, cwd=self.workdir, env=self._env(), stdout=log, stderr=log
        )
        self.processes[name] = process
        if name == "hub":
            wait_for(lambda: os.path.exists(stats_path(self.app.config)), 60, "fedmsg-hub")
        if name == "sse":
            wait_for(lambda: accepts(self.ports["sse"]), 20, "hubs-sse")
        return process

    def backend_stats(self) -> dict:
        from tests.oracles import backend_stats

        return backend_stats(self.app) or {}

    def wait_settled(self, seen: int, timeout: float = 30) -> dict:
        """Until the backend has seen ``seen`` messages and settled: nothing left to
        rebuild (it writes its counters once a burst is over)."""
        return wait_for(
            lambda: (
                (s := self.backend_stats()).get("seen", 0) >= seen and s["queue_depth"] == 0 and s
            ),
            timeout,
            f"the backend to settle after {seen} messages",
        )

    def stop(self, name: str, sig: int = signal.SIGTERM) -> None:
        process = self.processes.pop(name)
        process.send_signal(sig)
        process.wait(10)

    def serve_web(self) -> str:
        server = make_server(
            "127.0.0.1", self.ports["web"], self.app, threaded=False,
            request_handler=IdleClosingHandler, fd=self._web_socket.fileno(),
        )  # fmt: skip

        def serve():
            server.serve_forever()
            close_cache()

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        self._web = (server, thread)
        return self.web_url

    def publish(self, message: dict, until, timeout: float = 20, what: str = "the message"):
        """Send a bus message to the relay, again until ``until()`` is true (ZeroMQ's slow
        joiner may drop the first ones; a msg_id makes repeats harmless)."""
        context = zmq.Context.instance()
        publisher = context.socket(zmq.PUB)
        publisher.connect(f"tcp://127.0.0.1:{self.ports['inbound']}")
        frames = [message["topic"].encode(), json.dumps(message).encode()]

        def sent_and_done():
            publisher.send_multipart(frames)
            return wait_until(until, 0.5)

        try:
            return wait_for(sent_and_done, timeout, what, interval=0)
        finally:
            publisher.close(linger=0)

    def close(self) -> None:
        if self._web is not None:
            server, thread = self._web
            server.shutdown()
            thread.join()
            server.server_close()
        self._web_socket.close()
        for name in list(self.processes):
            self.stop(name)
        self._stack.close()
        db.session.remove()
        db.engine.dispose()

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name} ---\n{path.read_text()[-2500:]}"
            for path in sorted(self.workdir.glob("*.log"))
        )


def wait_until(condition, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    return None
