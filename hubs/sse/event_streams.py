"""Streams, their ring buffers and the connections watching them (no I/O here).

A stream is a hub's widget events ("hub:/t/infrastructure/") or a user's private
events ("user:ralph"). Each event gets the next number of its stream.

Memory is bounded: a stream exists only while somebody watches it here and for
``keep_seconds`` after (nobody else can have missed its events), and its ring of recent
events, for reconnecting browsers, fits within ``ring_bytes`` for all streams (the least
recently watched lose theirs first). A browser whose events are gone, or whose stream
is, gets a snapshot when it comes back. A connection
watches one or two streams; the SSE id it sends is ``<epoch>.<n1>.<n2>``: this process's
epoch and the last number seen of each of its streams, so a reconnecting browser says
exactly what it has (a different epoch means another process: it gets a snapshot).
"""

from __future__ import annotations

import asyncio
import collections
import functools
import itertools
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("hubs.sse")


def chunk(data: bytes) -> bytes:
    """``data`` as one chunk of an HTTP/1.1 chunked body."""
    return b"%x\r\n%b\r\n" % (len(data), data)


def sse_frame(kind: str, payload: str) -> bytes:
    """An event's SSE lines (all but its id, which is each connection's own), as the
    chunk written as is to every connection: built once, never copied per connection."""
    return chunk(f"event: {kind}\ndata: {payload}\n\n".encode())


@dataclass(frozen=True)
class Event:
    stream: str
    number: int
    kind: str
    frame: bytes  # sse_frame(kind, JSON payload)
    # Events of one stream with the same key supersede each other (a widget's newer
    # panel, a newer layout): a connection still holding the older writes the newer only.
    key: str | None = None
    at: float = 0.0  # when it was published (time.time()), for a page's first connection
    # Its data's version (a widget's envelope): of two events of one key, the larger is
    # the newer, whichever came first (backends publish on sockets of their own).
    version: int | None = None

    @property
    def payload(self) -> str:
        """The JSON data, read back from the frame (the one copy kept)."""
        lines = self.frame[self.frame.index(b"\r\n") + 2 : -len(b"\n\n\r\n")]
        return lines.partition(b"\ndata: ")[2].decode()


def _older(event: Event | None, waiting: Event | None) -> bool:
    if event is None or waiting is None or event.version is None or waiting.version is None:
        return False
    return event.version < waiting.version


def data_version(data: Any) -> int | None:
    """The version an event's data says it is of, if any (a widget's)."""
    version = data.get("version") if isinstance(data, dict) else None
    return version if isinstance(version, int) and not isinstance(version, bool) else None


def supersedes(kind: str, data: Any) -> str | None:
    """The key of an event that makes any earlier one of that key pointless to send."""
    if kind == "widget" and isinstance(data, dict) and data.get("widget_id") is not None:
        return f"widget:{data['widget_id']}"
    if kind == "layout":
        return "layout"
    return None


# The keys of queued events that supersede nothing: unique across every queue.
_SERIAL = itertools.count()


class EventQueue:
    """A connection's events waiting to be written: at most ``maxsize``. An event that
    supersedes one still waiting replaces it (at the end, so ids stay in order) instead
    of adding to the count: a reader merely behind a burst is not dropped for it."""

    __slots__ = ("_items", "_listener", "maxsize")

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._items: collections.OrderedDict[Any, Event | None] = collections.OrderedDict()
        # Told of every event offered (taken or not: a full queue's overflow counts), as
        # it comes: the connection's writer, or get() while it waits. A callback, not an
        # asyncio.Event and its deque for each of 10,000 idle streams (0.5 KB each).
        self._listener: Callable[[], object] | None = None

    def listen(self, listener: Callable[[], object] | None) -> None:
        """Call ``listener`` after each event offered from now on (None: stop)."""
        self._listener = listener

    def qsize(self) -> int:
        return len(self._items)

    def empty(self) -> bool:
        return not self._items

    def get_nowait(self) -> Event | None:
        if not self._items:
            raise asyncio.QueueEmpty
        return self._items.popitem(last=False)[1]

    def put_nowait(self, event: Event | None) -> None:
        """Queue ``event`` (None: the end of the stream, always taken); QueueFull when
        it adds to a full queue."""
        try:
            key = (event.stream, event.key) if event is not None and event.key else next(_SERIAL)
            if key in self._items:
                if _older(event, self._items[key]):
                    return  # another backend's older panel, come late: the newer one stays
                del self._items[key]
            elif event is not None and len(self._items) >= self.maxsize:
                raise asyncio.QueueFull
            self._items[key] = event
        finally:
            if self._listener is not None:
                self._listener()

    async def get(self) -> Event | None:
        while not self._items:
            waiter = asyncio.get_running_loop().create_future()
            self.listen(functools.partial(_wake, waiter))
            try:
                await waiter
            finally:
                self.listen(None)
        return self.get_nowait()


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


# Frames up to this size are joined to their id line, once for all the connections
# sharing that id; larger ones are written after it as the one shared copy.
JOINED_FRAME_BYTES = 8192
# What an event costs beside its payload (the Event, the deque slot), roughly.
EVENT_OVERHEAD = 120


@dataclass
class Stream:
    name: str
    ring_size: int
    number: int = 0
    ring: collections.deque = field(default_factory=collections.deque)
    connections: set[Connection] = field(default_factory=set)
    watched_at: float = 0.0
    ring_bytes: int = 0
    created: float = field(default_factory=time.time)  # wall clock, as Event.at

    def published_since(self, since: float) -> list[Event] | None:
        """The events published at ``since`` or later; None when some may be missing
        (the stream began after, or its ring lost events of that time)."""
        if self.created > since:
            return None
        kept = list(self.ring)
        lost = self.number - len(kept)  # numbers 1..lost left the ring
        if lost and (not kept or kept[0].at > since):
            return None
        return [event for event in kept if event.at >= since]

    def since(self, number: int) -> list[Event] | None:
        """The events after ``number``; None when some of them left the ring."""
        if number > self.number:
            return None  # more than this stream ever had: its history is not this one
        if number == self.number:
            return []
        oldest = self.ring[0].number if self.ring else self.number + 1
        if number + 1 < oldest:
            return None
        return [event for event in self.ring if event.number > number]


class Connection:
    """One open EventSource: a bounded queue of events to write, and what it has seen."""

    __slots__ = ("__weakref__", "dropped", "ping", "queue", "seen", "streams", "write_now")

    def __init__(self, streams: list[str], queue_size: int) -> None:
        self.streams = streams
        self.queue = EventQueue(queue_size)
        self.seen = dict.fromkeys(streams, 0)
        self.dropped = False
        # Writes an event at once, from the fan-out loop (no task woken per connection),
        # or says False when it cannot (a lagging reader): set by the server.
        self.write_now: Callable[[Event], bool] | None = None
        # Writes a heartbeat, for this process's one heartbeat timer: set by the server.
        self.ping: Callable[[], None] | None = None

    def offer(self, event: Event) -> bool:
        """Write ``event`` at once when none waits before it, else queue it; False (and
        the connection marked dropped) when the queue is full."""
        if self.dropped:
            return False
        if self.write_now is not None and self.queue.empty() and self.write_now(event):
            return True
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped = True
            return False
        return True


class Streams:
    """Every stream of this process and who watches it."""

    def __init__(
        self,
        epoch: str,
        ring_size: int = 256,
        queue_size: int = 64,
        ring_bytes: int = 32 * 1024 * 1024,
        keep_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.epoch = epoch
        self.ring_size = ring_size
        self.queue_size = queue_size
        self.ring_bytes_limit = ring_bytes
        self.keep_seconds = keep_seconds
        self.clock = clock
        # Least recently watched first.
        self._streams: collections.OrderedDict[str, Stream] = collections.OrderedDict()
        self.ring_bytes = 0
        self.delivered = 0
        self.dropped = 0
        # The event being fanned out, and its pieces to write by the ids they carry:
        # connections at the same place in their streams share one copy.
        self._framing: tuple[Event | None, dict[tuple[int, ...], tuple[bytes, ...]]] = (None, {})

    def stream(self, name: str) -> Stream:
        stream = self._streams.get(name)
        if stream is None:
            stream = self._streams[name] = Stream(name, self.ring_size)
        return stream

    def publish(self, name: str, kind: str, data: Any) -> Event | None:
        """Number an event of stream ``name`` and queue it for every watcher; None
        when nobody watches it here, nor did lately."""
        self._forget_idle()
        stream = self._streams.get(name)
        if stream is None:
            return None
        stream.number += 1
        frame = sse_frame(kind, json.dumps(data, separators=(",", ":")))
        key, version = supersedes(kind, data), data_version(data)
        event = Event(name, stream.number, kind, frame, key, time.time(), version)
        self._keep(stream, event)
        for connection in list(stream.connections):
            if connection.offer(event):
                self.delivered += 1
            else:
                self.drop(connection)
        return event

    def drop(self, connection: Connection) -> None:
        """Stop serving a connection that fell too far behind (its queue or its unsent
        bytes over their limits): its browser reconnects and catches up or refetches."""
        connection.dropped = True
        self.dropped += 1
        self.detach(connection)

    def _keep(self, stream: Stream, event: Event) -> None:
        if len(stream.ring) >= self.ring_size:
            self._account(stream, -_cost(stream.ring.popleft()))
        stream.ring.append(event)
        self._account(stream, _cost(event))
        if self.ring_bytes > self.ring_bytes_limit:
            for other in list(self._streams.values()):  # least recently watched first
                if self.ring_bytes <= self.ring_bytes_limit:
                    break
                if other.ring and other is not stream:
                    self._forget_ring(other)
        while self.ring_bytes > self.ring_bytes_limit and len(stream.ring) > 1:
            self._account(stream, -_cost(stream.ring.popleft()))

    def _forget_ring(self, stream: Stream) -> None:
        """Its reconnecting browsers will get a snapshot (since() says so)."""
        stream.ring.clear()
        self._account(stream, -stream.ring_bytes)

    def _account(self, stream: Stream, delta: int) -> None:
        stream.ring_bytes += delta
        self.ring_bytes += delta

    def _watched(self, stream: Stream) -> None:
        stream.watched_at = self.clock()
        self._streams.move_to_end(stream.name)

    def _forget_idle(self) -> None:
        """Drop the streams nobody has watched for keep_seconds, oldest first (a stream
        still watched since long ago counts as watched now)."""
        now = self.clock()
        while self._streams:
            stream = next(iter(self._streams.values()))
            if stream.watched_at >= now - self.keep_seconds:
                break
            if stream.connections:
                self._watched(stream)
                continue
            self._forget_ring(stream)
            del self._streams[stream.name]

    def attach(
        self, names: list[str], last_event_id: str | None, since: float | None = None
    ) -> tuple[Connection, bool]:
        """A new connection watching ``names``, its queue primed with what it missed.
        The boolean says whether it needs a snapshot (it missed too much). A page's
        first connection has no id but says when it was rendered (``since``): it gets
        the events published since, or a snapshot if this process cannot tell them."""
        self._forget_idle()
        connection = Connection(names, self.queue_size)
        if not last_event_id and since is not None:
            missed, snapshot, numbers = self._published_since(names, since)
        else:
            missed, snapshot, numbers = self._missed(names, last_event_id)
        if len(missed) > self.queue_size:
            # More than its queue holds: a replay would drop it at once, and the browser
            # would come back with the same id forever. A snapshot brings it to now.
            missed, snapshot, numbers = [], True, None
        for name in names:
            stream = self.stream(name)
            stream.connections.add(connection)
            self._watched(stream)
            # Replayed events bring it forward from what it said it had.
            connection.seen[name] = numbers[name] if numbers else stream.number
        for event in missed:
            connection.offer(event)
        return connection, snapshot

    def detach(self, connection: Connection) -> None:
        for name in connection.streams:
            stream = self._streams.get(name)
            if stream is not None:
                stream.connections.discard(connection)
                self._watched(stream)  # the time to keep it counts from now

    def _missed(
        self, names: list[str], last_event_id: str | None
    ) -> tuple[list[Event], bool, dict[str, int] | None]:
        """What a reconnecting client missed, whether it needs a snapshot instead, and
        the numbers it said it had."""
        if not last_event_id:
            return [], False, None
        parts = last_event_id.split(".")
        if parts[0] != self.epoch or len(parts) != len(names) + 1:
            return [], True, None
        try:
            numbers = dict(zip(names, map(int, parts[1:]), strict=True))
        except ValueError:
            return [], True, None
        missed: list[Event] = []
        for name, number in numbers.items():
            if name not in self._streams:
                return [], True, None  # gone since (or another process's): no history
            events = self._streams[name].since(number)
            if events is None:
                return [], True, None
            missed.extend(events)
        return missed, False, numbers

    def _published_since(
        self, names: list[str], since: float
    ) -> tuple[list[Event], bool, dict[str, int] | None]:
        missed: list[Event] = []
        for name in names:
            stream = self._streams.get(name)
            events = stream.published_since(since) if stream is not None else None
            if events is None:
                return [], True, None
            missed.extend(events)
        return missed, False, None

    def event_id(self, connection: Connection, event: Event | None = None) -> str:
        """The SSE id telling where ``connection`` is, after ``event`` if given."""
        if event is not None:
            connection.seen[event.stream] = event.number
        return ".".join(itertools.chain([self.epoch], map(str, connection.seen.values())))

    def framed(self, connection: Connection, event: Event) -> tuple[bytes, ...]:
        """What to write for ``event`` on ``connection`` (which has now seen it): its id
        line, then the shared frame. A small frame goes in the same send as its id (half
        the system calls); a large one is not copied, it is written as it is."""
        seen = connection.seen
        seen[event.stream] = event.number
        numbers = tuple(seen.values())
        framing_event, pieces_by_id = self._framing
        if framing_event is not event:
            pieces_by_id = {}
            self._framing = (event, pieces_by_id)
        pieces = pieces_by_id.get(numbers)
        if pieces is None:
            event_id = ".".join(itertools.chain([self.epoch], map(str, numbers)))
            data = chunk(f"id: {event_id}\n".encode())
            if len(event.frame) <= JOINED_FRAME_BYTES:
                pieces = (data + event.frame,)
            else:
                pieces = (data, event.frame)
            pieces_by_id[numbers] = pieces
        return pieces

    def snapshot_all(self, reason: str) -> int:
        """Every open connection told to fetch its page anew (a snapshot), once each
        however many streams it watches; returns how many. The snapshot is numbered and
        kept in each stream's ring like any event: a browser away at that moment (its
        connection dropped, or reconnecting) gets it when it comes back."""
        frame = sse_frame("snapshot", json.dumps({"reason": reason}, separators=(",", ":")))
        told: set[Connection] = set()
        for stream in list(self._streams.values()):
            stream.number += 1
            event = Event(stream.name, stream.number, "snapshot", frame, None, time.time())
            self._keep(stream, event)
            for connection in list(stream.connections):
                if connection in told:
                    continue
                told.add(connection)
                if not connection.offer(event):
                    self.drop(connection)
        return len(told)

    @property
    def streams(self) -> int:
        return len(self._streams)

    def all_connections(self) -> set[Connection]:
        """Every open connection, once (one watching two streams is in both)."""
        return {c for s in self._streams.values() for c in s.connections}

    @property
    def connections(self) -> int:
        return len(self.all_connections())


def _cost(event: Event) -> int:
    return len(event.frame) + EVENT_OVERHEAD


class Publishers:
    """The backends publishing to this process, each by its process id, when it
    started, and the number of its last event: what tells that pages may have missed
    something. ZeroMQ drops what is published while it has no subscriber (a backend
    just started, hubs-sse joining or reconnecting) or while this process lags; and a
    backend that (re)started while this process served pages did not hear what the bus
    carried before (fedmsg keeps nothing)."""

    def __init__(
        self,
        started: float | None = None,
        grace_seconds: float = 10.0,
        forget_seconds: float = 600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.clock = clock
        self.started = clock() if started is None else started
        # A backend running before this process is heard within this long of its start
        # (its hellos): one first heard later started since, whatever its clock says.
        self.grace_seconds = grace_seconds
        self.forget_seconds = forget_seconds
        self._last: dict[str, tuple[int, float]] = {}  # process -> (number, heard at)

    def heard(self, tag: str, event: bool = True) -> str | None:
        """Note a frame's "<process id>.<started, ms>.<events sent so far>" (an event's
        own number, or what a hello says went before it); returns why every page must
        fetch itself anew, or None when nothing can have been missed."""
        try:
            instance, started, number = tag.split(".")
            born, number = int(started) / 1000, int(number)
        except ValueError:
            return None  # not a tag: nothing to tell from it
        before = number - 1 if event else number  # the events sent before this frame
        now = self.clock()
        previous = self._last.get(instance)
        self._last[instance] = (number, now)
        if previous is None:
            for other, (_n, at) in list(self._last.items()):
                if now - at > self.forget_seconds:
                    del self._last[other]
            if born > self.started or now - self.started > self.grace_seconds:
                return "a backend started"
            return "events were lost" if before > 0 else None
        return "events were lost" if before != previous[0] else None


class SnapshotRounds:
    """Snapshots sent to every page, at most one round every ``spacing`` seconds: a
    reason found meanwhile (several backends restarting one after the other, frames
    lost while this process lags) is answered by one more round at the end of it."""

    def __init__(self, streams: Streams, spacing: float, loop: asyncio.AbstractEventLoop) -> None:
        self.streams = streams
        self.spacing = spacing
        self.loop = loop
        self.rounds = 0
        self._last = -math.inf
        self._waiting: asyncio.TimerHandle | None = None

    def ask(self, reason: str) -> None:
        if self._waiting is not None:
            return  # a round is coming, which answers this reason too
        wait = self._last + self.spacing - self.loop.time()
        if wait <= 0:
            self._send(reason)
        else:
            self._waiting = self.loop.call_later(wait, self._send, reason)

    def _send(self, reason: str) -> None:
        self._waiting = None
        self._last = self.loop.time()
        self.rounds += 1
        told = self.streams.snapshot_all(reason)
        log.info("%s: %d pages told to fetch themselves anew", reason, told)

    def cancel(self) -> None:
        if self._waiting is not None:
            self._waiting.cancel()
