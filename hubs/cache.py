"""The widget cache: one dogpile.cache region, held by ``widget_cache`` (a
:class:`WidgetCache`) and configured from the app config by :func:`configure_cache`.

Each widget's data is stored under a key made of the widget id, its plugin and a
digest of its config, so a config change is a new key. What is stored is an
:class:`Envelope`: ``{"ok": True, "data": {...}, ...}``, with ``fresh_until`` when the
data goes stale with the clock, or ``{"ok": False, "error": ..., "at": ...}`` for a
widget whose ``data()`` failed (kept for CACHE_ERROR_EXPIRATION seconds, so a broken
widget or a dead service is not called on every page view).

When the backend fails (memcached down, unwritable dbm file) a warning is logged
and widget data is computed directly: pages render, only slower.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypedDict

import memcache
from dogpile.cache import make_region, register_backend
from dogpile.cache.api import NO_VALUE
from dogpile.cache.backends.memcached import MemcachedBackend
from dogpile.cache.proxy import ProxyBackend

log = logging.getLogger(__name__)


class Envelope(TypedDict, total=False):
    """What the cache holds for one widget, and what its rebuild or refresh produces."""

    ok: bool
    version: int  # later envelopes of a widget have larger ones
    html: str  # the widget's panel, rendered with the envelope
    # A good one (ok):
    data: dict  # what data() or refresh() computed, for the template and the JSON document
    fresh_until: float  # (optional) when data goes stale with the clock, seconds since 1970
    # (optional, from refresh()) what the pages showing version "after" add at the top of
    # the element of data-role "role" instead of replacing the panel: {role, html, after}
    prepend: dict[str, Any]
    # A failed one:
    error: str  # the exception, for the log only
    public_error: str | None  # what a visitor may read: which service is down
    at: float  # when it failed; kept CACHE_ERROR_EXPIRATION seconds


class CacheUnavailable(RuntimeError):
    """The cache backend could not store or read a value."""


class OwnServerClient(memcache.Client):
    """python-memcached sends a key whose server is down to another one, and back once
    the first is tried again (``dead_retry`` later), each thread on its own: two servers
    may then hold a widget's envelope, and an older read stored on the one that came back
    empty is what pages get. Here a key has one server: while it is down, the key's
    operations fail (a miss, a store refused), as they do with a single server."""

    def _get_server(self, key):
        if isinstance(key, tuple):
            serverhash, key = key
        else:
            serverhash = memcache.serverHashFunction(key)
        if not self.buckets:
            return None, None
        server = self.buckets[serverhash % len(self.buckets)]
        return (server, key) if server.connect() else (None, None)

    def answers(self, key: str) -> bool:
        """Whether the server of ``key`` answers now: a round trip (a socket kept open
        from before a restart looks connected until it is used), the server marked dead
        when it fails, as any other command would."""
        server, _key = self._get_server(self._encode_key(key))
        if server is None:
            return False
        try:
            server.send_cmd(b"version")
            answer = server.readline()  # (text or bytes, by python-memcached's version)
            if isinstance(answer, bytes):
                answer = answer.decode("ascii", "replace")
            if answer.startswith("VERSION"):
                return True
            server.mark_dead("no answer to version")
        except OSError as error:
            server.mark_dead(f"version: {error}")
        return False


class ReportingMemcachedBackend(MemcachedBackend):
    """python-memcached answers a dead server with a silent 0 on set: raise instead,
    so the failure is reported rather than every page quietly running uncached.
    ``server_max_value_length`` (bytes) in its arguments tells the client the largest
    item the servers take, when their ``-I`` is not memcached's default (1 MiB)."""

    def __init__(self, arguments):
        self.max_value_length = arguments.get("server_max_value_length")
        super().__init__(arguments)

    def _create_client(self):
        return OwnServerClient(
            self.url,
            dead_retry=self.dead_retry,
            socket_timeout=self.socket_timeout,
            server_max_value_length=self.max_value_length,  # (None: memcached's default)
        )

    def set(self, key, value):
        if not self.client.set(key, value, **self.set_arguments):
            raise CacheUnavailable(f"memcached at {self.url} refused to store {key}")

    def delete(self, key):
        # 0 means "not found" or "no server": only the key's server tells which.
        if not self.client.delete(key) and not self.client.answers(key):
            raise CacheUnavailable(f"memcached at {self.url} is unreachable")

    def close(self) -> None:
        """Close this thread's connections (the client is made per thread, on first use)."""
        clients = self.__dict__.get("_clients")
        if clients is not None and hasattr(clients, "memcached"):
            clients.memcached.disconnect_all()


register_backend("hubs.memcached", __name__, "ReportingMemcachedBackend")

# Configs name the standard backend; Hubs uses its reporting variant of it.
_BACKEND_ALIASES = {"dogpile.cache.memcached": "hubs.memcached"}


# The list where failed operations are noted, inside noting_failures().
_noted_failures: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "hubs_cache_failures", default=None
)


@contextlib.contextmanager
def noting_failures() -> Iterator[list[str]]:
    """Note in the list given every cache operation that fails inside the block (each is
    still a miss or a no-op, and warned about): for the backend, whose rebuilt envelope
    the cache may then not hold while pages were told of it."""
    failures: list[str] = []
    token = _noted_failures.set(failures)
    try:
        yield failures
    finally:
        _noted_failures.reset(token)


class FailSafeProxy(ProxyBackend):
    """Turn any backend error into a cache miss (or a no-op) and a rate-limited warning."""

    def __init__(self, warning_interval: float) -> None:
        super().__init__()
        self.warning_interval = warning_interval
        self._last_warning = 0.0
        self._lock = threading.Lock()

    def _warn(self, operation: str, error: Exception) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last_warning < self.warning_interval:
                return
            self._last_warning = now
        log.warning(
            "Widget cache unavailable (%s failed: %s); computing widget data directly",
            operation,
            error,
        )

    def _guard(self, operation: str, fallback, call, *args):
        try:
            return call(*args)
        except Exception as error:
            noted = _noted_failures.get()
            if noted is not None:
                noted.append(f"{operation} failed: {error}")
            self._warn(operation, error)
            return fallback

    # Backends without a serializer (memcached) get these...
    def get(self, key):
        return self._guard("get", NO_VALUE, self.proxied.get, key)

    def get_multi(self, keys):
        keys = list(keys)
        return self._guard("get_multi", [NO_VALUE] * len(keys), self.proxied.get_multi, keys)

    def set(self, key, value):
        self._guard("set", None, self.proxied.set, key, value)

    # ...those with one (dbm) get these.
    def get_serialized(self, key):
        return self._guard("get", NO_VALUE, self.proxied.get_serialized, key)

    def get_serialized_multi(self, keys):
        keys = list(keys)
        return self._guard(
            "get_multi", [NO_VALUE] * len(keys), self.proxied.get_serialized_multi, keys
        )

    def set_serialized(self, key, value):
        self._guard("set", None, self.proxied.set_serialized, key, value)

    def delete(self, key):
        self._guard("delete", None, self.proxied.delete, key)


PING_KEY = "hubs:ping"


class WidgetCache:
    """The dogpile region holding the envelopes, with what Hubs keeps beside it: why
    the backend could not be opened (``broken``), and how long a failure is kept."""

    def __init__(self) -> None:
        self.region = make_region(name="hubs-widgets")
        self.broken: str | None = None
        self.error_expiration: float = 0

    def configure(self, config: dict[str, Any]) -> None:
        """(Re)configure from CACHE_* settings. A backend that cannot even be opened (an
        unwritable dbm file) leaves the site running uncached, loudly."""
        self.close()
        backend = _BACKEND_ALIASES.get(config["CACHE_BACKEND"], config["CACHE_BACKEND"])
        arguments = dict(config["CACHE_ARGUMENTS"])
        if backend == "dogpile.cache.dbm" and arguments.get("filename"):
            with contextlib.suppress(OSError):
                os.makedirs(os.path.dirname(os.path.abspath(arguments["filename"])), exist_ok=True)
        options = {
            "expiration_time": config["CACHE_EXPIRATION"],
            "wrap": [FailSafeProxy(config["CACHE_WARNING_INTERVAL"])],
            "replace_existing_backend": True,
        }
        self.broken = None
        try:
            self.region.configure(backend, arguments=arguments, **options)
        except Exception as error:
            log.exception("Cannot open the %s widget cache: running without a cache", backend)
            self.region.configure("dogpile.cache.null", **options)
            self.broken = f"{backend} could not be opened: {error}"
        self.error_expiration = config["CACHE_ERROR_EXPIRATION"]

    def real_backend(self):
        """The backend itself, under the fail-safe proxy."""
        # Not region.actual_backend: dogpile keeps that from the first configuration.
        backend = self.region.__dict__.get("backend")
        while hasattr(backend, "proxied"):
            backend = backend.proxied
        return backend

    def ping(self) -> None:
        """Store a value in the backend itself (not through the fail-safe proxy): raises
        when the cache cannot be written."""
        if self.broken:
            raise CacheUnavailable(self.broken)
        backend = self.real_backend()
        if self.region.serializer:
            backend.set_serialized(PING_KEY, b"ok")
        else:
            backend.set(PING_KEY, "ok")

    def close(self) -> None:
        """Release the backend's connections, if it holds any."""
        backend = self.real_backend()
        if hasattr(backend, "close"):
            backend.close()

    def answers(self, key: str) -> bool:
        """Whether the cache can store ``key`` now: memcached, whether the key's server
        answers; another backend, whether it stores a value."""
        backend = self.real_backend()
        if isinstance(backend, ReportingMemcachedBackend) and not self.broken:
            return backend.client.answers(key)
        try:
            self.ping()
        except Exception:
            return False
        return True

    def forget_dead(self) -> None:
        """Try this thread's memcached servers again at its next command, however
        recently it found them down (``dead_retry``)."""
        backend = self.real_backend()
        if isinstance(backend, ReportingMemcachedBackend):
            backend.client.forget_dead_hosts()

    def is_fresh(self, envelope: Any) -> bool:
        """Whether a stored envelope may be served: data until its ``fresh_until``, a
        failure for ``error_expiration`` seconds."""
        return envelope is not NO_VALUE and time.time() < self.served_until(envelope)

    def served_until(self, envelope: Envelope) -> float:
        """Until when ``envelope`` may be served (seconds since 1970; inf: until replaced)."""
        if envelope.get("ok"):
            until = envelope.get("fresh_until")
            return math.inf if until is None else until
        return envelope.get("at", 0) + self.error_expiration


widget_cache = WidgetCache()


def ping() -> None:
    """Raise CacheUnavailable when the widget cache cannot be written."""
    widget_cache.ping()


def close_cache() -> None:
    """Release the widget cache's connections, if it holds any."""
    widget_cache.close()


def configure_cache(config: dict[str, Any]) -> None:
    """(Re)configure the widget cache from the app's CACHE_* settings."""
    widget_cache.configure(config)


# The shape of what is stored, in every key: when an Envelope's fields change meaning,
# raise it, and a deployed version never reads what an older one stored (2: fresh_until
# moved from the data into the envelope).
ENVELOPE_FORMAT = 2


def cache_key(hub_id: int, widget_id: int, plugin: str, config: dict[str, Any]) -> str:
    """The key of one widget's data; a different config gives a different key. The hub
    is part of it: SQLite may give a deleted widget's id to another hub's new widget,
    which must not find the old one's data."""
    digest = hashlib.sha1(
        json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    return f"hubs:widget:v{ENVELOPE_FORMAT}:{hub_id}:{widget_id}:{plugin}:{digest}"


def data_envelope(data: dict, version: int, fresh_until: float | None = None) -> Envelope:
    """The envelope of ``data``, read at ``version`` (new_version() taken before the
    read), good until ``fresh_until`` if given."""
    envelope: Envelope = {"ok": True, "data": data, "version": version}
    if fresh_until is not None:
        envelope["fresh_until"] = fresh_until
    return envelope


def compute_envelope(creator: Callable[[], Envelope], describe: str, version: int) -> Envelope:
    """Run ``creator``, which answers a good envelope (data_envelope()), or wrap its
    failure in one of ``version``."""
    try:
        envelope = creator()
        json.dumps(envelope["data"])  # a widget must return JSON: fail here, not in a browser
    except Exception as error:
        from hubs.clients import ServiceUnavailable

        if isinstance(error, ServiceUnavailable):
            # An outage, not a bug: one line saying what went wrong; the rest at DEBUG.
            log.warning("Widget %s: %s (%s)", describe, error, error.reason)
            log.debug("Widget %s: %s", describe, error.detail)
        else:
            log.exception("Widget %s failed to compute its data", describe)
        return {
            "ok": False,
            "error": f"{type(error).__name__}: {error}",
            # What a visitor may read: which service is down, never the details.
            "public_error": str(error) if isinstance(error, ServiceUnavailable) else None,
            "at": time.time(),
            "version": version,
        }
    return envelope


def new_version() -> int:
    """A version for an envelope about to be computed, taken before its data is read:
    of two builds, the one that read later has the larger, whichever ends last.
    Microseconds, so that it stays below 2**53 and browsers read it exactly (JSON
    numbers are doubles)."""
    return time.time_ns() // 1000


def get_cached(keys: Sequence[str]) -> list[Envelope | None]:
    """Fresh envelopes for ``keys`` in one round trip; None where there is none."""
    if not keys:
        return []
    stored = widget_cache.region.get_multi(list(keys))
    return [envelope if widget_cache.is_fresh(envelope) else None for envelope in stored]


def get_stored(keys: Sequence[str]) -> list[Envelope | None]:
    """The envelopes stored for ``keys``, fresh or not; None where there is none."""
    if not keys:
        return []
    stored = widget_cache.region.get_multi(list(keys))
    return [None if envelope is NO_VALUE else envelope for envelope in stored]


def get_or_build(key: str, build: Callable[[], Envelope]) -> Envelope:
    """The cached envelope of ``key``, built and stored when missing or stale. Built
    once however many ask at the same time (threads here, and with memcached every
    process): the others wait for it, then read what it stored."""
    value = widget_cache.region.get(key)
    if widget_cache.is_fresh(value):
        return value
    with single_flight(key):
        value = widget_cache.region.get(key)
        if widget_cache.is_fresh(value):
            return value
        return rebuild(key, build)


# The longest a build may hold its lock: a process that died holding it is forgotten
# after this long, and a waiter builds by itself.
BUILD_LOCK_SECONDS = 30
_local_locks: dict[str, list] = {}  # key -> [lock, users]
_local_locks_guard = threading.Lock()


@contextlib.contextmanager
def single_flight(key: str):
    """Hold the build lock of ``key``: this process's own, then memcached's (an
    ``add`` of a lock key, which only one process wins)."""
    with _local_locks_guard:
        entry = _local_locks.setdefault(key, [threading.Lock(), 0])
        entry[1] += 1
    try:
        with entry[0], _shared_lock(key):
            yield
    finally:
        with _local_locks_guard:
            entry[1] -= 1
            if not entry[1]:
                del _local_locks[key]


@contextlib.contextmanager
def _shared_lock(key: str):
    backend = widget_cache.real_backend()
    if not isinstance(backend, ReportingMemcachedBackend) or widget_cache.broken:
        yield  # dbm or no cache: one process's lock is what there is
        return
    client, lock = backend.client, f"hubs:building:{key}"
    deadline = time.monotonic() + BUILD_LOCK_SECONDS
    held = False
    while time.monotonic() < deadline:
        if client.add(lock, 1, time=BUILD_LOCK_SECONDS):
            held = True
            break
        if client.get(lock) is None:
            if not client.answers(lock):
                break  # the lock's memcached is not answering: build without it
            continue  # released since the add: take it (building without it races)
        time.sleep(0.005)
    try:
        yield
    finally:
        if held:
            client.delete(lock)


def rebuild(key: str, build: Callable[[], Envelope]) -> Envelope:
    """Build the envelope of ``key`` now and store it; returns the one kept."""
    return keep_newest(key, build())


def keep_newest(key: str, envelope: Envelope) -> Envelope:
    """Store ``envelope`` unless ``key`` holds one read later (a build that ran at the
    same time, its lock lost to a memcached restart or expiry, and ended first): an
    older read never replaces a newer. Returns the envelope kept."""
    stored = widget_cache.region.get(key)
    if isinstance(stored, dict) and stored.get("version", 0) > envelope["version"]:
        log.info("Kept %s of version %s over an older read", key, stored["version"])
        return stored
    widget_cache.region.set(key, envelope)
    return envelope


def invalidate(key: str) -> None:
    """Drop one key; the next reader rebuilds it."""
    widget_cache.region.delete(key)
