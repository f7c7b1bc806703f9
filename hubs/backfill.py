"""History from day one: people's past messages fetched from datagrepper into the store.

- ``request_history()`` asks for a person's last days (a sign-up, a new member of a
  team): a pending row of the ``backfills`` table, committed with the change itself, so
  the first page of the hub already says that history is being fetched.
- ``Backfiller`` does the work for whoever runs it (a backend's background thread, or
  `fedora-hubs backfill`): it claims a pending row for a while (so that two never fetch
  the same person at once), fetches only the span the row does not cover yet, page by
  page, oldest first, and stores each message as a bus message is stored: read by the
  bus's own reader (hubs.messaging.bus_message), checked at the same door, once per
  msg_id. A datagrepper that cannot be reached leaves the row pending, retried later.
- ``history_state()`` is what a feed says meanwhile.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import socket
from collections.abc import Callable, Iterable

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.orm import Session

from hubs.backend.store import StoredMessage, StoredPage, store_page
from hubs.clients import ServiceUnavailable
from hubs.clients.datagrepper import DatagrepperClient, Politeness, SearchPage
from hubs.database import TRANSIENT_DB_ERRORS, db, retry_transient, writing
from hubs.demo.recorded import demo_session
from hubs.messaging import bus_message
from hubs.models import Backfill, utcnow

log = logging.getLogger(__name__)

FETCHING = "fetching"  # history is being fetched (or waits its turn)
UNAVAILABLE = "unavailable"  # datagrepper failed; it will be asked again later


def enabled(config) -> bool:
    return bool(config.get("DATAGREPPER_URL")) and config.get("BACKFILL_DAYS", 0) > 0


def window_days(config, days: int | None = None) -> int:
    """How many days to fetch: as asked (BACKFILL_DAYS by default, or 30 when that is
    0), never more than the store keeps (what retention would delete at once is not
    worth fetching)."""
    wanted = days or config["BACKFILL_DAYS"] or 30
    return max(1, min(wanted, config["MESSAGE_RETENTION_DAYS"]))


def request_history(session: Session, usernames: Iterable[str], days: int | None = None) -> None:
    """Ask for the history of ``usernames`` (not committed: it goes with the change
    that asked). A row already there is made pending again, for as many days as the
    widest request asked; what it covers stays covered."""
    days = window_days(current_app.config, days)
    now = utcnow()
    for username in sorted(set(usernames)):
        row = session.get(Backfill, username)
        if row is None:
            session.add(Backfill(username=username, requested=now, days=days, pending=True,
                                 failures=0))  # fmt: skip
        elif not row.pending or row.days < days:
            row.pending, row.requested, row.days = True, now, max(row.days, days)
            row.retry_at = None


def history_state(session: Session, usernames: Iterable[str]) -> str | None:
    """FETCHING while some of ``usernames`` have history still to come, UNAVAILABLE when
    its last try failed; None when there is nothing to wait for."""
    names = sorted(set(usernames))
    if not names:
        return None
    failures = session.scalars(
        sa.select(Backfill.failures).where(Backfill.username.in_(names), Backfill.pending)
    ).all()
    if not failures:
        return None
    return UNAVAILABLE if all(failures) else FETCHING


def client_for(config) -> DatagrepperClient:
    """Datagrepper's client as ``config`` sets it; in demo mode, its recorded answers
    (hubs/demo/services/datagrepper/) instead of the network."""
    url = config["DATAGREPPER_URL"]
    return DatagrepperClient(
        url,
        tuple(config["DATAGREPPER_TIMEOUT"]),
        http=demo_session(DatagrepperClient.URL_SETTING, url) if config["DEMO_MODE"] else None,
        politeness=Politeness(min_interval=config["DATAGREPPER_MIN_INTERVAL"]),
    )


@dataclasses.dataclass
class Outcome:
    """What one backfill did."""

    username: str
    pages: int = 0
    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    invalid: int = 0
    error: str | None = None  # the outage that left it pending
    messages: list[StoredMessage] = dataclasses.field(default_factory=list, repr=False)

    def add(self, page: SearchPage, result: StoredPage) -> None:
        self.pages += 1
        self.fetched += len(page.messages) + len(page.invalid)
        self.stored += len(result.stored)
        self.duplicates += result.duplicates
        self.invalid += len(page.invalid) + result.invalid
        self.messages.extend(result.stored)


# What a runner hears after each page stored: the outcome so far, and the page.
Progress = Callable[[Outcome, SearchPage], None]


class Backfiller:
    """Runs backfills from the ``backfills`` table (see the module's doc)."""

    def __init__(
        self,
        app: Flask,
        client: DatagrepperClient | None = None,
        claimant: str | None = None,
        lease_seconds: float | None = None,
    ) -> None:
        self.app = app
        config = app.config
        self.client = client or client_for(config)
        self.claimant = claimant or f"{socket.gethostname()}:{os.getpid()}"
        self.lease = dt.timedelta(seconds=lease_seconds or config["BACKFILL_LEASE_SECONDS"])
        self.retry = config["BACKFILL_RETRY_SECONDS"]

    # -- claiming --------------------------------------------------------------------

    def claim(self, username: str | None = None) -> str | None:
        """Take the next due pending row (or ``username``'s) for one lease; returns its
        username, None when there is none or another runner holds it."""
        now = utcnow()
        free = sa.or_(Backfill.claimed_until.is_(None), Backfill.claimed_until < now)
        due = sa.and_(Backfill.pending, free)
        if username is None:
            due = sa.and_(due, sa.or_(Backfill.retry_at.is_(None), Backfill.retry_at <= now))

        def take() -> str | None:
            with self.app.app_context(), writing():
                session = db.session
                query = sa.select(Backfill.username).where(due)
                if username is not None:
                    query = query.where(Backfill.username == username)
                name = session.scalars(query.order_by(Backfill.requested).limit(1)).first()
                if name is not None:
                    taken = session.execute(
                        sa.update(Backfill)
                        .where(Backfill.username == name, due)
                        .values(claimed_until=now + self.lease, claimed_by=self.claimant)
                    ).rowcount
                    name = name if taken == 1 else None
                session.commit()
                return name

        return retry_transient(take, self.app.config["BACKEND_RETRY_SECONDS"])

    def holder(self, username: str) -> str | None:
        """Who holds ``username``'s row now (another runner), if anyone."""
        with self.app.app_context():
            row = db.session.get(Backfill, username)
            held = row is not None and row.claimed_until and row.claimed_until > utcnow()
            return row.claimed_by if held else None

    # -- running ---------------------------------------------------------------------

    def run(self, username: str, progress: Progress | None = None) -> Outcome:
        """Fetch what ``username``'s claimed row lacks, then mark it done; on an outage,
        leave it pending with a time to try again, and say so in one log line."""
        outcome = Outcome(username)
        try:
            for start, end in self._missing(username):
                self._fetch_span(username, start, end, outcome, progress)
        except ServiceUnavailable as error:
            outcome.error = f"{error.service} {error.reason}"
            delay = self._failed(username, outcome.error)
            log.warning(
                "Backfill of %s: %s (%s); %d messages stored, trying again in %d s",
                username, error, error.reason, outcome.stored, delay,
            )  # fmt: skip
            return outcome
        except TRANSIENT_DB_ERRORS as error:
            outcome.error = "the database is unavailable"
            delay = self._failed(username, outcome.error)
            log.warning(
                "Backfill of %s: the database is unavailable (%s); trying again in %d s",
                username, str(error).splitlines()[0][:120], delay,
            )  # fmt: skip
            return outcome
        self._update(username, pending=False, failures=0, error=None, retry_at=None,
                     claimed_until=None, claimed_by=None)  # fmt: skip
        log.info(
            "Backfill of %s: %d messages stored from %d pages (%d there already, %d invalid)",
            username, outcome.stored, outcome.pages, outcome.duplicates, outcome.invalid,
        )  # fmt: skip
        return outcome

    def _missing(self, username: str) -> list[tuple[dt.datetime, dt.datetime]]:
        """The spans of the wanted window not covered yet: before what is covered (the
        window grew), and from its end to now."""
        with self.app.app_context():
            row = db.session.get(Backfill, username)
            if row is None:
                return []
            now = utcnow()
            start = now - dt.timedelta(days=row.days)
            if row.covered_from is None or row.covered_until is None:
                return [(start, now)]
            spans = []
            if start < row.covered_from:
                spans.append((start, row.covered_from))
            spans.append((max(row.covered_until, start), now))
            return spans

    def _fetch_span(
        self,
        username: str,
        start: dt.datetime,
        end: dt.datetime,
        outcome: Outcome,
        progress: Progress | None,
    ) -> None:
        page_number = 1
        while True:
            page = self.client.search(
                users=[username], start=start.timestamp(), end=end.timestamp(), page=page_number
            )
            values = [bus_message(message) for message in page.messages]
            result = retry_transient(
                lambda values=values: self._store(values),
                self.app.config["BACKEND_RETRY_SECONDS"],
            )
            outcome.add(page, result)
            # Covered so far: up to the newest message stored (all of the span at its end).
            reached = end if page.last else (result.newest or start)
            self._covered(username, start, reached)
            if progress is not None:
                progress(outcome, page)
            if page.last or not page.messages:
                return
            page_number += 1

    def _store(self, values: list[dict]) -> StoredPage:
        with self.app.app_context(), writing():
            session = db.session
            try:
                result = store_page(session, values, self.app.config["MESSAGE_MAX_BYTES"])
                session.commit()
            except Exception:
                session.rollback()
                raise
            return result

    def _covered(self, username: str, start: dt.datetime, reached: dt.datetime) -> None:
        """Extend the row's covered span by [start, reached] when the two touch, and
        renew the lease."""

        def update() -> None:
            with self.app.app_context(), writing():
                session = db.session
                row = session.get(Backfill, username)
                if row is None:
                    return
                if row.covered_from is None or row.covered_until is None:
                    row.covered_from, row.covered_until = start, reached
                elif start <= row.covered_until and reached >= row.covered_from:
                    row.covered_from = min(row.covered_from, start)
                    row.covered_until = max(row.covered_until, reached)
                row.claimed_until = utcnow() + self.lease
                session.commit()

        retry_transient(update, self.app.config["BACKEND_RETRY_SECONDS"])

    def _failed(self, username: str, error: str) -> int:
        """Leave the row pending, to be tried again after a back-off that doubles with
        each failure in a row (up to an hour); returns the delay in seconds."""
        with self.app.app_context():
            row = db.session.get(Backfill, username)
            failures = (row.failures if row is not None else 0) + 1
        delay = int(min(self.retry * 2 ** (failures - 1), 3600))
        try:
            retry_at = utcnow() + dt.timedelta(seconds=delay)
            self._update(username, failures=failures, error=error[:200], retry_at=retry_at,
                         claimed_until=None, claimed_by=None)  # fmt: skip
        except TRANSIENT_DB_ERRORS:
            log.warning("Backfill of %s: cannot record the failure; its lease will lapse", username)
        return delay

    def _update(self, username: str, **values) -> None:
        def update() -> None:
            with self.app.app_context(), writing():
                db.session.execute(
                    sa.update(Backfill).where(Backfill.username == username).values(**values)
                )
                db.session.commit()

        retry_transient(update, self.app.config["BACKEND_RETRY_SECONDS"])
