#!/usr/bin/env python
"""Cost of a hub page with 10 cached widgets, as a ratio to a trivial Flask route
served by the same app in the same run (DESIGN.md budget: at most 3x).

Two measures, each interleaving both routes in rounds so machine noise hits both alike,
the figure being the ratio of the medians:

- wsgi: requests through the app's WSGI interface in this process (the app's own cost);
- http: requests over loopback to gunicorn (one sync worker), as a browser makes them.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

PLUGINS = [
    "about", "sticky", "rules", "stats", "avatar",
    "sticky", "rules", "about", "stats", "memberships",
]  # fmt: skip
PAGE, TRIVIAL = "/t/bench/", "/bench/trivial"


def write_config(args, workdir: str) -> str:
    lines = [f"DATABASE_URL = {f'sqlite:///{workdir}/bench.db'!r}", f"VAR_DIR = {workdir!r}"]
    if args.memcached:
        lines += [
            "CACHE_BACKEND = 'dogpile.cache.memcached'",
            f"CACHE_ARGUMENTS = {{'url': [{args.memcached!r}]}}",
        ]
    else:
        lines.append(f"CACHE_ARGUMENTS = {{'filename': {workdir + '/cache.dbm'!r}}}")
    path = os.path.join(workdir, "config.py")
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def seed(config_path: str) -> None:
    """A team hub of 10 widgets and 20 people, every widget cached."""
    os.environ["HUBS_CONFIG"] = config_path
    from hubs.config import load_config
    from hubs.database import upgrade

    upgrade(load_config()["DATABASE_URL"])
    from benchapp import app

    from hubs.database import db
    from hubs.models import Column, Hub, HubType, Membership, Role, User, Widget

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
    for section in client.get(PAGE).text.split('data-src="')[1:]:
        client.get(section.split('"', 1)[0])  # fill the cache
    ready = client.get(PAGE).text.count('data-state="ready"')
    if ready != len(PLUGINS):
        sys.exit(f"expected {len(PLUGINS)} cached widgets on the page, found {ready}")


def wsgi_getter():
    from benchapp import app

    client = app.test_client()

    def get(path: str) -> None:
        response = client.get(path)
        if response.status_code != 200:
            sys.exit(f"{path} answered {response.status_code}")

    return get


def http_getter(port: int):
    def get(path: str) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port)
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        connection.close()
        if response.status != 200:
            sys.exit(f"{path} answered {response.status}")

    return get


def start_gunicorn(config_path: str) -> tuple[subprocess.Popen, int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}",
         "--pythonpath", os.path.join(ROOT, "bench"), "--log-level", "warning", "benchapp:app"],
        env={**os.environ, "HUBS_CONFIG": config_path},
        cwd=ROOT,
    )  # fmt: skip
    for _ in range(100):
        try:
            http_getter(port)(TRIVIAL)
            return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    sys.exit("gunicorn did not start")


def measure(get, rounds: int, requests: int) -> tuple[float, float]:
    def timed(path: str) -> float:
        start = time.perf_counter()
        for _ in range(requests):
            get(path)
        return (time.perf_counter() - start) / requests

    timed(PAGE), timed(TRIVIAL)  # warm up
    page, trivial = [], []
    for _ in range(rounds):
        page.append(timed(PAGE))
        trivial.append(timed(TRIVIAL))
    return statistics.median(page) * 1e3, statistics.median(trivial) * 1e3


def report(label: str, page_ms: float, trivial_ms: float) -> None:
    print(
        f"{label:5} trivial route {trivial_ms:7.3f} ms | hub page, 10 cached widgets "
        f"{page_ms:7.3f} ms | ratio {page_ms / trivial_ms:5.2f}x (budget 3x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--memcached", help="HOST:PORT of memcached (default: a dbm file)")
    parser.add_argument("--via", choices=["wsgi", "http", "both"], default="both")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--requests", type=int, default=100, help="requests per round")
    args = parser.parse_args()
    sys.path.insert(0, os.path.join(ROOT, "bench"))

    with tempfile.TemporaryDirectory() as workdir:
        config_path = write_config(args, workdir)
        seed(config_path)
        cache = f"memcached {args.memcached}" if args.memcached else "dbm file"
        print(f"cache: {cache}; SQLite; {args.rounds} rounds of {args.requests} requests")
        if args.via in ("wsgi", "both"):
            report("wsgi", *measure(wsgi_getter(), args.rounds, args.requests))
        if args.via in ("http", "both"):
            process, port = start_gunicorn(config_path)
            try:
                report("http", *measure(http_getter(port), args.rounds, args.requests))
            finally:
                process.terminate()
                process.wait()


if __name__ == "__main__":
    main()
