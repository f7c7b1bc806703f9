#!/usr/bin/env python
"""A feed brought up to date by a new message: refresh() (the entries newer than the
cached top entry, put on top) against a full rebuild (the whole first page read again),
on a team hub whose people have a long history in the message store.

Both run in this process on the same database (SQLite by default, or --database), with
the feed's envelope cached; the figures are milliseconds per update and their ratio.
With --history 2000 20000 200000 each store size is measured in turn, so the growth
shows (a new database each).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import sys
import tempfile
import time

import sqlalchemy as sa

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from hubs.demo import FEDMSG_CORPUS as CORPUS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--history", type=int, nargs="+", default=[20_000], help="messages in the store"
    )
    parser.add_argument("--people", type=int, default=40, help="people of the team")
    parser.add_argument("--per-page", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--database", help="a database URL (default: a new SQLite file)")
    args = parser.parse_args()

    with open(CORPUS) as handle:
        corpus = [json.loads(line)["msg"] for line in handle]
    figures = {}
    for history in args.history:
        figures[history] = measure(args, corpus, history)
    if len(figures) > 1:
        print("\nmessages  refresh ms  rebuild ms")
        for history, (refresh, rebuild) in figures.items():
            print(f"{history:8d}  {refresh:10.2f}  {rebuild:10.2f}")
        first, last = min(figures), max(figures)
        for label, index in (("refresh", 0), ("rebuild", 1)):
            growth = figures[last][index] / figures[first][index]
            print(f"{label}: {growth:.2f}x the time for {last / first:.0f}x the messages")


def measure(args, corpus: list[dict], history: int) -> tuple[float, float]:
    """Milliseconds per new message of refresh() and of a rebuild, with ``history``
    messages in a new store."""
    with tempfile.TemporaryDirectory() as workdir:
        from hubs.app import create_app
        from hubs.backend.store import store_message
        from hubs.database import db, upgrade
        from hubs.models import Column, Hub, HubType, Membership, Role, User, Widget
        from hubs.widgets import registry

        url = args.database or f"sqlite:///{workdir}/feed.db"
        if args.database:
            reset_database(url)
        upgrade(url)
        app = create_app(
            {"DATABASE_URL": url, "VAR_DIR": workdir, "BACKEND_EVENTS_ENDPOINT": None,
             "CACHE_ARGUMENTS": {"filename": f"{workdir}/cache.dbm"}}
        )  # fmt: skip
        feed = registry["feed"]
        with app.test_request_context():
            session = db.session
            people = [f"person{n}" for n in range(args.people)]
            hub = Hub(name="bench-team", type=HubType.team)
            for name in people:
                session.add(Membership(hub=hub, user=User(username=name), role=Role.member))
            widget = Widget(hub=hub, plugin="feed", column=Column.left, position=0,
                            config={"per_page": args.per_page})  # fmt: skip
            session.add(widget)
            start = time.time() - 86400 * 365
            for n in range(history):
                message = {**copy.deepcopy(corpus[n % len(corpus)]), "msg_id": f"old-{n}",
                           "timestamp": start + n}  # fmt: skip
                store_message(session, message, [people[n % len(people)], f"other{n % 500}"], [])
                if n % 5000 == 4999:
                    session.commit()
                    print(f"history: {n + 1}/{history} messages stored", flush=True)
            session.commit()
            session.execute(sa.text("ANALYZE"))  # planner statistics, as autovacuum keeps them
            session.commit()
            print(f"{history} messages, a team of {args.people}, {args.per_page} a page")

            def new_message(n: int) -> None:
                message = {**copy.deepcopy(corpus[n % len(corpus)]), "msg_id": f"new-{n}",
                           "timestamp": time.time()}  # fmt: skip
                store_message(session, message, [people[n % len(people)]], [])
                session.commit()

            feed.rebuild(session, widget)
            timings = {"refresh": [], "rebuild": []}
            for n in range(args.rounds):
                new_message(n)
                began = time.perf_counter()
                if n % 2:
                    feed.rebuild(session, widget)
                    timings["rebuild"].append(time.perf_counter() - began)
                else:
                    refreshed = feed.refresh(session, widget)
                    timings["refresh"].append(time.perf_counter() - began)
                    assert refreshed is not None, "refresh() declined"
            top = [e["msg_id"] for e in feed.data(session, widget)["data"]["entries"]]
            assert top == [e["msg_id"] for e in feed.compute(session, widget)["entries"]]
            session.remove()

    refresh = statistics.median(timings["refresh"]) * 1000
    rebuild = statistics.median(timings["rebuild"]) * 1000
    print(f"refresh: {refresh:7.2f} ms per new message (median of {len(timings['refresh'])})")
    print(f"rebuild: {rebuild:7.2f} ms per new message (median of {len(timings['rebuild'])})")
    print(f"refresh is {rebuild / refresh:.1f}x faster; both leave the same entries cached")
    return refresh, rebuild


def reset_database(url: str) -> None:
    """Empty the --database given, so each size starts from nothing."""
    engine = sa.create_engine(url)
    tables = sa.MetaData()
    tables.reflect(engine)
    tables.drop_all(engine)
    engine.dispose()


if __name__ == "__main__":
    main()
