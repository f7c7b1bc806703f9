"""N real backends on one RabbitMQ queue: each `fedora-messaging consume` with the hubs
callback, hubs-sse bound for their events, the demo hubs on PostgreSQL and memcached.
Every cluster has a RabbitMQ vhost of its own, deleted when it closes."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import pathlib
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass, field

import pika
import sqlalchemy as sa

from hubs.app import create_app
from hubs.backend.triage import stats_path
from hubs.database import db, upgrade
from hubs.demo import FEDMSG_CORPUS
from hubs.messages import topic_suffix
from hubs.seed import populate, warm_cache
from tests.conftest import recreate_postgres_database
from tests.stack import BIN, ROOT, SERVICE_URLS, accepts, free_port, wait_for

SCHEMA_CORPUS = ROOT / "tests" / "data" / "fedora-messaging-corpus" / "messages.jsonl"
BROKER = "amqp://guest:guest@127.0.0.1:5672"
QUEUE = "hubs"
DEAD = "hubs.dead"


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


def corpus_messages(
    count: int, run: str, junk: tuple[str, ...], repeat: bool = False
) -> list[dict]:
    """``count`` real messages as fedora-messaging serializes them: the schema corpus,
    then the fedmsg corpus (body = what fedmsg carried under ``msg``), each with an id of
    this ``run`` so that every one is new to the store. Junk topics are left out. With
    ``repeat``, the corpora are taken again (new ids) until there are ``count``."""
    chosen = []
    for line in SCHEMA_CORPUS.read_text().splitlines():
        entry = json.loads(line)
        chosen.append({key: entry[key] for key in ("topic", "headers", "body")})
    with open(FEDMSG_CORPUS) as handle:
        for line in handle:
            message = json.loads(line)["msg"]
            when = dt.datetime.fromtimestamp(message.get("timestamp") or 0, dt.UTC)
            chosen.append({
                "topic": message["topic"], "body": message["msg"],
                "headers": {"sent-at": when.isoformat(), "priority": 0},
            })  # fmt: skip
    chosen = [m for m in chosen if not topic_suffix(m["topic"]).startswith(junk)]
    if repeat:
        chosen = (chosen * (count // len(chosen) + 1))[:count]
    if len(chosen) < count:
        raise ValueError(f"the corpora hold {len(chosen)} messages, not {count}")
    return [{**m, "id": f"{run}-{n:04d}", "queue": None} for n, m in enumerate(chosen[:count])]


@dataclass
class Cluster:
    workdir: pathlib.Path
    cache_config: dict
    database: str = "hubs_test_amqp"
    delivery_limit: int = 3
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    _files: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    _engine: sa.Engine | None = None

    def __post_init__(self) -> None:
        self.run = uuid.uuid4().hex[:8]
        self.vhost = f"hubs-test-{self.run}"
        rabbitmqctl("add_vhost", self.vhost)
        rabbitmqctl("set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*")
        self.amqp_url = f"{BROKER}/{self.vhost}"
        self.sse_port, events = free_port(), free_port()
        self.events = f"tcp://127.0.0.1:{events}"
        url = recreate_postgres_database(self.database)
        upgrade(url)
        self.config = {
            "DATABASE_URL": url,
            "VAR_DIR": str(self.workdir / "var"),
            "SECRET_KEY": "cluster-secret",
            "BACKEND_EVENTS_CONNECT": [self.events],
            "SSE_EVENTS_BIND": self.events,
            "SSE_BACKEND_ENDPOINTS": [],
            "SSE_PORT": self.sse_port,
            "FEDMSG_PUBLISH": False,
            "BACKEND_RETRY_SECONDS": 30,
            **dict.fromkeys(SERVICE_URLS, f"http://127.0.0.1:{free_port()}/"),
            **self.cache_config,
        }
        self.app = create_app(self.config)
        with self.app.app_context():
            populate(db.session, say=lambda line: None)
            warm_cache(db.session, say=lambda line: None)
            db.session.remove()
        (self.workdir / "hubs-config.py").write_text(
            "\n".join(f"{key} = {value!r}" for key, value in self.config.items()) + "\n"
        )
        self.toml = self.workdir / "hubs-messaging.toml"
        self.toml.write_text(
            f'amqp_url = "{self.amqp_url}"\n'
            'callback = "hubs.backend.amqp:Consumer"\n'
            'publish_exchange = "amq.topic"\n'
            "[client_properties]\n"
            'app = "Fedora Hubs tests"\n'
            f'[queues."{QUEUE}"]\n'
            "durable = true\nauto_delete = false\nexclusive = false\n"
            f'arguments = {{"x-queue-type" = "quorum", "x-delivery-limit" = '
            f'{self.delivery_limit}, "x-dead-letter-exchange" = "", '
            f'"x-dead-letter-routing-key" = "{DEAD}"}}\n'
            "[[bindings]]\n"
            f'queue = "{QUEUE}"\nexchange = "amq.topic"\nrouting_keys = ["#"]\n'
            "[consumer_config]\n"
            "[qos]\nprefetch_size = 0\nprefetch_count = 10\n"
            "[log_config]\nversion = 1\ndisable_existing_loggers = false\n"
            "[log_config.formatters.simple]\n"
            'format = "%(asctime)s %(levelname)s %(name)s %(message)s"\n'
            "[log_config.handlers.console]\n"
            'class = "logging.StreamHandler"\nformatter = "simple"\nstream = "ext://sys.stdout"\n'
            "[log_config.loggers.pika]\n"
            'level = "WARNING"\n'
            "[log_config.loggers.fedora_messaging]\n"
            'level = "WARNING"\n'
            "[log_config.root]\n"
            'level = "INFO"\nhandlers = ["console"]\n'
        )

    def _env(self, instance: str | None = None) -> dict[str, str]:
        env = {**os.environ, "HOME": str(self.workdir),
               "HUBS_CONFIG": str(self.workdir / "hubs-config.py"),
               "FEDORA_MESSAGING_CONF": str(self.toml)}  # fmt: skip
        if instance:
            env["HUBS_BACKEND_INSTANCE"] = instance
        return env

    def _spawn(self, name: str, command: list[str], instance: str | None = None):
        log = self._files.enter_context((self.workdir / f"{name}.log").open("a"))
        process = subprocess.Popen(
            command, cwd=self.workdir, env=self._env(instance), stdout=log, stderr=log
        )
        self.processes[name] = process
        return process

    def start_sse(self) -> None:
        self._spawn("sse", [str(BIN / "hubs-sse")])
        wait_for(lambda: accepts(self.sse_port), 20, "hubs-sse")

    def start_backend(self, name: str) -> subprocess.Popen:
        path = stats_path(self.app.config, name)
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
        process = self._spawn(
            name, [str(BIN / "fedora-messaging"), "--conf", str(self.toml), "consume"], name
        )
        wait_for(lambda: os.path.exists(path) or process.poll() is not None, 60, name)
        assert process.poll() is None, self.logs()
        return process

    def consumers(self) -> int:
        return self.queue_state(QUEUE)[1]

    def start_backends(self, *names: str) -> None:
        """Start these backends and wait until every one consumes from the queue."""
        for name in names:
            self.start_backend(name)
        self.wait_consumers(len(names))

    def wait_consumers(self, count: int) -> None:
        wait_for(lambda: self.consumers() >= count, 30, f"{count} consumers on the queue")

    def queue_state(self, name: str) -> tuple[int, int]:
        """(messages ready, consumers) of a queue."""
        connection = pika.BlockingConnection(pika.URLParameters(self.amqp_url))
        try:
            method = connection.channel().queue_declare(name, passive=True).method
            return method.message_count, method.consumer_count
        finally:
            connection.close()

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        process = self.processes.pop(name)
        process.send_signal(sig)
        process.wait(30)

    def publish(self, messages: list[dict]) -> subprocess.Popen:
        """Start publishing ``messages`` (a process running fedora_messaging.api.publish)."""
        path = self.workdir / f"publish-{uuid.uuid4().hex[:6]}.jsonl"
        path.write_text("".join(json.dumps(m) + "\n" for m in messages))
        log = self._files.enter_context((self.workdir / "publish.log").open("a"))
        return subprocess.Popen(
            [sys.executable, "-m", "tests.amqp_publish", "--conf", str(self.toml), str(path)],
            cwd=ROOT, env=self._env(), stdout=log, stderr=log,
        )  # fmt: skip

    def stored(self, ids: list[str]) -> dict[str, int]:
        """How many rows the store holds of each of ``ids`` (by msg_id)."""
        if self._engine is None:
            self._engine = sa.create_engine(self.config["DATABASE_URL"], pool_pre_ping=True)
        with self._engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT msg_id, count(*) FROM messages WHERE msg_id LIKE :run GROUP BY msg_id"
                ),
                {"run": f"{self.run}-%"},
            ).all()
        counts = dict(rows)
        return {msg_id: counts.get(msg_id, 0) for msg_id in ids}

    def stats(self) -> dict[str, dict]:
        found = {}
        for path in pathlib.Path(self.config["VAR_DIR"]).glob("backend-stats.*.json"):
            with contextlib.suppress(ValueError, OSError):
                found[path.name.split(".")[1]] = json.loads(path.read_text())
        return found

    def close(self) -> None:
        for name in list(self.processes):
            with contextlib.suppress(Exception):
                self.kill(name, signal.SIGTERM)
        self._files.close()
        if self._engine is not None:
            self._engine.dispose()
        db.session.remove()
        db.engine.dispose()
        with contextlib.suppress(Exception):
            rabbitmqctl("delete_vhost", self.vhost)

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name} ---\n{path.read_text()[-3000:]}"
            for path in sorted(self.workdir.glob("*.log"))
        )
