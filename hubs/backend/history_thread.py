"""The backend's history thread: runs the pending backfills (hubs.backfill), one at a
time, beside the handling of bus messages; woken when a hub gains people, and looking
again every BACKFILL_POLL_SECONDS for rows whose retry came due."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from hubs.backfill import Backfiller, Outcome

log = logging.getLogger(__name__)


class BackfillWorker:
    def __init__(
        self,
        backfiller: Backfiller,
        on_done: Callable[[Outcome], None],
        poll_seconds: float,
    ) -> None:
        self.backfiller = backfiller
        self.on_done = on_done
        self.poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._run, name="backfill", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Look for pending backfills now (someone was just asked for)."""
        self._wake.set()

    def _run(self) -> None:
        while not self._closing.is_set():
            self._wake.clear()
            try:
                username = self.backfiller.claim()
            except Exception:
                log.warning("Backfills: cannot read the queue; looking again later", exc_info=True)
                username = None
            if username is None:
                self._wake.wait(self.poll_seconds)
                continue
            try:
                outcome = self.backfiller.run(username)
            except Exception:
                log.exception("Backfill of %s failed; its lease will lapse", username)
                continue
            try:
                self.on_done(outcome)
            except Exception:
                log.exception("After the backfill of %s", username)

    def close(self) -> None:
        self._closing.set()
        self._wake.set()
        self._thread.join(timeout=10)
