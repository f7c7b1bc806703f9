#!/usr/bin/env python
"""Triage throughput: the corpus replayed against 10,000 widgets on 1,000 hubs (or the
sizes given: --widgets 10000 100000 --hubs 1000 10000 measures both, and how much the
rate falls from the first to the last).

For each message, the backend reads its users and packages (fedmsg.meta), asks the hint
index for candidates and runs only their checks; the baseline runs every widget's check.
Both run in this process on the same database and checking session; the figures are
messages per second and their ratio (DESIGN.md: >= 5,000 msg/s at 10,000 widgets, no
worse than 2x slower at 100,000, >= 50x the baseline; the hint index built in <= 10 s).
Storing and rebuilding are not part of triage and are not timed here.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time

import sqlalchemy as sa

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from hubs.demo import FEDMSG_CORPUS as CORPUS  # noqa: E402

EXTRA_WIDGETS = [("sticky", {"text": "more"}), ("fedmsgstats", {}), ("about", {}), ("stats", {})]


def seed(session, hubs: int, per_hub: int, rng: random.Random, corpus: list[dict]) -> int:
    from hubs.bus import message_people_and_packages
    from hubs.default_widgets import default_widgets
    from hubs.models import Column, Hub, HubType, Membership, Role, User, Widget

    corpus_users = sorted({u for m in corpus for u in message_people_and_packages(m)[0]})
    names = corpus_users + [f"person{n}" for n in range(max(0, hubs // 2 - len(corpus_users)))]
    users = {name: User(username=name, fullname=name) for name in names}
    session.add_all(users.values())
    count = 0
    for n in range(hubs):
        if n < len(names):
            hub = Hub(name=names[n], type=HubType.user)
            session.add(Membership(hub=hub, user=users[names[n]], role=Role.owner))
        else:
            hub = Hub(name=f"team{n}", type=HubType.team)
            for role, member in zip(
                [Role.owner] + [Role.member] * 5, rng.sample(names, 6), strict=True
            ):
                session.add(Membership(hub=hub, user=users[member], role=role))
        widgets = default_widgets(hub)[:per_hub]
        for extra in range(per_hub - len(widgets)):
            plugin, config = EXTRA_WIDGETS[extra % len(EXTRA_WIDGETS)]
            widgets.append(Widget(hub=hub, plugin=plugin, column=Column.right, config=config))
        session.add_all(widgets)
        count += len(widgets)
        if n % 1000 == 999:
            session.commit()
            print(f"seeding: {n + 1}/{hubs} hubs", flush=True)
    session.commit()
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--widgets", type=int, nargs="+", default=[10_000])
    parser.add_argument("--hubs", type=int, nargs="+", default=[1000])
    parser.add_argument("--rounds", type=int, default=5, help="replays of the corpus")
    parser.add_argument("--baseline-messages", type=int, default=40)
    args = parser.parse_args()
    if len(args.widgets) != len(args.hubs):
        parser.error("give as many --hubs as --widgets")

    with open(CORPUS) as handle:
        corpus = [json.loads(line)["msg"] for line in handle]
    results = [measure(args, corpus, w, h) for w, h in zip(args.widgets, args.hubs, strict=True)]
    if len(results) > 1:
        print("\nwidgets   hubs  index built  messages/s")
        for (widgets, hubs), (rate, built) in zip(
            zip(args.widgets, args.hubs, strict=True), results, strict=True
        ):
            print(f"{widgets:7d} {hubs:6d} {built:10.2f} s {rate:11.0f}")
        fall = results[0][0] / results[-1][0]
        print(
            f"from {args.widgets[0]} to {args.widgets[-1]} widgets the rate falls {fall:.2f}x "
            "(target: no more than 2x)"
        )


def measure(args, corpus: list[dict], total: int, hubs: int) -> tuple[float, float]:
    """Messages/s of the triage with ``total`` widgets on ``hubs`` hubs, and the seconds
    the hint index took to build."""
    with tempfile.TemporaryDirectory() as workdir:
        from hubs.app import create_app
        from hubs.backend.triage import Backend
        from hubs.bus import message_people_and_packages
        from hubs.database import db, upgrade
        from hubs.models import Widget

        url = f"sqlite:///{workdir}/triage.db"
        upgrade(url)
        app = create_app(
            {"DATABASE_URL": url, "VAR_DIR": workdir, "BACKEND_EVENTS_ENDPOINT": None,
             "CACHE_ARGUMENTS": {"filename": f"{workdir}/cache.dbm"}}
        )  # fmt: skip
        with app.app_context():
            widgets = seed(db.session, hubs, max(1, total // hubs), random.Random(7), corpus)
            db.session.remove()
        print(f"{widgets} widgets on {hubs} hubs; {len(corpus)} corpus messages")
        start = time.perf_counter()
        backend = Backend(app, workers=1)
        built = time.perf_counter() - start
        print(f"hint index built in {built:.2f} s (target: <= 10 s at 100,000 widgets)")
        backend.cached_timers_set.wait()  # the cached widgets' timers, set meanwhile
        swept = time.perf_counter() - start - built
        print(f"cached widgets' timers set {swept:.2f} s later, while triaging")
        session = backend.session
        all_widgets = session.scalars(sa.select(Widget)).all()
        for widget in all_widgets:
            _ = widget.hub  # both measures start with every widget loaded

        def indexed(message) -> set[int]:
            usernames, packages = message_people_and_packages(message)
            candidates = backend.index.candidates(message, usernames, packages)
            return backend._check(session, message, candidates)

        def brute(message) -> set[int]:
            stale = set()
            for widget in all_widgets:
                if backend.registry[widget.plugin].should_invalidate(message, session, widget):
                    stale.add(widget.id)
            return stale

        for message in corpus:  # warm fedmsg.meta, memos and the identity map
            indexed(message)
        start = time.perf_counter()
        checks = backend.counters.checks
        for _ in range(args.rounds):
            for message in corpus:
                indexed(dict(message))  # a new dict: no answer kept from the last call
        elapsed = time.perf_counter() - start
        rate = args.rounds * len(corpus) / elapsed
        per_message = (backend.counters.checks - checks) / (args.rounds * len(corpus))

        sample = corpus[: args.baseline_messages]
        mismatches = sum(indexed(dict(m)) != brute(dict(m)) for m in sample)
        start = time.perf_counter()
        for message in sample:
            brute(dict(message))
        brute_rate = len(sample) / (time.perf_counter() - start)
        backend.close()

    print(f"hint index:  {rate:9.0f} messages/s ({per_message:.1f} checks per message)")
    print(f"brute force: {brute_rate:9.1f} messages/s ({widgets} checks per message)")
    print(f"speed-up:    {rate / brute_rate:9.0f}x  (targets: >= 5,000 msg/s and >= 50x)")
    print(f"same stale widgets as brute force on {len(sample) - mismatches}/{len(sample)} messages")
    return rate, built


if __name__ == "__main__":
    main()
