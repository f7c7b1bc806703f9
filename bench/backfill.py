#!/usr/bin/env python
"""Backfill throughput: --messages real corpus messages of one person (both buses', each
under its own id) served by a local datagrepper-shaped server (tests/datagrepper.py),
fetched by `fedora-hubs backfill`'s Backfiller page by page (100 a page) into an empty
store, against a baseline in the same run: the same messages stored one transaction
each, as the backend stores live ones.

Prints messages/s for both and their ratio, the pages fetched, and that a second run
stores none. SQLite by default; --database postgresql+psycopg2://... for PostgreSQL
(the database is emptied)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

import sqlalchemy as sa

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from hubs.app import create_app  # noqa: E402
from hubs.backend.store import store_message  # noqa: E402
from hubs.backfill import Backfiller, request_history  # noqa: E402
from hubs.bus import message_people_and_packages  # noqa: E402
from hubs.clients.datagrepper import load_message  # noqa: E402
from hubs.database import db, upgrade  # noqa: E402
from hubs.demo import FEDMSG_CORPUS  # noqa: E402
from hubs.messaging import bus_message  # noqa: E402
from hubs.models import Base, Message, User  # noqa: E402
from tests.datagrepper import Datagrepper, history  # noqa: E402

PERSON = "ralph"


def fresh_database(url: str) -> None:
    if url.startswith("postgresql"):
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            Base.metadata.drop_all(connection)
            connection.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        engine.dispose()
    upgrade(url)


def app_on(url: str, workdir: str, datagrepper_url: str):
    return create_app({
        "DATABASE_URL": url, "VAR_DIR": workdir,
        "CACHE_ARGUMENTS": {"filename": f"{workdir}/cache.dbm"},
        "DATAGREPPER_URL": datagrepper_url, "DATAGREPPER_MIN_INTERVAL": 0.0,
        "FEDMSG_PUBLISH": False,
    })  # fmt: skip


def count(app) -> int:
    with app.app_context():
        stored = db.session.scalar(sa.select(sa.func.count()).select_from(Message))
        db.session.remove()
        return stored


def baseline(app, raw: list[dict]) -> float:
    """The live path's rate: one message, one transaction (what the backend does)."""
    values = [bus_message(load_message(message)) for message in raw]
    started = time.perf_counter()
    with app.app_context():
        for value in values:
            store_message(db.session, value, *message_people_and_packages(value))
            db.session.commit()
        db.session.remove()
    return len(values) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--database", help="a database URL (default: new SQLite files)")
    args = parser.parse_args()

    with open(FEDMSG_CORPUS) as handle:
        corpus = [json.loads(line) for line in handle]
    raw = history(PERSON, args.messages, corpus, days=29)

    with tempfile.TemporaryDirectory() as workdir, Datagrepper() as server:
        server.archive.add(raw)
        urls = (
            [args.database, args.database]
            if args.database
            else [f"sqlite:///{workdir}/backfill.db", f"sqlite:///{workdir}/baseline.db"]
        )
        print(f"{args.messages} messages of {PERSON} on {urls[0].split(':')[0]}")

        fresh_database(urls[1])
        live_rate = baseline(app_on(urls[1], workdir, server.url), raw)
        print(f"baseline (one transaction a message, as live): {live_rate:,.0f} messages/s")

        fresh_database(urls[0])
        app = app_on(urls[0], workdir, server.url)
        with app.app_context():
            db.session.add(User(username=PERSON, fullname="Ralph"))
            request_history(db.session, [PERSON], days=30)
            db.session.commit()
            db.session.remove()
        backfiller = Backfiller(app)
        pages = []
        started = time.perf_counter()
        backfiller.claim(PERSON)
        outcome = backfiller.run(PERSON, progress=lambda done, page: pages.append(page.page))
        elapsed = time.perf_counter() - started
        stored = count(app)
        rate = outcome.stored / elapsed
        print(
            f"backfill: {outcome.stored} stored from {outcome.pages} pages in {elapsed:.1f} s: "
            f"{rate:,.0f} messages/s ({rate / live_rate:.2f}x the baseline)"
        )
        with app.app_context():
            request_history(db.session, [PERSON], days=30)
            db.session.commit()
            db.session.remove()
        backfiller.claim(PERSON)
        again = backfiller.run(PERSON)
        print(f"second run: {again.stored} stored, {again.fetched} fetched")
        if stored != args.messages or outcome.error or again.stored:
            print(f"FAILED: {stored} in the store, error {outcome.error!r}")
            sys.exit(1)


if __name__ == "__main__":
    main()
