"""Hubs on today's Fedora bus: real RabbitMQ (127.0.0.1:5672), real backends run as
`fedora-messaging consume` with the hubs callback, hubs-sse, PostgreSQL and memcached.
Messages are real ones (both corpora), published with fedora_messaging.api.publish.

What it shows: nothing lost and nothing stored twice (counted by msg_id) when backends
share a queue, are killed or restarted, or the database refuses connections; poison goes
to the dead letters after the queue's delivery limit; every backend hears hubs changes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time

import pytest
import requests
import sqlalchemy as sa

from hubs.database import db
from hubs.models import Hub
from tests.amqp_cluster import DEAD, QUEUE, Cluster, corpus_messages
from tests.stack import BIN, wait_for
from tests.views.test_health import _allow_connections

DATABASE = "hubs_test_amqp"


@pytest.fixture
def cluster(tmp_path, memcached_config):
    cluster = Cluster(tmp_path, memcached_config, database=DATABASE)
    try:
        cluster.start_sse()
        yield cluster
    finally:
        cluster.close()
        print(cluster.logs())


def messages(cluster: Cluster, count: int) -> list[dict]:
    return corpus_messages(count, cluster.run, tuple(cluster.app.config["BACKEND_JUNK_TOPICS"]))


def all_stored_once(cluster: Cluster, sent: list[dict], timeout: float = 120) -> dict[str, int]:
    ids = [m["id"] for m in sent]
    wait_for(lambda: all(cluster.stored(ids).values()), timeout, f"{len(ids)} messages stored")
    counts = cluster.stored(ids)
    assert sorted(set(counts.values())) == [1], {k: v for k, v in counts.items() if v != 1}
    return counts


def totals(cluster: Cluster) -> dict[str, int]:
    summed: dict[str, int] = {}
    for stats in cluster.stats().values():
        for key, value in stats.items():
            if isinstance(value, int) and key != "pid":
                summed[key] = summed.get(key, 0) + value
    return summed


class SseClient(threading.Thread):
    """A browser's EventSource on one hub, recording (event kind, data)."""

    def __init__(self, cluster: Cluster, hub: str) -> None:
        super().__init__(daemon=True)
        self.url = f"http://127.0.0.1:{cluster.sse_port}/stream"
        self.hub = hub
        self.events: list[tuple[str, dict]] = []
        self.open = threading.Event()
        self.closing = threading.Event()
        self.response = None
        self.error: Exception | None = None

    def run(self) -> None:
        self.response = requests.get(self.url, params={"hub": self.hub}, stream=True, timeout=60)
        kind = None
        try:
            for raw in self.response.iter_lines(decode_unicode=True):
                if raw.startswith("event: "):
                    kind = raw[7:]
                elif raw.startswith("data: ") and kind:
                    self.events.append((kind, json.loads(raw[6:])))
                    self.open.set()
        except (AttributeError, requests.RequestException) as error:
            if not self.closing.is_set():  # closed by the test: the end of the stream
                self.error = error

    def widgets(self) -> set[int]:
        return {data["widget_id"] for kind, data in self.events if kind == "widget"}

    def close(self) -> None:
        self.closing.set()
        if self.response is not None:
            self.response.close()
        self.join(5)
        assert self.error is None, self.error


def test_500_messages_on_two_backends_are_stored_once_and_pushed_live(cluster):
    client = SseClient(cluster, "/u/ralph/")
    client.start()
    assert client.open.wait(10)  # the hello
    cluster.start_backends("b1", "b2")
    sent = messages(cluster, 500)

    assert cluster.publish(sent).wait(180) == 0
    all_stored_once(cluster, sent)
    wait_for(lambda: cluster.queue_state(QUEUE)[0] == 0, 30, "the queue to drain")
    # Each backend writes its counters once its last burst has settled.
    stats = wait_for(
        lambda: (
            (s := cluster.stats())
            and len(s) == 2
            and sum(v["stored"] for v in s.values()) == 500
            and not any(v["queue_depth"] for v in s.values())
            and s
        ),
        30,
        "both backends' counters",
    )
    assert all(s["stored"] > 50 for s in stats.values()), stats  # both shared the work
    summed = totals(cluster)
    assert summed["stored"] == 500 and summed["duplicates"] == 0
    assert summed["dead_lettered"] == 0 and summed["rebuilds"] > 0
    # ralph's activity widgets were rebuilt, and their new data reached his page.
    wait_for(lambda: len(client.widgets()) >= 2, 20, "ralph's widgets to be pushed")
    client.close()
    assert cluster.queue_state(DEAD)[0] == 0


def test_a_backend_killed_mid_stream_loses_nothing_and_duplicates_nothing(cluster):
    cluster.start_backends("b1", "b2")
    sent = messages(cluster, 500)
    publisher = cluster.publish(sent)
    ids = [m["id"] for m in sent]
    wait_for(lambda: sum(cluster.stored(ids).values()) >= 120, 60, "a first part stored")
    cluster.kill("b1")  # SIGKILL: its unacked messages go back to the queue
    assert publisher.wait(120) == 0
    all_stored_once(cluster, sent)
    assert cluster.queue_state(DEAD)[0] == 0


def test_every_backend_restarted_while_messages_flow_loses_nothing(cluster):
    cluster.start_backends("b1", "b2")
    sent = messages(cluster, 400)
    ids = [m["id"] for m in sent]
    publisher = cluster.publish(sent)
    for name, after in (("b1", 60), ("b2", 160)):
        wait_for(lambda n=after: sum(cluster.stored(ids).values()) >= n, 60, f"{after} stored")
        cluster.kill(name, 15)  # SIGTERM, as systemd restarts it
        cluster.start_backend(name)
    assert publisher.wait(120) == 0
    all_stored_once(cluster, sent)
    assert cluster.queue_state(DEAD)[0] == 0


def test_a_database_refusing_connections_for_10_s_loses_nothing(cluster):
    cluster.start_backends("b1", "b2")
    sent = messages(cluster, 300)
    ids = [m["id"] for m in sent]
    publisher = cluster.publish(sent)
    wait_for(lambda: sum(cluster.stored(ids).values()) >= 50, 60, "a first part stored")
    _allow_connections(DATABASE, False)
    down_until = time.monotonic() + 10
    try:
        # Down for 10 s, and until the outage shows: messages wait in the queue, since
        # the backends cannot store (nor ack) any.
        wait_for(
            lambda: time.monotonic() >= down_until and cluster.queue_state(QUEUE)[0] > 0,
            60,
            "the backends to be held up by the database",
        )
    finally:
        _allow_connections(DATABASE, True)
    assert publisher.wait(120) == 0
    all_stored_once(cluster, sent)
    wait_for(lambda: cluster.queue_state(QUEUE)[0] == 0, 60, "the queue to drain")
    assert cluster.queue_state(DEAD)[0] == 0
    summed = wait_for(lambda: (t := totals(cluster)).get("retries") and t, 30, "the counters")
    assert summed["dead_lettered"] == 0 and summed["retries"] > 0


def test_a_poison_message_is_dead_lettered_after_the_delivery_limit(cluster):
    # A message the store fails on every time (a PostgreSQL trigger refuses its row).
    poison_id = f"{cluster.run}-poison"
    engine = sa.create_engine(cluster.config["DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(sa.text(
            "CREATE FUNCTION refuse_poison() RETURNS trigger AS $$ BEGIN "
            f"IF NEW.msg_id = '{poison_id}' THEN RAISE EXCEPTION 'poison'; END IF; "
            "RETURN NEW; END $$ LANGUAGE plpgsql"
        ))  # fmt: skip
        connection.execute(sa.text(
            "CREATE TRIGGER refuse_poison BEFORE INSERT ON messages "
            "FOR EACH ROW EXECUTE FUNCTION refuse_poison()"
        ))  # fmt: skip
    engine.dispose()
    cluster.start_backends("b1", "b2")
    sent = messages(cluster, 41)
    poison, rest = {**sent[0], "id": poison_id}, sent[1:]
    assert cluster.publish([poison, *rest]).wait(60) == 0

    all_stored_once(cluster, rest)
    wait_for(lambda: cluster.queue_state(DEAD)[0] == 1, 60, "the poison in the dead letters")
    assert cluster.stored([poison_id]) == {poison_id: 0}
    # Its first delivery and each of the queue's redeliveries failed; the last is counted.
    # (The backend that dead-letters it writes its counters at once, the others once
    # their burst has settled: wait for every backend's.)
    summed = wait_for(
        lambda: (
            (t := totals(cluster)).get("dead_lettered")
            and t.get("requeued", 0) >= cluster.delivery_limit
            and t
        ),
        30,
        "every backend's counts",
    )
    assert summed["dead_lettered"] == 1
    assert summed["requeued"] == cluster.delivery_limit
    output = subprocess.run(
        [str(BIN / "fedora-hubs"), "backend-stats"], capture_output=True, text=True,
        env={**os.environ, "HUBS_CONFIG": str(cluster.workdir / "hubs-config.py")}, timeout=60,
    ).stdout  # fmt: skip
    assert "all 2 backends:" in output
    assert re.search(r"^  dead lettered +1$", output.split("all 2 backends:")[1], re.M), output
    # The queue kept flowing: later messages are stored as ever.
    later = [{**m, "id": f"{cluster.run}-later-{n}"} for n, m in enumerate(rest[:5])]
    assert cluster.publish(later).wait(60) == 0
    all_stored_once(cluster, later)


def test_hubs_publishes_on_fedora_messaging_and_every_backend_hears_it(cluster):
    cluster.start_backends("b1", "b2")
    before = {name: s["indexed_widgets"] for name, s in cluster.stats().items()}
    # The CLI, as an admin runs it, with Hubs configured to publish on fedora-messaging.
    config = cluster.workdir / "hubs-config-bus.py"
    config.write_text(
        (cluster.workdir / "hubs-config.py").read_text()
        + 'BUS = "fedora-messaging"\nFEDMSG_PUBLISH = True\n'
    )
    env = {**os.environ, "HUBS_CONFIG": str(config), "FEDORA_MESSAGING_CONF": str(cluster.toml)}
    result = subprocess.run(
        [str(BIN / "fedora-hubs"), "create-team", "podcast", "--owner", "ralph"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    with cluster.app.app_context():
        hub = db.session.scalar(sa.select(Hub).where(Hub.name == "podcast"))
        widgets = len(hub.widgets)
        db.session.remove()
    assert widgets > 0
    # Both backends index the new hub's widgets (one from the shared queue, the other
    # from its own queue of hubs changes); the message is stored once.
    wait_for(
        lambda: all(
            s["indexed_widgets"] == before[name] + widgets for name, s in cluster.stats().items()
        ),
        30,
        "both backends to index the new hub",
    )
    engine = sa.create_engine(cluster.config["DATABASE_URL"])
    with engine.connect() as connection:
        stored = connection.execute(
            sa.text("SELECT topic, body FROM messages WHERE topic LIKE '%hubs.hub.created'")
        ).all()
    engine.dispose()
    assert len(stored) == 1
    # The CLI acts as itself.
    assert stored[0].body["fedora_messaging"]["summary"] == (
        "fedora-hubs created the podcast team hub"
    )
