import asyncio
import contextlib

from hubs.sse.event_streams import Publishers, SnapshotRounds, Streams


def drain(connection):
    events = []
    while not connection.queue.empty():
        events.append(connection.queue.get_nowait())
    return events


def run(coro):
    return asyncio.run(coro)


def test_events_are_numbered_per_stream_and_reach_watchers_only():
    async def scenario():
        streams = Streams("e1")
        infra, _ = streams.attach(["hub:/t/infra/"], None)
        design, _ = streams.attach(["hub:/t/design/"], None)
        streams.publish("hub:/t/infra/", "widget", {"n": 1})
        streams.publish("hub:/t/infra/", "widget", {"n": 2})
        streams.publish("hub:/t/design/", "widget", {"n": 3})
        got = drain(infra)
        assert [(e.number, e.payload) for e in got] == [(1, '{"n":1}'), (2, '{"n":2}')]
        assert [e.number for e in drain(design)] == [1]
        assert streams.event_id(infra, got[-1]) == "e1.2"

    run(scenario())


def test_a_connection_on_two_streams_gets_a_composite_id():
    async def scenario():
        streams = Streams("e1")
        both, _ = streams.attach(["hub:/u/ralph/", "user:ralph"], None)
        streams.publish("user:ralph", "entry", {})
        streams.publish("hub:/u/ralph/", "widget", {})
        first, second = drain(both)
        assert streams.event_id(both, first) == "e1.0.1"
        assert streams.event_id(both, second) == "e1.1.1"

    run(scenario())


def watched_once(streams, name="hub:/t/infra/"):
    """A browser watched ``name`` here, then went away (to come back later)."""
    connection, _ = streams.attach([name], None)
    streams.detach(connection)


def test_reconnecting_gets_what_it_missed():
    async def scenario():
        streams = Streams("e1")
        watched_once(streams)
        for n in range(5):
            streams.publish("hub:/t/infra/", "widget", {"n": n})
        again, snapshot = streams.attach(["hub:/t/infra/"], "e1.3")
        assert not snapshot
        assert [e.number for e in drain(again)] == [4, 5]

    run(scenario())


def test_a_snapshot_when_the_ring_lost_events_or_the_process_changed():
    async def scenario():
        streams = Streams("e2", ring_size=3)
        watched_once(streams)
        for n in range(10):
            streams.publish("hub:/t/infra/", "widget", {"n": n})
        assert streams.attach(["hub:/t/infra/"], "e2.2")[1] is True  # 3..7 are gone
        assert streams.attach(["hub:/t/infra/"], "e2.7")[1] is False
        assert streams.attach(["hub:/t/infra/"], "e1.9")[1] is True  # another process
        assert streams.attach(["hub:/t/infra/"], "garbage")[1] is True
        assert streams.attach(["hub:/t/infra/"], None)[1] is False

    run(scenario())


def test_a_slow_connection_is_dropped_when_its_queue_fills():
    async def scenario():
        streams = Streams("e1", queue_size=4)
        slow, _ = streams.attach(["hub:/t/infra/"], None)
        fast, _ = streams.attach(["hub:/t/infra/"], None)
        for n in range(6):
            streams.publish("hub:/t/infra/", "widget", {"n": n})
            drain(fast)
        assert slow.dropped and not fast.dropped
        assert streams.dropped == 1
        assert streams.stream("hub:/t/infra/").connections == {fast}

    run(scenario())


def test_streams_nobody_watched_lately_are_forgotten():
    async def scenario():
        now = [0.0]
        streams = Streams("e1", keep_seconds=60, clock=lambda: now[0])
        connection, _ = streams.attach(["hub:/t/quiet/"], None)
        watched_once(streams, "hub:/t/gone/")
        streams.publish("hub:/t/gone/", "widget", {})
        now[0] = 61
        streams.publish("hub:/t/quiet/", "widget", {})
        assert streams.streams == 1  # /t/gone/ went; /t/quiet/ is watched
        assert streams.attach(["hub:/t/gone/"], "e1.1")[1] is True  # it gets a snapshot
        streams.detach(connection)
        assert streams.connections == 1

    run(scenario())


def test_a_reconnected_connection_starts_from_what_it_had():
    async def scenario():
        streams = Streams("e1")
        watched_once(streams)
        for n in range(5):
            streams.publish("hub:/t/infra/", "widget", {"n": n})
        again, _ = streams.attach(["hub:/t/infra/"], "e1.3")
        assert streams.event_id(again) == "e1.3"  # not 5: 4 and 5 are still to come
        fresh, _ = streams.attach(["hub:/t/infra/"], None)
        assert streams.event_id(fresh) == "e1.5"

    run(scenario())


def test_missing_more_than_the_queue_holds_gets_a_snapshot_not_a_dead_end():
    """65 to 256 missed events are in the ring but cannot fit the queue: the browser
    gets a snapshot, is not dropped, and its next id moves on (no reconnect loop)."""

    async def scenario():
        streams = Streams("e1", ring_size=256, queue_size=64)
        first, _ = streams.attach(["hub:/t/infra/"], None)
        streams.publish("hub:/t/infra/", "widget", {"n": 1})
        last_id = streams.event_id(first, drain(first)[-1])
        streams.detach(first)
        for n in range(2, 102):  # it misses 100 events
            streams.publish("hub:/t/infra/", "widget", {"n": n})

        again, snapshot = streams.attach(["hub:/t/infra/"], last_id)
        assert snapshot and not again.dropped and drain(again) == []
        assert streams.event_id(again) == "e1.101" != last_id
        streams.publish("hub:/t/infra/", "widget", {"n": 102})
        assert [e.number for e in drain(again)] == [102]
        # A client that missed what fits its queue still gets the replay.
        fits, snapshot = streams.attach(["hub:/t/infra/"], "e1.90")
        assert not snapshot and [e.number for e in drain(fits)] == list(range(91, 103))

    run(scenario())


def test_streams_nobody_watched_cost_nothing():
    """10,000 hubs publish big events and nobody watches them: nothing is kept."""
    import tracemalloc

    async def scenario():
        streams = Streams("e1")
        html = "<section>" + "x" * 4000 + "</section>"
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for round_ in range(3):
            for hub in range(10_000):
                streams.publish(f"hub:/t/team-{hub}/", "widget", {"html": html, "n": round_})
        grown = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        assert streams.streams == 0 and streams.ring_bytes == 0
        assert grown < 1024 * 1024, grown  # unbounded, it would be some 120 MB

    run(scenario())


def test_rings_are_kept_for_recent_watchers_within_a_byte_budget():
    async def scenario():
        now = [0.0]
        streams = Streams("e1", ring_size=256, ring_bytes=200_000, keep_seconds=60,
                          clock=lambda: now[0])  # fmt: skip
        watched_once(streams, "hub:/t/old/")
        now[0] = 10
        watched_once(streams, "hub:/t/new/")
        for n in range(100):
            streams.publish("hub:/t/old/", "widget", {"pad": "x" * 1000, "n": n})
        old_id = "e1.50"
        for n in range(150):
            streams.publish("hub:/t/new/", "widget", {"pad": "x" * 1000, "n": n})
            assert streams.ring_bytes <= 200_000
        # The least recently watched lost its ring first: its browser gets a snapshot.
        assert streams.attach(["hub:/t/old/"], old_id)[1] is True
        new, snapshot = streams.attach(["hub:/t/new/"], "e1.140")
        assert not snapshot and [e.number for e in drain(new)] == list(range(141, 151))
        streams.detach(new)
        # Long after its last browser left, the stream is gone, and its ring with it.
        now[0] = 1000
        assert streams.publish("hub:/t/new/", "widget", {"n": "late"}) is None
        assert streams.ring_bytes == 0
        assert streams.attach(["hub:/t/new/"], "e1.150")[1] is True

    run(scenario())


def test_a_newer_event_of_a_widget_replaces_the_one_waiting_and_ids_stay_in_order():
    async def scenario():
        streams = Streams("e1", queue_size=3)
        reader, _ = streams.attach(["hub:/t/infra/"], None)
        for version in range(1, 101):  # a burst: 100 versions of 2 widgets, 1 layout
            streams.publish("hub:/t/infra/", "widget", {"widget_id": version % 2, "v": version})
        streams.publish("hub:/t/infra/", "layout", {"hub": "/t/infra/"})
        streams.publish("hub:/t/infra/", "layout", {"hub": "/t/infra/"})
        assert not reader.dropped and reader.queue.qsize() == 3
        got = drain(reader)
        assert [(e.kind, e.payload) for e in got] == [
            ("widget", '{"widget_id":1,"v":99}'),
            ("widget", '{"widget_id":0,"v":100}'),
            ("layout", '{"hub":"/t/infra/"}'),
        ]
        assert [e.number for e in got] == sorted(e.number for e in got)  # ids only grow
        # Events that supersede nothing (a stream entry each) still fill the queue.
        for number in range(4):
            streams.publish("hub:/t/infra/", "stream-entry", {"msg_id": f"m-{number}"})
        assert reader.dropped

    run(scenario())


def test_an_older_panel_come_late_does_not_replace_the_newer_one_waiting():
    # Two backends rebuild a widget one after the other and publish on sockets of their
    # own: the older may arrive last. A reader behind keeps the newer.
    async def scenario():
        streams = Streams("e1")
        reader, _ = streams.attach(["hub:/t/infra/"], None)
        streams.publish("hub:/t/infra/", "widget", {"widget_id": 7, "version": 20})
        streams.publish("hub:/t/infra/", "widget", {"widget_id": 7, "version": 10})
        streams.publish("hub:/t/infra/", "widget", {"widget_id": 8, "version": 5})
        got = drain(reader)
        assert [e.payload for e in got] == [
            '{"widget_id":7,"version":20}',
            '{"widget_id":8,"version":5}',
        ]
        streams.publish("hub:/t/infra/", "widget", {"widget_id": 7, "version": 30})
        streams.publish("hub:/t/infra/", "widget", {"widget_id": 7, "version": 40})
        assert [e.payload for e in drain(reader)] == ['{"widget_id":7,"version":40}']

    run(scenario())


def test_readers_that_left_are_not_kept():
    import gc
    import weakref

    async def scenario():
        streams = Streams("e1", queue_size=8)
        gone = []
        for _ in range(50):
            connection, _ = streams.attach(["hub:/t/infra/"], None)
            for number in range(8):
                streams.publish("hub:/t/infra/", "stream-entry", {"n": number, "pad": "x" * 4000})
            gone.append(weakref.ref(connection))
            streams.detach(connection)
            del connection
        gc.collect()
        assert [ref for ref in gone if ref() is not None] == []  # their queues went with them
        assert streams.connections == 0

    run(scenario())


def test_a_pages_first_connection_gets_what_was_published_after_it_was_rendered():
    import time

    async def scenario():
        streams = Streams("e1")
        streams.attach(["hub:/t/infra/"], None)  # someone watches already
        streams.publish("hub:/t/infra/", "widget", {"widget_id": 1, "v": "before"})
        rendered = time.time()
        streams.publish("hub:/t/infra/", "widget", {"widget_id": 2, "v": "after"})
        page, snapshot = streams.attach(["hub:/t/infra/"], None, since=rendered)
        assert not snapshot
        assert [e.payload for e in drain(page)] == ['{"widget_id":2,"v":"after"}']
        # A hub nobody watched here: what happened in between is unknown, so a snapshot.
        unwatched, snapshot = streams.attach(["hub:/t/design/"], None, since=rendered)
        assert snapshot and drain(unwatched) == []
        # A reconnection says where it is: its id wins over a time.
        again, snapshot = streams.attach(["hub:/t/infra/"], "e1.1", since=time.time())
        assert not snapshot
        assert [e.payload for e in drain(again)] == ['{"widget_id":2,"v":"after"}']

    run(scenario())


def test_a_ring_that_lost_events_of_that_time_means_a_snapshot():
    import time

    async def scenario():
        streams = Streams("e1", ring_size=2)
        streams.attach(["hub:/t/infra/"], None)
        rendered = time.time()
        for number in range(5):  # the ring keeps the last 2
            streams.publish("hub:/t/infra/", "widget", {"widget_id": number})
        _page, snapshot = streams.attach(["hub:/t/infra/"], None, since=rendered)
        assert snapshot

    run(scenario())


def test_an_event_none_waits_before_is_written_by_the_fan_out_itself():
    async def scenario():
        streams = Streams("e1")
        connection, _ = streams.attach(["hub:/t/infra/"], None)
        written: list[str] = []
        reader = {"lagging": False}

        def write_now(event):
            if reader["lagging"]:
                return False
            written.append(event.payload)
            return True

        connection.write_now = write_now
        streams.publish("hub:/t/infra/", "widget", {"n": 1})
        assert written == ['{"n":1}'] and connection.queue.empty()
        reader["lagging"] = True
        streams.publish("hub:/t/infra/", "widget", {"n": 2})
        reader["lagging"] = False
        # Not written before the one waiting: it waits behind it, in order.
        streams.publish("hub:/t/infra/", "widget", {"n": 3})
        assert written == ['{"n":1}']
        assert [event.payload for event in drain(connection)] == ['{"n":2}', '{"n":3}']
        assert streams.delivered == 3

    run(scenario())


def test_a_cancelled_get_leaves_the_queue_waking_the_next():
    async def scenario():
        streams = Streams("e1")
        connection, _ = streams.attach(["hub:/t/infra/"], None)
        waiting = asyncio.ensure_future(connection.queue.get())
        await asyncio.sleep(0)  # it waits on the empty queue
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
        getting = asyncio.ensure_future(connection.queue.get())
        await asyncio.sleep(0)
        streams.publish("hub:/t/infra/", "widget", {"n": 1})
        assert (await asyncio.wait_for(getting, 5)).payload == '{"n":1}'

    run(scenario())


def test_every_connection_is_told_to_fetch_its_page_anew_once():
    async def scenario():
        streams = Streams("e1")
        page, _ = streams.attach(["hub:/t/infra/"], None)
        owner, _ = streams.attach(["hub:/u/ralph/", "user:ralph"], None)
        mine, _ = streams.attach(["user:ralph"], None)
        away, _ = streams.attach(["hub:/t/design/"], None)
        streams.publish("hub:/t/design/", "widget", {"n": 1})
        [shown] = drain(away)
        where = streams.event_id(away, shown)
        streams.detach(away)  # between two connections when the snapshot goes out
        assert streams.snapshot_all("a backend started") == 3
        for connection in (page, owner, mine):
            [told] = drain(connection)
            assert told.kind == "snapshot" and told.payload == '{"reason":"a backend started"}'
        # The browser that was away gets it when it comes back from where it was.
        back, snapshot = streams.attach(["hub:/t/design/"], where)
        assert not snapshot
        assert [e.kind for e in drain(back)] == ["snapshot"]

    run(scenario())


def test_a_backend_that_started_or_frames_dropped_on_the_way_are_told():
    clock = [1000.0]
    # hubs-sse started at 1000 s; backend "a" before it, "b" and "d" after.
    publishers = Publishers(grace_seconds=10, forget_seconds=600, clock=lambda: clock[0])
    assert publishers.heard("a.900000.1") is None  # running before: from its first event
    assert publishers.heard("a.900000.2") is None
    assert publishers.heard("a.900000.4") == "events were lost"  # 3 never came
    assert publishers.heard("a.900000.5") is None
    assert publishers.heard("b.1005000.1") == "a backend started"  # a restart, say
    assert publishers.heard("b.1005000.2") is None and publishers.heard("a.900000.6") is None
    assert publishers.heard("no tag") is None and publishers.heard("b.1005000.x") is None
    # Hellos say how many events went before them.
    assert publishers.heard("b.1005000.2", event=False) is None
    assert publishers.heard("b.1005000.3") is None
    assert publishers.heard("b.1005000.5", event=False) == "events were lost"

    # Running before hubs-sse: heard first after it had published, what came before
    # was dropped; if it published nothing yet, nobody missed anything.
    def new() -> Publishers:
        return Publishers(clock=lambda: 1001.0, started=1000.0)

    assert new().heard("c.900000.7") == "events were lost"
    assert new().heard("c.900000.7", event=False) == "events were lost"
    assert new().heard("c.900000.0", event=False) is None
    # Started while hubs-sse served, even before a word from it: pages missed the bus.
    assert new().heard("c.1000500.0", event=False) == "a backend started"
    # First heard past the grace, whatever its clock says (behind this host's): since.
    clock[0] = 1011.0
    assert publishers.heard("e.990000.0", event=False) == "a backend started"
    # Backends gone for long are forgotten.
    clock[0] = 1700.0
    assert publishers.heard("d.1699000.0", event=False) == "a backend started"
    assert set(publishers._last) == {"d"}


def test_snapshot_rounds_are_spaced_and_a_reason_meanwhile_gets_one_more():
    async def scenario():
        streams = Streams("e1")
        page, _ = streams.attach(["hub:/t/infra/"], None)
        rounds = SnapshotRounds(streams, spacing=0.2, loop=asyncio.get_running_loop())
        rounds.ask("a backend started")
        assert rounds.rounds == 1 and len(drain(page)) == 1
        for _ in range(5):  # four more backends, within the spacing
            rounds.ask("a backend started")
        assert rounds.rounds == 1 and drain(page) == []
        deadline = asyncio.get_running_loop().time() + 5
        while rounds.rounds < 2:
            assert asyncio.get_running_loop().time() < deadline, "no second round"
            await asyncio.sleep(0.01)
        assert [e.kind for e in drain(page)] == ["snapshot"]  # one, for all five
        rounds.cancel()

    run(scenario())
