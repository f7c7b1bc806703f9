"""Timed rebuilds: a widget whose data goes stale with the clock (a meeting starts or
ends, with no bus message to say so) is rebuilt and pushed at that moment."""

import datetime as dt
import math
import queue
import threading
import time

import responses
import sqlalchemy as sa
from responses import matchers

from hubs.backend import triage
from hubs.backend.timers import RebuildTimer
from hubs.backend.triage import Backend
from hubs.cache import cache_key, get_stored, keep_newest, new_version
from hubs.database import db
from hubs.models import Hub, Widget
from hubs.widgets import get_widget_type
from tests.factories import RecordingPublisher
from tests.stack import wait_for
from tests.widgets.test_meetings import API, weekly_with


def test_the_timer_calls_each_widget_at_its_latest_moment():
    fired: queue.Queue = queue.Queue()
    timer = RebuildTimer(lambda widget_id: fired.put((widget_id, time.time())))
    try:
        now = time.time()
        timer.schedule(1, now + 0.3)
        timer.schedule(2, now + 0.1)
        timer.schedule(3, now + 0.2)
        timer.schedule(3, now + 0.4)  # new data, a new moment: the first one is void
        timer.schedule(4, now + 0.2)
        timer.cancel(4)
        order = [fired.get(timeout=5) for _ in range(3)]
        assert [widget_id for widget_id, _ in order] == [2, 1, 3]
        moments = [now + 0.1, now + 0.3, now + 0.4]
        assert all(at >= moment for (_, at), moment in zip(order, moments, strict=True))
        assert timer.pending() == {}
        timer.schedule(5, time.time() - 60)  # a moment already past fires at once
        assert fired.get(timeout=5)[0] == 5
        assert fired.empty()
    finally:
        timer.stop()


def _meeting_at(start: dt.datetime, end: dt.datetime) -> dict:
    return weekly_with(
        meeting_date=f"{start:%Y-%m-%d}", meeting_time_start=f"{start:%H:%M:%S}",
        meeting_date_end=f"{end:%Y-%m-%d}", meeting_time_stop=f"{end:%H:%M:%S}",
        meeting_timezone="UTC",
    )  # fmt: skip


def test_a_meeting_that_starts_is_pushed_live_at_that_moment(backend):
    with backend.app.app_context():
        widget_id = db.session.scalar(
            sa.select(Widget.id)
            .join(Hub)
            .where(Hub.name == "infrastructure", Widget.plugin == "meetings")
        )
        db.session.remove()
    start = dt.datetime.fromtimestamp(math.ceil(time.time()) + 2, dt.UTC)
    end = start + dt.timedelta(hours=1)

    def pushed(count: int):
        events = [e for e in backend.publisher_events if e["widget_id"] == widget_id]
        return events[count - 1] if len(events) >= count else None

    with responses.RequestsMock(assert_all_requests_are_fired=False) as fedocal:
        calendar = {"calendar": "infrastructure"}
        fedocal.get(
            API,
            match=[matchers.query_param_matcher(calendar, strict_match=False)],
            json={"arguments": calendar, "meetings": [_meeting_at(start, end)]},
        )
        backend.pool.submit(widget_id)  # as a message about the hub would
        first = wait_for(lambda: pushed(1), 10, "the first rebuild")
        assert [m["ongoing"] for m in first["data"]["data"]["meetings"]] == [False]
        assert backend.timer.pending()[widget_id] == start.timestamp()

        second = wait_for(lambda: pushed(2), 10, "the rebuild as the meeting starts")
        assert time.time() >= start.timestamp()
        assert [m["ongoing"] for m in second["data"]["data"]["meetings"]] == [True]
        assert second["version"] != first["version"]
        # ...and the next moment is its end.
        assert backend.timer.pending()[widget_id] == end.timestamp()
    assert backend.counters.timed_rebuilds == 1


def test_a_backend_starting_on_a_warm_cache_sets_its_timers_and_keeps_newer_ones(
    backend_app, monkeypatch
):
    """The timers of widgets cached before a start are set while the backend already
    works; a rebuild meanwhile keeps its own moment, not the older cached one's."""
    with backend_app.app_context():
        widgets = db.session.scalars(
            sa.select(Widget).join(Hub).where(Hub.name == "infrastructure").limit(2)
        ).all()
        [first, second] = [(w.id, w.hub_id, w.plugin, w.config) for w in widgets]
        db.session.remove()
    soon, later, newer = time.time() + 3600, time.time() + 7200, time.time() + 9000
    for (widget_id, hub_id, plugin, config), until in ((first, soon), (second, later)):
        defaults = get_widget_type(plugin).defaults()
        keep_newest(
            cache_key(hub_id, widget_id, plugin, {**defaults, **(config or {})}),
            {"ok": True, "data": {}, "version": new_version(), "fresh_until": until},
        )
    sweeping, go_on = threading.Event(), threading.Event()

    def slow_read(keys):
        sweeping.set()
        go_on.wait(10)
        return get_stored(keys)

    monkeypatch.setattr(triage, "get_stored", slow_read)
    backend = Backend(backend_app, publisher=RecordingPublisher(), workers=1)
    try:
        assert sweeping.wait(10) and not backend.cached_timers_set.is_set()
        # The second widget rebuilt while the sweep reads: its data goes stale later.
        backend._schedule(second[0], {"ok": True, "fresh_until": newer})
        go_on.set()
        assert backend.cached_timers_set.wait(10)
        pending = backend.timer.pending()
        assert (pending[first[0]], pending[second[0]]) == (soon, newer)
    finally:
        go_on.set()
        backend.close()
