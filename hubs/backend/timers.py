"""Rebuilds at the moment a widget's data goes stale with the clock.

Some data changes with no bus message to say so: a meeting starts or ends. Such a
widget's data() answers a WidgetData naming the moment after which it must be computed
again, which its envelope keeps as ``fresh_until``; the backend keeps one timer per
widget (the latest data's moment wins) and, when it comes, has the widget rebuilt and
pushed like any other.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class RebuildTimer:
    """Calls ``due(widget_id)`` once the clock reaches the moment set for the widget."""

    def __init__(self, due: Callable[[int], None], clock: Callable[[], float] = time.time):
        self._due = due
        self._clock = clock
        self._at: dict[int, float] = {}  # widget -> its one pending moment
        self._heap: list[tuple[float, int]] = []  # may hold moments since replaced
        self._changed = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="rebuild-timer", daemon=True)
        self._thread.start()

    def schedule(self, widget_id: int, when: float) -> None:
        """Set the widget's moment to ``when`` (seconds since 1970), replacing any."""
        with self._changed:
            self._at[widget_id] = when
            heapq.heappush(self._heap, (when, widget_id))
            self._changed.notify()

    def cancel(self, widget_id: int) -> None:
        with self._changed:
            self._at.pop(widget_id, None)

    def pending(self) -> dict[int, float]:
        with self._changed:
            return dict(self._at)

    def _next_due(self) -> int | None:
        """The next widget whose moment has come, waiting for it; None once stopping."""
        with self._changed:
            while not self._stopping:
                if not self._heap:
                    self._changed.wait()
                    continue
                when, widget_id = self._heap[0]
                if self._at.get(widget_id) != when:
                    heapq.heappop(self._heap)  # replaced or cancelled since
                    continue
                delay = when - self._clock()
                if delay > 0:
                    self._changed.wait(delay)
                    continue
                heapq.heappop(self._heap)
                del self._at[widget_id]
                return widget_id
            return None

    def _run(self) -> None:
        while (widget_id := self._next_due()) is not None:
            try:
                self._due(widget_id)
            except Exception:
                log.exception("The timed rebuild of widget %s failed", widget_id)

    def stop(self) -> None:
        with self._changed:
            self._stopping = True
            self._changed.notify()
        self._thread.join(timeout=5)
