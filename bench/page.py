#!/usr/bin/env python
"""Cost of a hub page with 10 cached widgets, as a ratio to a trivial Flask route
served by the same app in the same run (DESIGN.md budget: at most 3x).

Both are requested through the app's WSGI interface, interleaved in rounds so machine
noise hits both alike; the figure is the ratio of the medians."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PLUGINS = [
    "about", "sticky", "rules", "stats", "avatar",
    "sticky", "rules", "about", "stats", "memberships",
]  # fmt: skip


def build_app(args, workdir: str):
    from hubs.app import create_app
    from hubs.database import db, upgrade
    from hubs.models import Column, Hub, HubType, Membership, Role, User, Widget

    url = f"sqlite:///{workdir}/bench.db"
    upgrade(url)
    if args.memcached:
        cache = {
            "CACHE_BACKEND": "dogpile.cache.memcached",
            "CACHE_ARGUMENTS": {"url": [args.memcached]},
        }
    else:
        cache = {"CACHE_ARGUMENTS": {"filename": f"{workdir}/cache.dbm"}}
    app = create_app({"DATABASE_URL": url, "VAR_DIR": workdir, **cache})
    app.add_url_rule("/bench/trivial", "trivial", lambda: "ok")

    with app.app_context():
        session = db.session
        users = [User(username=f"user{n}", fullname=f"User {n}") for n in range(20)]
        hub = Hub(name="bench", type=HubType.team, summary="A hub of 10 widgets")
        session.add_all([*users, hub])
        session.add_all(Membership(hub=hub, user=u, role=Role.member) for u in users[1:])
        session.add(Membership(hub=hub, user=users[0], role=Role.owner))
        for position, plugin in enumerate(PLUGINS):
            config = {"text": f"Note {position} with **markdown**"} if plugin == "sticky" else {}
            column = Column.left if position % 2 else Column.right
            session.add(
                Widget(hub=hub, plugin=plugin, column=column, position=position, config=config)
            )
        session.commit()
    client = app.test_client()
    page = client.get("/t/bench/")
    for section in page.text.split('data-src="')[1:]:
        client.get(section.split('"', 1)[0])  # fill the cache
    page = client.get("/t/bench/").text
    ready = page.count('data-state="ready"')
    if ready != len(PLUGINS):
        sys.exit(f"expected {len(PLUGINS)} cached widgets on the page, found {ready}")
    return client


def timed(client, path: str, count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        response = client.get(path)
        if response.status_code != 200:
            sys.exit(f"{path} answered {response.status_code}")
    return (time.perf_counter() - start) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--memcached", help="HOST:PORT of memcached (default: a dbm file)")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--requests", type=int, default=200, help="requests per round")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as workdir:
        client = build_app(args, workdir)
        timed(client, "/t/bench/", 50)  # warm up both
        timed(client, "/bench/trivial", 50)
        page, trivial = [], []
        for _ in range(args.rounds):
            page.append(timed(client, "/t/bench/", args.requests))
            trivial.append(timed(client, "/bench/trivial", args.requests))
    page_ms, trivial_ms = statistics.median(page) * 1e3, statistics.median(trivial) * 1e3
    cache = f"memcached {args.memcached}" if args.memcached else "dbm file"
    print(f"cache: {cache}; {args.rounds} rounds of {args.requests} requests each")
    print(f"trivial route:          {trivial_ms:7.3f} ms/request (median of rounds)")
    print(f"hub page, 10 widgets:   {page_ms:7.3f} ms/request (median of rounds)")
    print(f"ratio page/trivial:     {page_ms / trivial_ms:7.2f}x  (budget: 3x)")


if __name__ == "__main__":
    main()
