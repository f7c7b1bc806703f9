"""Where each bus message is handled: stored, triaged through the hint index, and the
stale widgets rebuilt and published."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import threading
import time
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session, joinedload

from hubs import backfill, page_cache
from hubs.backend.hints import Entry, HintIndex
from hubs.backend.history_thread import BackfillWorker
from hubs.backend.publisher import Publisher, make_publisher
from hubs.backend.rebuild import RebuildPool
from hubs.backend.store import (
    InvalidMessage,
    check_message,
    message_id,
    prune,
    store_message,
)
from hubs.backend.timers import RebuildTimer
from hubs.backfill import Outcome
from hubs.bus import message_people_and_packages
from hubs.cache import (
    Envelope,
    cache_key,
    close_cache,
    get_stored,
    invalidate,
    noting_failures,
    single_flight,
    widget_cache,
)
from hubs.database import db, retry_transient, writing
from hubs.memo import forget, memo
from hubs.messages import (
    JOIN_TOPICS,
    ROLE_TOPICS,
    body,
    is_hubs_message,
    layout_changed,
    topic_suffix,
)
from hubs.models import Membership, User, Widget
from hubs.my_stream import followers_of
from hubs.people import hub_owners
from hubs.rendering import widget_event
from hubs.widgets import registry as default_registry

log = logging.getLogger(__name__)

WIDGET_TOPICS = ("hubs.widget.created", "hubs.widget.updated", "hubs.widget.deleted")
# Backfilled messages checked per hold of the backend's lock.
HISTORY_CHECKS_AT_ONCE = 100
# Changes that may ask for someone's history (hubs.changes.request_history).
BACKFILL_TOPICS = ("hubs.hub.created", "hubs.user.role.added", "hubs.user.role.changed")


@dataclasses.dataclass
class Counters:
    seen: int = 0
    stored: int = 0
    duplicates: int = 0
    junk: int = 0
    invalid: int = 0
    errors: int = 0
    candidates: int = 0
    checks: int = 0
    check_errors: int = 0
    invalidations: int = 0
    rebuilds: int = 0
    refreshes: int = 0  # brought up to date by the widget's refresh(), not rebuilt
    rebuild_failures: int = 0
    pruned: int = 0
    stream_entries: int = 0
    layouts: int = 0
    notifications: int = 0  # owners told that a request to join their hub came or went
    retries: int = 0  # transient database errors met storing or rebuilding, each retried
    requeued: int = 0  # AMQP: messages handed back to the queue, to be delivered again
    dead_lettered: int = 0  # AMQP: messages that failed every try, sent to the dead letters
    timed_rebuilds: int = 0  # widgets rebuilt as their data went stale with the clock
    # Rebuilds the cache did not take (memcached away), each rebuilt again until it does.
    unstored: int = 0
    backfills: int = 0  # people whose history was fetched from datagrepper
    backfilled: int = 0  # messages those backfills stored
    backfill_failures: int = 0  # backfills left pending by an outage, to be tried again


@dataclasses.dataclass
class Unstored:
    """A widget whose newest rebuild reached the pages but not the cache."""

    key: str  # its cache key
    failures: int = 0  # stores failed in a row, and looks that found the cache still away
    refused: int = 0  # stores failed in a row while the key's server answered


# A rebuild the cache refused this many times while answering is not tried again: the
# cache will not take it (too large), this is no outage.
REFUSALS_TO_GIVE_UP = 2


class Backend:
    """The backend's work, independent of fedmsg-hub so tests can drive it directly."""

    def __init__(
        self,
        app: Flask,
        publisher: Publisher | None = None,
        registry=None,
        workers: int | None = None,
        instance: str | None = None,
    ) -> None:
        self.app = app
        self.instance = instance
        config = app.config
        self.publisher = publisher or make_publisher(config)
        self.registry = registry if registry is not None else default_registry
        self.junk = tuple(config["BACKEND_JUNK_TOPICS"])
        self.counters = Counters()
        self.pool = RebuildPool(
            self.rebuild_widget, workers or config["BACKEND_WORKERS"], on_thread_exit=close_cache
        )
        self.index = HintIndex(self.registry)
        self.timer = RebuildTimer(self._rebuild_on_time)
        # Widgets whose last rebuild the cache did not take, and a timer of their own to
        # try again (the timer above keeps one moment a widget: its data's).
        self._unstored: dict[int, Unstored] = {}
        self.store_timer = RebuildTimer(self._store_again)
        self._lock = threading.Lock()
        self._session: Session | None = None
        # The checking session's widgets by id, held (its identity map holds them weakly)
        # and found without session.get()'s cost; let go with every hubs change.
        self._checked: dict[int, Widget] = {}
        self._last_summary = time.monotonic()
        self._last_prune = time.monotonic()  # the first pruning comes one interval in
        with app.app_context():
            count = self.index.build(self.session)
            self.session.commit()  # keep the widgets, end the read transaction
        log.info("Hint index built: %d widgets", count)
        # Timers of the widgets cached before this start, set while messages are already
        # triaged: reading every envelope takes longer than building the index.
        self._timed_since_start: set[int] = set()
        self.cached_timers_set = threading.Event()
        threading.Thread(
            target=self._schedule_cached, args=(list(self.index.entries.values()),),
            name="cached-timers", daemon=True,
        ).start()  # fmt: skip
        self._stats_lock = threading.Lock()
        self._activity = threading.Event()
        self._closing = threading.Event()
        self._settler = threading.Thread(
            target=self._write_stats_when_settled, name="stats", daemon=True
        )
        self._settler.start()
        self.backfills: BackfillWorker | None = None
        if backfill.enabled(config):
            self.backfills = BackfillWorker(
                backfill.Backfiller(app, claimant=instance),
                self._after_backfill,
                config["BACKFILL_POLL_SECONDS"],
            )

    @property
    def session(self) -> Session:
        """The checking session: long-lived, so widgets and hub people stay loaded."""
        if self._session is None:
            self._session = db.new_session()
        return self._session

    def _reset_session(self) -> None:
        if self._session is not None:
            self._session.close()
        self._session = None
        self._checked.clear()

    # -- one message -----------------------------------------------------------------

    def handle(self, message: Any) -> set[int]:
        """Store, triage and schedule rebuilds for one bus message; never raises (a
        fedmsg message that failed is only counted: ZeroMQ cannot deliver it again).
        Returns the ids of the widgets scheduled for a rebuild."""
        try:
            return self.process(message)
        except InvalidMessage:
            return set()
        except Exception:
            self._reset_session()
            return set()

    def process(self, message: Any) -> set[int]:
        """As handle(), but a failure is raised once counted, so that a bus which can
        deliver again (AMQP) does so: a transient database error once the retries of
        BACKEND_RETRY_SECONDS are spent, anything else at once. InvalidMessage is
        raised for a message that will never be stored (counted as invalid)."""
        with self._lock:
            self.counters.seen += 1
            try:
                return self._handle(message)
            except InvalidMessage as error:
                self.counters.invalid += 1
                log.info("Ignored an invalid message: %s", error)
                raise
            except Exception:
                self.counters.errors += 1
                log.exception("Failed to handle message %r", _describe(message))
                self._reset_session()
                raise
            finally:
                self._periodic()
                self._activity.set()

    def follow(self, message: Any) -> set[int]:
        """Bring this process's hint index up to date with a hubs.* change that another
        backend handles (stores and rebuilds): with several backends on one queue, each
        hears every hubs change. Returns the widgets it would rebuild, not rebuilt."""
        if not isinstance(message, dict) or not is_hubs_message(message):
            return set()
        with self._lock:
            try:
                stale = self._follow_hubs_change(
                    self.session, message, topic_suffix(message["topic"])
                )
                self.session.commit()
                return stale
            except Exception:
                log.exception("Following the hubs change %r failed", _describe(message))
                self._reset_session()
                return set()
            finally:
                self._activity.set()  # its counters (indexed widgets) are written soon

    def _handle(self, message: Any) -> set[int]:
        if not isinstance(message, dict) or not isinstance(message.get("topic"), str):
            raise InvalidMessage("not a message with a topic")
        if not isinstance(message.get("msg"), dict):
            raise InvalidMessage(f"{message['topic']}: no msg object")
        suffix = topic_suffix(message["topic"])
        if self.junk and suffix.startswith(self.junk):
            self.counters.junk += 1
            return set()
        # At the door: a message the store would refuse goes no further.
        check_message(message, self.app.config["MESSAGE_MAX_BYTES"])
        usernames, packages = message_people_and_packages(message)
        if self._store(message, usernames, packages):
            self._tell_followers(message, usernames)

        session = self.session
        stale = self._check(session, message, self.index.candidates(message, usernames, packages))
        if is_hubs_message(message):
            stale |= self._follow_hubs_change(session, message, suffix)
            # The change may have added widgets or people: ask the index again.
            later = self.index.candidates(message, usernames, packages) - stale
            stale |= self._check(session, message, later)
            self._push_layout(message, suffix)
            self._notify_owners(session, message, suffix)
        # End the read transaction (SQLite writers wait for it), keeping what is loaded.
        session.commit()
        for widget_id in stale:
            self.pool.submit(widget_id)
        self.counters.invalidations += len(stale)
        log.debug(
            "%s %s: %d users, %d packages, %d widgets to rebuild",
            suffix, message.get("msg_id"), len(usernames), len(packages), len(stale),
        )  # fmt: skip
        return stale

    def _push_layout(self, message: dict, suffix: str) -> None:
        """Tell the pages of a hub whose widgets were added, removed or moved, or whose
        header changed: each fetches its layout again (as its reader sees it). Only the
        backend handling the message says so, not those following it."""
        hub_path = layout_changed(message)
        if hub_path is None:
            return
        payload = {"hub": hub_path, "topic": suffix, "msg_id": message_id(message)}
        page_cache.hub_changed(hub_path)
        self.publisher.send(f"hub:{hub_path}", "layout", payload)
        self.counters.layouts += 1

    def _notify_owners(self, session: Session, message: dict, suffix: str) -> None:
        """Tell the owners of a hub that a request to join it came or was answered: their
        pages show how many wait. Only the backend handling the message says so."""
        hub_id = body(message).get("hub_id")
        if suffix not in JOIN_TOPICS or not isinstance(hub_id, int):
            return
        with self.app.app_context():
            owners = hub_owners(session, hub_id)
        payload = {"topic": suffix, "msg_id": message_id(message)}
        for username in owners:
            page_cache.reader_changed(username)  # before the event, as for a hub's
            self.publisher.send(f"user:{username}", "notifications", payload)
        self.counters.notifications += len(owners)

    def _store(self, message: dict, usernames: Iterable[str], packages: Iterable[str]) -> bool:
        """Store the message, retrying while the database is briefly unavailable (locked,
        restarting, refusing connections): a transient error must not lose it."""

        def retrying(error: Exception, delay: float) -> None:
            self.counters.retries += 1
            log.warning(
                "Storing %s: the database is unavailable (%s); retrying in %.2f s",
                _describe(message), _first_line(error), delay,
            )  # fmt: skip

        stored = retry_transient(
            lambda: self._store_once(message, usernames, packages),
            self.app.config["BACKEND_RETRY_SECONDS"],
            retrying,
        )
        if stored is None:
            self.counters.duplicates += 1
            return False
        self.counters.stored += 1
        return True

    def _store_once(self, message: dict, usernames: Iterable[str], packages: Iterable[str]):
        with self.app.app_context(), writing():
            session = db.session
            try:
                stored = store_message(
                    session, message, usernames, packages, self.app.config["MESSAGE_MAX_BYTES"]
                )
                session.commit()
            except Exception:
                session.rollback()
                raise
            return stored

    def _tell_followers(self, message: dict, usernames: Iterable[str]) -> None:
        """Push a new message to the private stream of everyone who follows it."""
        session = self.session
        followers = set()
        for name in sorted(set(usernames)):
            # Kept in the checking session, which forgets them at every hubs change (a
            # role, a subscription, a new user), as it does the index's answers.
            followers |= memo(
                session, ("followers", name), lambda name=name: followers_of(session, [name])
            )
        msg_id = message_id(message)
        for username in sorted(followers):
            page_cache.reader_changed(username)  # their navbar counts one more unread
            self.publisher.send(f"user:{username}", "stream-entry", {"msg_id": msg_id})
        self.counters.stream_entries += len(followers)

    def _check(self, session: Session, message: dict, candidates: Iterable[int]) -> set[int]:
        # Checks may read the app's config (a service's settings): give them the app.
        with self.app.app_context():
            return self._check_in_app(session, message, candidates)

    def _check_in_app(self, session: Session, message: dict, candidates: Iterable[int]) -> set[int]:
        stale = set()
        for widget_id in candidates:
            self.counters.candidates += 1
            entry = self.index.entries.get(widget_id)
            widget = self._checked.get(widget_id)
            if widget is None:
                widget = session.get(Widget, widget_id)  # from the identity map: no SQL
                if widget is not None:
                    self._checked[widget_id] = widget
            if entry is None or widget is None:
                continue
            self.counters.checks += 1
            try:
                if self.registry[entry.plugin].should_invalidate(message, session, widget):
                    stale.add(widget_id)
            except Exception:
                self.counters.check_errors += 1
                log.exception("should_invalidate of widget %s failed", widget_id)
                session.rollback()
        return stale

    def _follow_hubs_change(self, session: Session, message: dict, suffix: str) -> set[int]:
        """Bring the index and the checking session up to date with a hubs change;
        returns the widgets that need a rebuild because of it."""
        session.expire_all()
        forget(session)
        self._checked.clear()
        fields = body(message)
        widget_id = fields.get("widget_id")
        if suffix in WIDGET_TOPICS and isinstance(widget_id, int):
            old = self.index.remove(widget_id)
            widget = session.get(Widget, widget_id, options=[joinedload(Widget.hub)])
            gone = suffix == "hubs.widget.deleted" or widget is None
            if (
                old is not None
                and old.plugin in self.registry
                and (gone or (widget.plugin, dict(widget.config or {})) != (old.plugin, old.config))
            ):
                # The old config's key holds data nobody will ask for again. (A backend
                # hearing the same change twice finds the config unchanged: it keeps it.)
                self.registry[old.plugin].invalidate_key(old.hub_id, widget_id, old.config)
            if not gone:
                self.index.add(session, widget)
                return {widget_id}
            return set()
        hub_id = fields.get("hub_id")
        if self.backfills is not None and suffix in BACKFILL_TOPICS:
            self.backfills.wake()  # the change asked for someone's history
        if suffix in ROLE_TOPICS and isinstance(hub_id, int):
            self.index.reindex_hub(session, hub_id)
        if suffix == "hubs.hub.created" and isinstance(hub_id, int):
            # A new hub and its first widgets: index them, and build their data.
            return set(self.index.reindex_hub(session, hub_id))
        if suffix == "hubs.hub.updated" and isinstance(hub_id, int):
            # New settings concern the widgets of everyone with a role in the hub (their
            # memberships show its summary), not only those of the person who saved them.
            people = session.scalars(
                sa.select(User.username).join(Membership.user).where(Membership.hub_id == hub_id)
            )
            return self._check(session, message, self.index.candidates(message, set(people), ()))
        return set()

    # -- rebuilds --------------------------------------------------------------------

    def rebuild_widget(self, widget_id: int) -> None:
        """Bring one widget's cache up to date, then publish it (runs in the pool): with
        its refresh() when it has one that applies, else by a full rebuild. A transient
        database error (restarting, refusing connections) is retried, as for storing: a
        widget left unbuilt would show older data than a fresh page until its next
        message. A retry after the envelope was stored is harmless: the new run finds
        nothing new since it, rebuilds, and publishes the same data at a later version."""

        def retrying(error: Exception, delay: float) -> None:
            if self._closing.is_set():
                raise error  # stopping: the next start rebuilds what is stale (its timers)
            with self._lock:
                self.counters.retries += 1
            log.warning(
                "Rebuilding widget %s: the database is unavailable (%s); retrying in %.2f s",
                widget_id, _first_line(error), delay,
            )  # fmt: skip

        try:
            retry_transient(
                lambda: self._rebuild_once(widget_id),
                self.app.config["BACKEND_RETRY_SECONDS"],
                retrying,
            )
        except Exception:
            self._failed_again(widget_id)  # (if its last rebuild was not cached): go on
            raise

    def _rebuild_once(self, widget_id: int) -> None:
        with self.app.app_context():  # its session is removed (rolled back) on the way out
            session = db.session
            widget = session.get(Widget, widget_id, options=[joinedload(Widget.hub)])
            widget_type = None if widget is None else self.registry.get(widget.plugin)
            if widget_type is None:  # deleted, or of a kind this backend does not know
                with self._lock:
                    self._unstored.pop(widget_id, None)
                return
            key = widget_type.cache_key(widget)
            with self._lock:
                retrying = widget_id in self._unstored
            if retrying:  # its look found memcached back: this thread may not know yet
                widget_cache.forget_dead()
            # One rebuild of a widget at a time across every backend (and page reader).
            with single_flight(key):
                self._bring_up_to_date(session, widget, widget_type, key)

    def _bring_up_to_date(self, session: Session, widget: Widget, widget_type, key: str) -> None:
        """Refresh or rebuild one widget's cache, then publish it (its lock held)."""
        # Each read below in a transaction begun after its version is taken: SQLite
        # reads what was committed when a transaction began, not when a query runs.
        session.commit()
        with noting_failures() as failures:
            envelope = self._refresh(session, widget, widget_type)
            rebuilt = envelope is None
            if rebuilt:
                widget_type.invalidate(widget)
                session.commit()
                envelope = widget_type.rebuild(session, widget)
        self._schedule(widget.id, envelope)
        self._stored(widget.id, key, failures)
        if rebuilt:
            with self._lock:
                self.counters.rebuilds += 1
                if not envelope["ok"]:
                    self.counters.rebuild_failures += 1
        # The envelope is stored: visitors' pages are rendered anew from here on.
        page_cache.hub_changed(widget.hub.url_path)
        self.publisher.publish(widget_event(widget, widget_type, envelope))

    # -- rebuilds the cache did not take ---------------------------------------------

    def _stored(self, widget_id: int, key: str, failures: list[str]) -> None:
        """After a rebuild: when the cache did not take it (memcached restarting), the
        pages are told of data the cache does not hold, and a reader that read before
        it may yet store older data there as memcached comes back. So the widget is
        rebuilt again once the key's memcached answers (looked at 1 s later, then twice
        as long each time, at most a minute), until the cache takes it; a rebuild the
        cache refuses while answering (too large) is not tried again."""
        if not failures:
            with self._lock:
                self._unstored.pop(widget_id, None)
            return
        answers = widget_cache.answers(key)
        with self._lock:
            self.counters.unstored += 1
            unstored = self._unstored.setdefault(widget_id, Unstored(key))
            unstored.key = key
            unstored.failures += 1
            unstored.refused = unstored.refused + 1 if answers else 0
            given_up = unstored.refused >= REFUSALS_TO_GIVE_UP
            if given_up:
                del self._unstored[widget_id]
            first = unstored.failures == 1
        if given_up:
            invalidate(key)  # an older envelope may be there (refused by the client alone)
            log.error(
                "Widget %s: the cache answers but does not take its data (%s); it is read "
                "from the database at each view until it changes", widget_id, failures[0],
            )  # fmt: skip
            return
        if first:
            log.warning(
                "Widget %s: the cache did not take its new data (%s); it is rebuilt again "
                "once the cache answers", widget_id, failures[0],
            )  # fmt: skip
        self._store_later(widget_id)

    def _store_later(self, widget_id: int) -> None:
        """Look at the cache again, after a delay growing with the failures so far."""
        with self._lock:
            unstored = self._unstored.get(widget_id)
            if unstored is None or self._closing.is_set():
                return
            doublings = min(unstored.failures - 1, 6)
        delay = min(self.app.config["BACKEND_STORE_RETRY_SECONDS"] * 2**doublings, 60.0)
        self.store_timer.schedule(widget_id, time.time() + delay)

    def _failed_again(self, widget_id: int) -> None:
        """One more failure of a widget waiting for the cache (its look found the cache
        away, or its rebuild failed before storing): look again, later."""
        with self._lock:
            unstored = self._unstored.get(widget_id)
            if unstored is None:
                return  # stored since, or given up
            unstored.failures += 1
        self._store_later(widget_id)

    def _store_again(self, widget_id: int) -> None:
        """(The store timer's) rebuild the widget if its key's cache answers now; else
        look again later, rebuilding nothing (nor asking its services) meanwhile."""
        with self._lock:
            unstored = self._unstored.get(widget_id)
        if unstored is None:
            return  # stored since, by a rebuild for a message
        try:
            answers = widget_cache.answers(unstored.key)
        finally:
            close_cache()  # this thread's connection: the next look makes a new one
        if answers:
            self.pool.submit(widget_id)
        else:
            self._failed_again(widget_id)

    def count(self, counter: str) -> None:
        """Add one to a counter (the AMQP consumer counts its requeues and dead letters)."""
        with self._lock:
            setattr(self.counters, counter, getattr(self.counters, counter) + 1)

    # -- history ---------------------------------------------------------------------

    def _after_backfill(self, outcome: Outcome) -> None:
        """Triage the messages a backfill stored as live ones are (the hint index, then
        the checks), and rebuild each stale widget once at the end; the widgets that
        show whether history is coming (hints.history) are rebuilt whatever came. The
        checks go a hundred messages at a time, so live messages are not held up."""
        with self._lock:
            self.counters.backfills += outcome.error is None
            self.counters.backfill_failures += outcome.error is not None
            self.counters.backfilled += outcome.stored
            stale = {w for w in self.index.involving([outcome.username])
                     if self.index.entries[w].hints.history}  # fmt: skip
        for start in range(0, len(outcome.messages), HISTORY_CHECKS_AT_ONCE):
            with self._lock:
                session = self.session
                try:
                    for stored in outcome.messages[start : start + HISTORY_CHECKS_AT_ONCE]:
                        message = stored.message
                        found = self.index.candidates(message, stored.usernames, stored.packages)
                        stale |= self._check(session, message, found - stale)
                    session.commit()
                except Exception:
                    log.exception("Triage of the history of %s failed", outcome.username)
                    self._reset_session()
        with self._lock:
            self.counters.invalidations += len(stale)
        for widget_id in stale:
            self.pool.submit(widget_id)
        self._activity.set()

    # -- timed rebuilds --------------------------------------------------------------

    def _schedule(self, widget_id: int, envelope, cached: bool = False) -> None:
        """Set the widget's timer to the moment its new data goes stale, if it has one
        (from an envelope ``cached`` before this start: unless a rebuild set it since)."""
        with self._lock:
            if cached and widget_id in self._timed_since_start:
                return
            if not cached and not self.cached_timers_set.is_set():
                self._timed_since_start.add(widget_id)
        until = envelope.get("fresh_until") if envelope.get("ok") else None
        if isinstance(until, (int, float)):
            self.timer.schedule(widget_id, float(until))
        else:
            self.timer.cancel(widget_id)

    def _schedule_cached(self, indexed: list[Entry]) -> None:
        """At start, a timer for every cached widget whose data goes stale with the clock
        (the backend that set it may be gone); one already past fires at once."""
        try:
            self._schedule_entries([e for e in indexed if e.plugin in self.registry])
        finally:
            with self._lock:
                self.cached_timers_set.set()
                self._timed_since_start.clear()
            close_cache()  # this thread's connections

    def _schedule_entries(self, entries: list[Entry]) -> None:
        keys = [
            cache_key(
                e.hub_id, e.widget_id, e.plugin, {**self.registry[e.plugin].defaults(), **e.config}
            )
            for e in entries
        ]
        try:
            cached = get_stored(keys)
        except Exception:
            log.warning("Cannot read the cache for timed rebuilds", exc_info=True)
            return
        for entry, envelope in zip(entries, cached, strict=True):
            if isinstance(envelope, dict):
                self._schedule(entry.widget_id, envelope, cached=True)

    def _rebuild_on_time(self, widget_id: int) -> None:
        self.count("timed_rebuilds")
        self.pool.submit(widget_id)

    def _refresh(self, session: Session, widget: Widget, widget_type) -> Envelope | None:
        try:
            envelope = widget_type.refresh(session, widget)
        except Exception:
            log.exception("refresh() of widget %s failed; rebuilding it", widget.id)
            session.rollback()
            return None
        if envelope is not None:
            with self._lock:
                self.counters.refreshes += 1
        return envelope

    # -- housekeeping ----------------------------------------------------------------

    def stats(self) -> dict[str, int]:
        return {
            **dataclasses.asdict(self.counters),
            "rebuild_failures": self.counters.rebuild_failures + self.pool.failures,
            "queue_depth": self.pool.depth,
            "indexed_widgets": len(self.index.entries),
        }

    def _periodic(self) -> None:
        now = time.monotonic()
        config = self.app.config
        if now - self._last_summary >= config["BACKEND_SUMMARY_INTERVAL"]:
            self._last_summary = now
            self.write_stats()
        if now - self._last_prune >= config["MESSAGE_PRUNE_INTERVAL"]:
            self._last_prune = now
            self.prune()

    def write_stats(self, summary: bool = True) -> dict[str, int]:
        """Write the counters where `fedora-hubs backend-stats` reads them; with
        ``summary``, also log them."""
        with self._stats_lock:
            stats = self.stats()
            if summary:
                log.info("backend: %s", ", ".join(f"{k}={v}" for k, v in stats.items()))
            path = stats_path(self.app.config, self.instance)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path + ".tmp", "w") as handle:
                json.dump(
                    {"time": time.time(), "pid": os.getpid(), "instance": self.instance, **stats},
                    handle,
                )
            os.replace(path + ".tmp", path)
            return stats

    def _write_stats_when_settled(self) -> None:
        """After each burst of messages, once it has settled (no message for
        BACKEND_SETTLE_SECONDS, no rebuild left), write the counters."""
        settle = self.app.config["BACKEND_SETTLE_SECONDS"]
        while True:
            self._activity.wait()
            while not self._closing.is_set():
                self._activity.clear()
                if not self.pool.wait_idle(timeout=settle):
                    self._activity.set()  # rebuilds still running: look again
                    continue
                if not self._activity.wait(settle):
                    break
            if self._closing.is_set():
                return
            try:
                self.write_stats(summary=False)
            except OSError:
                log.warning("Cannot write the backend's counters", exc_info=True)

    def prune(self) -> int:
        with self.app.app_context(), writing():
            try:
                deleted = prune(
                    db.session,
                    days=self.app.config["MESSAGE_RETENTION_DAYS"],
                    cap=self.app.config["MESSAGE_RETENTION_CAP"],
                )
            except Exception:
                db.session.rollback()
                log.exception("Pruning the message store failed")
                return 0
        self.counters.pruned += deleted
        return deleted

    def close(self) -> None:
        if self.backfills is not None:
            self.backfills.close()
        self._closing.set()
        self._activity.set()
        self._settler.join(timeout=5)
        self.timer.stop()
        self.store_timer.stop()
        self.pool.wait_idle(timeout=30)
        self.pool.shutdown()
        with self._lock:
            unstored = sorted(self._unstored)
        if unstored:
            log.warning(
                "Stopping with the newest data of widgets %s not in the cache (it was away): "
                "a page rendered afresh may show older data of them until they change",
                ", ".join(map(str, unstored)),
            )  # fmt: skip
        self.publisher.close()
        self._reset_session()
        self.write_stats()  # the last word, for `fedora-hubs backend-stats`


def stats_path(config, instance: str | None = None) -> str:
    """Where a backend writes its counters: one file per backend process (``instance``
    names each of several on one queue; the fedmsg-hub consumer has none)."""
    name = f"backend-stats.{instance}.json" if instance else "backend-stats.json"
    return os.path.join(config["VAR_DIR"], name)


def all_stats_paths(config) -> list[str]:
    """The counters files of every backend that wrote some, the unnamed one first."""
    import glob

    single = stats_path(config)
    named = sorted(glob.glob(os.path.join(config["VAR_DIR"], "backend-stats.*.json")))
    return ([single] if os.path.exists(single) else []) + named


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__


def _describe(message: Any) -> str:
    if isinstance(message, dict):
        return f"{message.get('topic')!r} {message.get('msg_id')!r}"
    return type(message).__name__
