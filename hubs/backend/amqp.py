"""The fedora-messaging callback: hands every AMQP message to the Backend.

Run it the conventional way, ``fedora-messaging --conf hubs-messaging.toml consume``
with ``callback = "hubs.backend.amqp:Consumer"`` in the TOML (examples/ has one);
Hubs' own settings come from $HUBS_CONFIG as everywhere else. N such processes share
one durable queue (competing consumers):

- A message is acked only once it is committed to the store and the rebuilds of the
  widgets it concerns are done; a process killed before that leaves it unacked, and
  RabbitMQ delivers it again (the msg_id makes a second delivery change nothing).
- A transient failure (the database down or locked) is retried in the process for
  BACKEND_RETRY_SECONDS, then the message is handed back to the queue (nack, requeue).
  On its last allowed delivery it is retried here until it succeeds: a transient
  failure never dead-letters a message.
- Any other failure hands it back too; the queue's ``x-delivery-limit`` (a quorum
  queue) dead-letters it after that many deliveries, and the try that knows it is the
  last counts it (``dead_lettered`` in `fedora-hubs backend-stats`).
- hubs.* changes must reach every backend's hint index, not only the one that took
  them off the shared queue: each process also listens on a queue of its own
  (exclusive, deleted with it) bound to the hubs topics.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import socket
import ssl
import threading
import time
from typing import Any

from fedora_messaging import config as fm_config
from fedora_messaging.exceptions import Nack

from hubs.backend.store import InvalidMessage
from hubs.backend.triage import Backend
from hubs.database import TRANSIENT_DB_ERRORS
from hubs.messaging import bus_message

log = logging.getLogger(__name__)

# Routing keys of hubs' own messages, with or without the topic prefix.
HUBS_KEYS = ("hubs.#", "#.hubs.#")
RECONNECT_SECONDS = (0.5, 10.0)  # the listener's first and longest wait to reconnect


def delivery_limit(queues: dict[str, Any], queue: str | None) -> int | None:
    """The x-delivery-limit the TOML gives ``queue`` (None: no limit is set)."""
    arguments = (queues.get(queue) or {}).get("arguments") or {} if queue else {}
    limit = arguments.get("x-delivery-limit")
    return limit if isinstance(limit, int) and limit >= 0 else None


def deliveries_before(message) -> int:
    """How many times RabbitMQ delivered ``message`` before (a quorum queue's header)."""
    count = (message._headers or {}).get("x-delivery-count")
    return count if isinstance(count, int) else 0


class Consumer:
    """The fedora-messaging callback (a class: fedora-messaging makes one instance)."""

    def __init__(self, app=None, listen: bool = True, declare: bool = True) -> None:
        from hubs.app import create_app

        self.app = app or create_app()
        instance = os.environ.get("HUBS_BACKEND_INSTANCE") or (
            f"{socket.gethostname()}-{os.getpid()}"
        )
        self.backend = Backend(self.app, instance=instance)
        self.queues = dict(fm_config.conf["queues"])
        if declare:
            declare_dead_letter_queues(fm_config.conf)
        self.listener = HubsChangesListener(self.backend, fm_config.conf) if listen else None
        if self.listener is not None:
            self.listener.start()
        self.backend.write_stats()  # tells `fedora-hubs backend-stats` it is up
        atexit.register(self.close)
        log.info(
            "Hubs backend %s ready on fedora-messaging: %d widgets indexed",
            instance, len(self.backend.index.entries),
        )  # fmt: skip

    def __call__(self, message) -> None:
        value = bus_message(message)
        last_try = self._is_last_try(message)
        while True:
            try:
                stale = self.backend.process(value)
                break
            except InvalidMessage:
                return  # counted as invalid and acked: it can never be stored
            except TRANSIENT_DB_ERRORS:
                if last_try:  # never dead-letter a message for a passing failure
                    log.warning(
                        "%s: last delivery, retrying until the database is back", message.id
                    )
                    time.sleep(1.0)
                    continue
                self._requeue(message)
            except Exception:
                if last_try:
                    self.backend.count("dead_lettered")
                    log.error("%s fails every time: it goes to the dead letters", message.id)
                    self.backend.write_stats(summary=False)
                    raise Nack() from None
                self._requeue(message)
        # Acked once its widgets are rebuilt: a crash before that delivers it again.
        if stale and not self.backend.pool.wait_done(
            stale, timeout=self.app.config["BACKEND_ACK_WAIT_SECONDS"]
        ):
            log.warning("%s: rebuilds still running after the wait; acking it", message.id)

    def _is_last_try(self, message) -> bool:
        limit = delivery_limit(self.queues, getattr(message, "queue", None))
        return limit is not None and deliveries_before(message) >= limit

    def _requeue(self, message) -> None:
        self.backend.count("requeued")
        log.warning("Handing %s back to the queue", message.id)
        raise Nack()

    def close(self) -> None:
        atexit.unregister(self.close)
        if self.listener is not None:
            self.listener.stop()
        self.backend.close()


def dead_letter_queues(queues: dict[str, Any]) -> list[str]:
    """The dead-letter queues the TOML's queues name (through the default exchange)."""
    names = []
    for settings in queues.values():
        arguments = (settings or {}).get("arguments") or {}
        if arguments.get("x-dead-letter-exchange") == "" and arguments.get(
            "x-dead-letter-routing-key"
        ):
            names.append(arguments["x-dead-letter-routing-key"])
    return names


def declare_dead_letter_queues(conf: dict[str, Any]) -> None:
    """Declare (durable) the dead-letter queues before consuming starts: fedora-messaging
    declares the queues it consumes, and a dead letter with no queue would be lost."""
    names = dead_letter_queues(conf["queues"])
    if not names:
        return
    import pika

    connection = pika.BlockingConnection(connection_parameters(conf))
    try:
        channel = connection.channel()
        for name in names:
            channel.queue_declare(name, durable=True)
    finally:
        connection.close()


def connection_parameters(conf: dict[str, Any]):
    """pika's parameters for the broker of fedora-messaging's config (TLS included)."""
    import pika

    parameters = pika.URLParameters(conf["amqp_url"])
    tls = conf.get("tls") or {}
    if conf["amqp_url"].startswith("amqps") and tls:
        context = ssl.create_default_context(cafile=tls.get("ca_cert"))
        if tls.get("certfile"):
            context.load_cert_chain(tls["certfile"], tls.get("keyfile"))
        parameters.ssl_options = pika.SSLOptions(context, parameters.host)
    parameters.client_properties = {"connection_name": f"hubs-backend-changes-{os.getpid()}"}
    return parameters


class HubsChangesListener(threading.Thread):
    """Hears every hubs.* message on an exclusive queue of this process, and has the
    backend follow it (its hint index); reconnects with back-off."""

    def __init__(self, backend: Backend, conf: dict[str, Any]) -> None:
        super().__init__(name="hubs-changes", daemon=True)
        self.backend = backend
        self.conf = conf
        self.exchange = next(
            (b["exchange"] for b in conf.get("bindings") or () if b.get("exchange")), "amq.topic"
        )
        self.ready = threading.Event()
        self._stopping = threading.Event()
        self._connection = None

    def run(self) -> None:
        import pika

        wait = RECONNECT_SECONDS[0]
        while not self._stopping.is_set():
            try:
                self._listen(pika)
                wait = RECONNECT_SECONDS[0]
            except Exception as error:  # the broker went away: back-off and reconnect
                if self._stopping.is_set():
                    return
                self.ready.clear()
                log.warning("hubs changes: %s; reconnecting in %.1f s", error or type(error), wait)
                self._stopping.wait(wait)
                wait = min(wait * 2, RECONNECT_SECONDS[1])

    def _listen(self, pika) -> None:
        connection = pika.BlockingConnection(connection_parameters(self.conf))
        self._connection = connection
        try:
            channel = connection.channel()
            queue = channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
            for key in HUBS_KEYS:
                channel.queue_bind(queue, self.exchange, routing_key=key)
            self.ready.set()
            for method, _properties, body in channel.consume(
                queue, auto_ack=True, inactivity_timeout=0.5
            ):
                if self._stopping.is_set():
                    return
                if body is not None:
                    self._follow(method.routing_key, body)
        finally:
            self._connection = None
            if connection.is_open:
                connection.close()

    def _follow(self, topic: str, body: bytes) -> None:
        try:
            fields = json.loads(body)
        except ValueError:
            log.warning("hubs changes: a %s message whose body is not JSON", topic)
            return
        self.backend.follow({"topic": topic, "msg": fields})

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=5)
