"""Where rebuilt widgets go: every hubs-sse process, over ZeroMQ (or just the log)."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from typing import Any, Protocol

import zmq

log = logging.getLogger(__name__)

# The stream of frames for hubs-sse itself (a backend's hellos): no page watches it.
CONTROL_STREAM = "hubs-sse"


class Publisher(Protocol):
    def publish(self, event: dict[str, Any]) -> None:
        """Send one widget event {hub, widget_id, version, data, html} to the browsers."""

    def send(self, stream: str, kind: str, payload: dict[str, Any]) -> None:
        """Send an event of ``kind`` to one stream ("user:ralph" for a private one)."""

    def close(self) -> None: ...


class LoggingPublisher:
    """Logs each event, for a backend without SSE processes."""

    def publish(self, event: dict[str, Any]) -> None:
        log.debug(
            "widget %s of %s rebuilt (version %s)",
            event["widget_id"],
            event["hub"]["url"],
            event["version"],
        )

    def send(self, stream: str, kind: str, payload: dict[str, Any]) -> None:
        log.debug("%s event for %s", kind, stream)

    def close(self) -> None:
        """Nothing to release: it holds no socket."""


class ZmqPublisher:
    """A PUB socket the sse processes subscribe to; frames are [stream name, event
    kind, JSON payload, "<process id>.<started, ms>.<number>"]. It binds ``endpoint``
    (one backend, the sse processes connect), or connects to every hubs-sse in
    ``connect`` (several backends on one queue, each hubs-sse binding SSE_EVENTS_BIND)."""

    def __init__(
        self,
        endpoint: str | None = None,
        connect: list[str] = (),
        hello_seconds: float | None = None,
    ) -> None:
        self._socket = zmq.Context.instance().socket(zmq.PUB)
        try:
            if endpoint:
                self._socket.bind(endpoint)
            for address in connect:
                self._socket.connect(address)
        except zmq.ZMQError:
            self._socket.close(linger=0)
            raise
        self._lock = threading.Lock()  # rebuild threads share one socket
        # Every frame says which process sent it, when that process started, and how
        # many events it has sent, this one included: hubs-sse tells from them what
        # ZeroMQ dropped, and when a backend (re)started.
        self.instance = f"{uuid.uuid4().hex[:12]}.{int(time.time() * 1000)}"  # id.started
        self._sent = 0
        self._closed = False
        self._stopping = threading.Event()
        if hello_seconds:
            threading.Thread(
                target=self._say_hello, args=(hello_seconds,), name="sse-hello", daemon=True
            ).start()
        log.info(
            "Publishing widget events on %s", ", ".join([endpoint or "", *connect]).strip(", ")
        )

    def send(self, stream: str, kind: str, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        with self._lock:
            if self._closed:
                return
            if stream != CONTROL_STREAM:
                self._sent += 1  # events are numbered; a hello says how many went before
            tag = f"{self.instance}.{self._sent}".encode()
            self._socket.send_multipart([stream.encode(), kind.encode(), body, tag])

    def publish(self, event: dict[str, Any]) -> None:
        self.send(f"hub:{event['hub']['url']}", "widget", event)

    def _say_hello(self, every: float) -> None:
        """A frame now and then, even while no message comes: a backend that started
        is known at once, and one idle since it (re)started too."""
        while True:
            self.send(CONTROL_STREAM, "hello", {})
            if self._stopping.wait(every):
                return

    def close(self) -> None:
        self._stopping.set()
        with self._lock:
            self._closed = True
            self._socket.close(linger=0)


def make_publisher(config) -> Publisher:
    connect = list(config.get("BACKEND_EVENTS_CONNECT") or ())
    hello = config.get("BACKEND_HELLO_SECONDS")
    if connect:
        return ZmqPublisher(connect=connect, hello_seconds=hello)
    endpoint = config.get("BACKEND_EVENTS_ENDPOINT")
    return ZmqPublisher(endpoint, hello_seconds=hello) if endpoint else LoggingPublisher()
