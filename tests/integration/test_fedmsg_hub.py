"""A real fedmsg-relay and fedmsg-hub (ZeroMQ on loopback, the project's fedmsg.d plus
ports and database of the test's own): a corpus message published on the bus is stored
and rebuilds exactly the widgets it concerns."""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa
import zmq

from hubs import cache
from hubs.app import create_app
from hubs.backend.triage import stats_path
from hubs.bus import message_people_and_packages
from hubs.database import db, upgrade
from hubs.models import Message, Widget
from hubs.populate import populate, warm_cache
from hubs.widgets import registry
from tests.backend.test_triage import activity_widgets_of
from tests.conftest import recreate_postgres_database

ROOT = pathlib.Path(__file__).resolve().parents[2]
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


@pytest.fixture
def bus(tmp_path, memcached_config):
    """Demo hubs on a fresh PostgreSQL database, and a relay and a hub running."""
    url = recreate_postgres_database("hubs_test_integration")
    upgrade(url)
    hubs_config = {"DATABASE_URL": url, "VAR_DIR": str(tmp_path / "var"), **memcached_config}
    app = create_app(hubs_config)
    with app.app_context():
        populate(db.session, say=lambda line: None)
        warm_cache(db.session, say=lambda line: None)
        db.session.remove()

    inbound, outbound = free_port(), free_port()
    confdir = tmp_path / "fedmsg.d"
    shutil.copytree(ROOT / "fedmsg.d", confdir)
    (confdir / "zz_test.py").write_text(
        "config = " + repr({
            "relay_inbound": f"tcp://127.0.0.1:{inbound}",
            "endpoints": {"relay_outbound": [f"tcp://127.0.0.1:{outbound}"]},
            "hubs.config": hubs_config,
            "status_directory": None,
        })
    )  # fmt: skip
    env = {**os.environ, "HOME": str(tmp_path)}
    env.pop("HUBS_CONFIG", None)
    with contextlib.ExitStack() as stack:
        logs = {
            name: stack.enter_context(open(tmp_path / f"{name}.log", "w"))
            for name in ("relay", "hub")
        }
        processes = [
            subprocess.Popen(
                [str(BIN / f"fedmsg-{name}")],
                cwd=tmp_path,
                env=env,
                stdout=logs[name],
                stderr=logs[name],
            )
            for name in ("relay", "hub")
        ]
        try:
            wait_for(
                lambda: os.path.exists(stats_path(app.config)), 60, "the hubs consumer to start"
            )
            yield app, f"tcp://127.0.0.1:{inbound}"
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(10)
            db.session.remove()
            db.engine.dispose()
        for name in ("relay", "hub"):
            print(f"--- fedmsg-{name} log ---\n" + (tmp_path / f"{name}.log").read_text()[-3000:])


def versions(app) -> dict[int, int | None]:
    with app.app_context():
        widgets = db.session.scalars(sa.select(Widget)).all()
        keys = [registry[w.plugin].cache_key(w) for w in widgets]
        found = dict(zip([w.id for w in widgets], cache.get_cached(keys), strict=True))
        db.session.remove()
        return {widget_id: (e or {}).get("version") for widget_id, e in found.items()}


def test_a_bus_message_rebuilds_its_widgets_through_relay_and_hub(bus, corpus):
    app, inbound = bus
    entry = next(
        e for e in corpus
        if "ralph" in message_people_and_packages(e["msg"])[0] and e["msg"].get("msg_id")
    )  # fmt: skip
    message = entry["msg"]
    expected = activity_widgets_of(app, message_people_and_packages(message)[0])
    assert len(expected) >= 2
    before = versions(app)

    context = zmq.Context()
    publisher = context.socket(zmq.PUB)
    publisher.connect(inbound)

    def stored() -> bool:
        # Resend until the relay has us (ZeroMQ's slow joiner); msg_id makes it idempotent.
        publisher.send_multipart([message["topic"].encode(), json.dumps(message).encode()])
        time.sleep(0.2)
        with app.app_context():
            found = db.session.scalar(sa.select(Message).where(Message.msg_id == message["msg_id"]))
            db.session.remove()
            return found is not None

    try:
        wait_for(stored, 20, "the message in the store")
    finally:
        publisher.close(linger=0)
        context.term()

    def rebuilt() -> set[int]:
        now = versions(app)
        changed = {w for w in now if now[w] != before[w]}
        return changed if changed >= expected else set()

    changed = wait_for(rebuilt, 10, "the widgets to be rebuilt")
    time.sleep(0.5)  # anything else would have been rebuilt by now
    now = versions(app)
    assert {w for w in now if now[w] != before[w]} == expected == changed
    with app.app_context():
        for widget_id in expected:
            widget = db.session.get(Widget, widget_id)
            envelope = registry["fedmsgstats"].data(db.session, widget)
            assert envelope["data"]["total"] == 1
        db.session.remove()
