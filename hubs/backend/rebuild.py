"""A bounded pool of rebuild workers, at most one rebuild per widget in flight."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

_STOP = object()


class RebuildPool:
    """Runs ``rebuild(widget_id)`` on ``workers`` threads.

    A widget asked for again while its rebuild runs is rebuilt once more afterwards
    (however many times it was asked), so the last message always wins and no widget
    is ever rebuilt twice at once. ``on_thread_exit`` runs in each worker as it stops
    (to close its connections).
    """

    def __init__(
        self,
        rebuild: Callable[[int], None],
        workers: int,
        on_thread_exit: Callable[[], None] | None = None,
    ) -> None:
        self._rebuild = rebuild
        self._on_thread_exit = on_thread_exit
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._running: set[int] = set()
        self._again: set[int] = set()
        self.failures = 0
        self.coalesced = 0
        self._threads = [
            threading.Thread(target=self._work, name=f"rebuild-{n}", daemon=True)
            for n in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    @property
    def depth(self) -> int:
        """Widgets waiting or being rebuilt."""
        with self._lock:
            return len(self._running) + len(self._again)

    def submit(self, widget_id: int) -> bool:
        """Schedule a rebuild; False when it was folded into one already in flight."""
        with self._lock:
            if widget_id in self._running:
                if widget_id in self._again:
                    self.coalesced += 1
                self._again.add(widget_id)
                return False
            self._running.add(widget_id)
        self._queue.put(widget_id)
        return True

    def _work(self) -> None:
        try:
            while (widget_id := self._queue.get()) is not _STOP:
                self._run(widget_id)
        finally:
            if self._on_thread_exit is not None:
                self._on_thread_exit()

    def _run(self, widget_id: int) -> None:
        while True:
            try:
                self._rebuild(widget_id)
            except Exception:
                log.exception("Rebuilding widget %s failed", widget_id)
                with self._lock:
                    self.failures += 1
            with self._lock:
                if widget_id in self._again:
                    self._again.discard(widget_id)
                    continue
                self._running.discard(widget_id)
                self._idle.notify_all()
                return

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no rebuild is queued or running; False on timeout."""
        with self._lock:
            return self._idle.wait_for(lambda: not self._running, timeout)

    def wait_done(self, widget_ids: set[int], timeout: float | None = None) -> bool:
        """Block until none of ``widget_ids`` is queued or being rebuilt (including a
        rebuild asked again meanwhile); False on timeout."""
        with self._lock:
            return self._idle.wait_for(lambda: not (widget_ids & self._running), timeout)

    def shutdown(self) -> None:
        """Finish what is queued, then stop the workers."""
        for _ in self._threads:
            self._queue.put(_STOP)
        for thread in self._threads:
            thread.join()
