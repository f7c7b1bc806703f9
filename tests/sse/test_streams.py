import asyncio

from hubs.sse.streams import Streams


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


def test_reconnecting_gets_what_it_missed():
    async def scenario():
        streams = Streams("e1")
        for n in range(5):
            streams.publish("hub:/t/infra/", "widget", {"n": n})
        again, snapshot = streams.attach(["hub:/t/infra/"], "e1.3")
        assert not snapshot
        assert [e.number for e in drain(again)] == [4, 5]

    run(scenario())


def test_a_snapshot_when_the_ring_lost_events_or_the_process_changed():
    async def scenario():
        streams = Streams("e2", ring_size=3)
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


def test_detached_streams_without_history_are_forgotten():
    async def scenario():
        streams = Streams("e1")
        connection, _ = streams.attach(["hub:/t/quiet/"], None)
        streams.detach(connection)
        assert "hub:/t/quiet/" not in streams._streams
        assert streams.connections == 0

    run(scenario())


def test_a_reconnected_connection_starts_from_what_it_had():
    async def scenario():
        streams = Streams("e1")
        for n in range(5):
            streams.publish("hub:/t/infra/", "widget", {"n": n})
        again, _ = streams.attach(["hub:/t/infra/"], "e1.3")
        assert streams.event_id(again) == "e1.3"  # not 5: 4 and 5 are still to come
        fresh, _ = streams.attach(["hub:/t/infra/"], None)
        assert streams.event_id(fresh) == "e1.5"

    run(scenario())
