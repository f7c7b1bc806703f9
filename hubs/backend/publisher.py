"""Where rebuilt widgets go: every hubs-sse process, over ZeroMQ (or just the log)."""

from __future__ import annotations

import json
import logging
import threading
from typing import Any, Protocol

import zmq

log = logging.getLogger(__name__)


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
    """A PUB socket the sse processes subscribe to; frames are
    [stream name, event kind, JSON payload]. It binds ``endpoint`` (one backend, the
    sse processes connect), or connects to every hubs-sse in ``connect`` (several
    backends on one queue, each hubs-sse binding SSE_EVENTS_BIND)."""

    def __init__(self, endpoint: str | None = None, connect: list[str] = ()) -> None:
        self._socket = zmq.Context.instance().socket(zmq.PUB)
        if endpoint:
            self._socket.bind(endpoint)
        for address in connect:
            self._socket.connect(address)
        self._lock = threading.Lock()  # rebuild threads share one socket
        log.info(
            "Publishing widget events on %s", ", ".join([endpoint or "", *connect]).strip(", ")
        )

    def send(self, stream: str, kind: str, payload: dict[str, Any]) -> None:
        frames = [stream.encode(), kind.encode(), json.dumps(payload).encode()]
        with self._lock:
            self._socket.send_multipart(frames)

    def publish(self, event: dict[str, Any]) -> None:
        self.send(f"hub:{event['hub']['url']}", "widget", event)

    def close(self) -> None:
        with self._lock:
            self._socket.close(linger=0)


def make_publisher(config) -> Publisher:
    connect = list(config.get("BACKEND_EVENTS_CONNECT") or ())
    if connect:
        return ZmqPublisher(connect=connect)
    endpoint = config.get("BACKEND_EVENTS_ENDPOINT")
    return ZmqPublisher(endpoint) if endpoint else LoggingPublisher()
