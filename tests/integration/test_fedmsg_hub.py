"""A real fedmsg-relay and fedmsg-hub (ZeroMQ on loopback, the project's fedmsg.d plus
ports and database of the test's own): a corpus message published on the bus is stored
and rebuilds exactly the widgets it concerns."""

from __future__ import annotations

import datetime as dt

import pytest

from hubs.bus import message_people_and_packages
from hubs.database import db
from hubs.models import Widget
from hubs.widgets import registry
from tests.oracles import activity_widgets_of, stored, versions
from tests.stack import Stack, wait_for


@pytest.fixture
def stack(tmp_path, memcached_config):
    stack = Stack(tmp_path, memcached_config, database="hubs_test_integration")
    try:
        stack.start("relay")
        stack.start("hub")
        yield stack
    finally:
        stack.close()
        print(stack.logs())


def test_a_bus_message_rebuilds_its_widgets_through_relay_and_hub(stack, corpus):
    app = stack.app
    entry = next(
        e for e in corpus
        if "ralph" in message_people_and_packages(e["msg"])[0] and e["msg"].get("msg_id")
    )  # fmt: skip
    message = entry["msg"]
    expected = activity_widgets_of(app, message_people_and_packages(message)[0])
    assert len(expected) >= 2
    before = versions(app)

    stack.publish(message, until=lambda: stored(app, message["msg_id"]))

    def rebuilt() -> set[int]:
        now = versions(app)
        changed = {w for w in now if now[w] != before[w]}
        return changed if changed >= expected else set()

    changed = wait_for(rebuilt, 10, "the widgets to be rebuilt")
    stack.wait_settled(seen=1)  # every rebuild the message caused is done
    now = versions(app)
    assert {w for w in now if now[w] != before[w]} == expected == changed
    with app.app_context():
        for widget_id in expected:
            widget = db.session.get(Widget, widget_id)
            data = registry[widget.plugin].data(db.session, widget)["data"]
            if widget.plugin == "fedmsgstats":
                assert data["total"] == 1
            elif widget.plugin == "activity":  # the message's own time (2014): long idle
                when = dt.datetime.fromtimestamp(message["timestamp"], dt.UTC)
                assert data["last"] == when.isoformat() and data["idle"]
            else:
                assert [e["msg_id"] for e in data["entries"]] == [message["msg_id"]]
        db.session.remove()
