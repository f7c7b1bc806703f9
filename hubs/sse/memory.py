"""Giving memory back to the system after streams end.

What a stream costs while its reader lags (its unsent bytes, in pieces of about an
event each) is freed when it ends, but glibc's allocator keeps freed memory inside the
heap for reuse: without a trim, a burst to many slow readers leaves the process as big
as its peak for good. ``malloc_trim(0)`` returns the free pages; it walks the heap, so
it runs at most once per interval, after the streams that ended in it.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
from collections.abc import Callable

log = logging.getLogger("hubs.sse")


def glibc_malloc_trim() -> Callable[[], object] | None:
    """glibc's ``malloc_trim(0)``, or None where the C library has none (musl, macOS)."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return lambda: trim(0)


class MemoryTrim:
    """Trims the heap after streams end: at most once every ``interval`` seconds, and
    always after the last stream that ended (a trailing call, not a leading one)."""

    def __init__(self, interval: float, trim: Callable[[], object] | None) -> None:
        self.interval = interval
        self.trim = trim
        self.trims = 0
        self._last = float("-inf")
        self._pending: asyncio.TimerHandle | None = None

    def stream_ended(self) -> None:
        if self.trim is None or self._pending is not None:
            return
        loop = asyncio.get_running_loop()
        delay = max(0.0, self._last + self.interval - loop.time())
        self._pending = loop.call_later(delay, self._run)

    def _run(self) -> None:
        self._pending = None
        self._last = asyncio.get_running_loop().time()
        self.trim()
        self.trims += 1

    def close(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
