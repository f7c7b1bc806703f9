"""Streams, their ring buffers and the connections watching them (no I/O here).

A stream is a hub's widget events ("hub:/t/infrastructure/") or a user's private
events ("user:ralph"). Each event gets the next number of its stream. A connection
watches one or two streams; the SSE id it sends is ``<epoch>.<n1>.<n2>``: this process's
epoch and the last number seen of each of its streams, so a reconnecting browser says
exactly what it has (a different epoch means another process: it gets a snapshot).
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Event:
    stream: str
    number: int
    kind: str
    payload: str  # JSON, serialised once for every connection


@dataclass
class Stream:
    name: str
    ring_size: int
    number: int = 0
    ring: collections.deque = field(default_factory=collections.deque)
    connections: set[Connection] = field(default_factory=set)

    def since(self, number: int) -> list[Event] | None:
        """The events after ``number``; None when some of them left the ring."""
        if number >= self.number:
            return []
        oldest = self.ring[0].number if self.ring else self.number + 1
        if number + 1 < oldest:
            return None
        return [event for event in self.ring if event.number > number]


class Connection:
    """One open EventSource: a bounded queue of events to write, and what it has seen."""

    def __init__(self, streams: list[str], queue_size: int) -> None:
        self.streams = streams
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue(maxsize=queue_size)
        self.seen = dict.fromkeys(streams, 0)
        self.dropped = False

    def offer(self, event: Event) -> bool:
        """Queue ``event``; False (and the connection marked dropped) when full."""
        if self.dropped:
            return False
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped = True
            return False
        return True


class Streams:
    """Every stream of this process and who watches it."""

    def __init__(self, epoch: str, ring_size: int = 256, queue_size: int = 64) -> None:
        self.epoch = epoch
        self.ring_size = ring_size
        self.queue_size = queue_size
        self._streams: dict[str, Stream] = {}
        self.delivered = 0
        self.dropped = 0

    def stream(self, name: str) -> Stream:
        stream = self._streams.get(name)
        if stream is None:
            stream = self._streams[name] = Stream(name, self.ring_size)
            stream.ring = collections.deque(maxlen=self.ring_size)
        return stream

    def publish(self, name: str, kind: str, data: Any) -> Event:
        """Number an event of stream ``name`` and queue it for every watcher."""
        stream = self.stream(name)
        stream.number += 1
        event = Event(name, stream.number, kind, json.dumps(data, separators=(",", ":")))
        stream.ring.append(event)
        for connection in list(stream.connections):
            if connection.offer(event):
                self.delivered += 1
            else:
                self.dropped += 1
                self.detach(connection)
        return event

    def attach(self, names: list[str], last_event_id: str | None) -> tuple[Connection, bool]:
        """A new connection watching ``names``, its queue primed with what it missed.
        The boolean says whether it needs a snapshot (it missed too much)."""
        connection = Connection(names, self.queue_size)
        missed, snapshot, numbers = self._missed(names, last_event_id)
        for name in names:
            stream = self.stream(name)
            stream.connections.add(connection)
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
                if not stream.connections and not stream.ring:
                    del self._streams[name]

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
            events = self.stream(name).since(number)
            if events is None:
                return [], True, None
            missed.extend(events)
        return missed, False, numbers

    def event_id(self, connection: Connection, event: Event | None = None) -> str:
        """The SSE id telling where ``connection`` is, after ``event`` if given."""
        if event is not None:
            connection.seen[event.stream] = event.number
        return ".".join(itertools.chain([self.epoch], map(str, connection.seen.values())))

    @property
    def connections(self) -> int:
        return len({c for s in self._streams.values() for c in s.connections})
