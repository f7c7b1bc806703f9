#!/usr/bin/env python
"""Cost of a hub page of cached widgets, as a ratio to a trivial Flask route served by
the same app in the same run (DESIGN.md budget: at most 2x for a visitor in process).
With --widgets 5 10 20 40 it prints the cost for each size, so the slope shows.

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


def seed(config_path: str, widgets: int = len(PLUGINS)) -> None:
    """A team hub of ``widgets`` widgets (PLUGINS over and over) and 20 people, every
    widget cached."""
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
        for position in range(widgets):
            plugin = PLUGINS[position % len(PLUGINS)]
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
    if ready != widgets:
        sys.exit(f"expected {widgets} cached widgets on the page, found {ready}")


def owner_cookie() -> tuple[str, str]:
    """The session cookie (name, value) of the hub's owner, signed as a login signs it."""
    from benchapp import app

    from hubs.identity import SESSION_GENERATION, SESSION_USERNAME

    serializer = app.session_interface.get_signing_serializer(app)
    value = serializer.dumps({SESSION_USERNAME: "user0", SESSION_GENERATION: 0})
    return app.config["SESSION_COOKIE_NAME"], value


def wsgi_getter(cookie: tuple[str, str] | None = None):
    from benchapp import app

    client = app.test_client()
    if cookie:
        client.set_cookie(*cookie)

    def get(path: str) -> None:
        response = client.get(path)
        if response.status_code != 200:
            sys.exit(f"{path} answered {response.status_code}")

    return get


def http_getter(port: int, cookie: tuple[str, str] | None = None):
    headers = {"Cookie": f"{cookie[0]}={cookie[1]}"} if cookie else {}

    def get(path: str) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port)
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        connection.close()
        if response.status != 200:
            sys.exit(f"{path} answered {response.status}")

    return get


def start_gunicorn(config_path: str, workers: int = 1) -> tuple[subprocess.Popen, int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
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


def measure(getters: dict[str, tuple], rounds: int, requests: int) -> dict[str, float]:
    """Median milliseconds per request of each (get, path) of ``getters``, interleaved
    in rounds so machine noise hits all alike."""

    def timed(get, path: str) -> float:
        start = time.perf_counter()
        for _ in range(requests):
            get(path)
        return (time.perf_counter() - start) / requests

    for get, path in getters.values():
        timed(get, path)  # warm up
    samples = {label: [] for label in getters}
    for _ in range(rounds):
        for label, (get, path) in getters.items():
            samples[label].append(timed(get, path))
    return {label: statistics.median(values) * 1e3 for label, values in samples.items()}


BUDGETS = {("wsgi", "visitor"): 2, ("http", "visitor"): 1.5, ("wsgi", "owner"): 3,
           ("http", "owner"): 3}  # fmt: skip


def report(label: str, widgets: int, figures: dict[str, float]) -> dict[str, float]:
    """Print the page's cost for a visitor and for its owner against the trivial route;
    returns those ratios."""
    trivial = figures["trivial"]
    ratios = {}
    for reader in ("visitor", "owner"):
        ratios[reader] = ratio = figures[reader] / trivial
        # A reader's page beside what any request of theirs costs (loading who they are).
        aside = (
            f"; {figures[reader] / figures['trivial, logged in']:.2f}x the trivial route "
            f"logged in ({figures['trivial, logged in']:.3f} ms)"
            if reader == "owner" and "trivial, logged in" in figures
            else ""
        )
        print(
            f"{label:5} trivial route {trivial:7.3f} ms | {reader:7} hub page, {widgets:2d} "
            f"cached widgets {figures[reader]:7.3f} ms | ratio {ratio:5.2f}x "
            f"(budget {BUDGETS[label, reader]}x){aside}",
            flush=True,
        )
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--memcached", help="HOST:PORT of memcached (default: a dbm file)")
    parser.add_argument("--via", choices=["wsgi", "http", "both"], default="both")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--requests", type=int, default=100, help="requests per round")
    parser.add_argument(
        "--widgets", type=int, nargs="+", default=[len(PLUGINS)], help="hub sizes to measure"
    )
    args = parser.parse_args()
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    cache = f"memcached {args.memcached}" if args.memcached else "dbm file"
    print(f"cache: {cache}; SQLite; {args.rounds} rounds of {args.requests} requests")
    figures = {}
    for widgets in args.widgets:
        figures[widgets] = measure_size(args, widgets)
    if len(figures) > 1:
        print_slope(figures)


def measure_size(args, widgets: int) -> dict[str, float]:
    """The page's cost over the trivial route's, in this process and/or over HTTP, for a
    hub of ``widgets`` widgets; each size in a fresh process so no module state carries."""
    if "benchapp" in sys.modules:  # a second size: a new app on a new database
        return run_size_in_child(args, widgets)
    ratios = {}
    with tempfile.TemporaryDirectory() as workdir:
        if args.memcached:
            flush_memcached(args.memcached)
        config_path = write_config(args, workdir)
        seed(config_path, widgets)
        cookie = owner_cookie()
        if args.via in ("wsgi", "both"):
            getters = {"trivial": (wsgi_getter(), TRIVIAL), "visitor": (wsgi_getter(), PAGE),
                       "owner": (wsgi_getter(cookie), PAGE),
                       "trivial, logged in": (wsgi_getter(cookie), TRIVIAL)}  # fmt: skip
            figures = measure(getters, args.rounds, args.requests)
            ratios.update({f"wsgi {k}": v for k, v in report("wsgi", widgets, figures).items()})
        if args.via in ("http", "both"):
            process, port = start_gunicorn(config_path)
            try:
                getters = {"trivial": (http_getter(port), TRIVIAL),
                           "visitor": (http_getter(port), PAGE),
                           "owner": (http_getter(port, cookie), PAGE),
                           "trivial, logged in": (http_getter(port, cookie), TRIVIAL)}  # fmt: skip
                figures = measure(getters, args.rounds, args.requests)
                ratios.update({f"http {k}": v for k, v in report("http", widgets, figures).items()})
            finally:
                process.terminate()
                process.wait()
    return ratios


def run_size_in_child(args, widgets: int) -> dict[str, float]:
    command = [sys.executable, __file__, "--via", args.via, "--rounds", str(args.rounds),
               "--requests", str(args.requests), "--widgets", str(widgets)]  # fmt: skip
    if args.memcached:
        command += ["--memcached", args.memcached]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    ratios = {}
    for line in output.splitlines():
        if "| ratio" in line:
            print(line, flush=True)
            via, reader = line.split()[0], line.split("|")[1].split()[0]
            ratios[f"{via} {reader}"] = float(line.split("| ratio")[1].split("x")[0])
    return ratios


def flush_memcached(address: str) -> None:
    import memcache

    client = memcache.Client([address])
    client.flush_all()
    client.disconnect_all()


def print_slope(figures: dict[int, dict[str, float]]) -> None:
    """How the page's cost grows with its widgets: the least-squares line through the
    ratios, in trivial routes added by each widget, and what it would predict at the
    largest size against what was measured (a straight line fits when growth is linear)."""
    sizes = sorted(figures)
    for via in figures[sizes[0]]:
        ratios = [figures[size][via] for size in sizes]
        slope, intercept = statistics.linear_regression(sizes, ratios)
        print(
            f"{via:12} slope: +{slope:.3f}x a widget (intercept {intercept:.2f}x); at "
            f"{sizes[-1]} widgets the line says {intercept + slope * sizes[-1]:.2f}x, "
            f"measured {ratios[-1]:.2f}x"
        )


if __name__ == "__main__":
    main()
