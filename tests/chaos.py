"""Convergence under faults, shared by tests/integration/test_convergence.py and its
longer twin bench/chaos.py.

The real stack on fedora-messaging: RabbitMQ, two backends on one queue, hubs-sse, the
web app (its own process, publishing its hubs changes on the bus) on PostgreSQL and a
memcached of its own. Clients watch hubs over SSE as a page does: each keeps every
widget's JSON document (the newest version it saw) and the hub's layout, fetches the
layout again on a "layout" event and everything on a "snapshot", and reconnects with
its Last-Event-ID. While the corpus is replayed, faults are injected at random (from a
seed) and bounded in time: hubs-sse killed and restarted, memcached restarted,
PostgreSQL refusing connections, a backend killed and restarted, an owner editing
hubs through the web app, an admin creating a team for a new user (whose two hubs get
pages of their own at once), and a newcomer's first login through the OpenID Connect
provider (oidc-provider-mock), the web app creating their user and hub.

At the end every client must hold what a fresh read of its hub gives, every message
published must be stored exactly once, and every process must still run.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
from sqlalchemy import exc as sa_exc

from tests.amqp_cluster import QUEUE, Cluster, corpus_messages
from tests.memcached import Memcached
from tests.oidc import Provider, log_in
from tests.stack import BIN, ROOT, accepts, free_port, wait_for, wait_until
from tests.views.test_health import _allow_connections

WATCHED = ["/t/infrastructure/", "/t/design/", "/u/ralph/", "/u/nirik/", "/t/marketing/"]
EDITED = "/t/infrastructure/"  # nirik owns it
# What a widget's document holds that tells the time of reading, not the hub's state:
# "5 minutes ago" read at one moment, "6 minutes ago" at the next; the last message id
# the store held when a feed was read (where its next refresh starts).
VOLATILE_KEYS = {"ago", "seen"}


def without_volatile(value):
    if isinstance(value, dict):
        return {k: without_volatile(v) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [without_volatile(v) for v in value]
    return value


def read_hub(web_url: str, hub: str) -> tuple[dict, dict[int, tuple[int, dict]]]:
    """A fresh read of a hub, as a page load gives it: its layout, and each widget's
    (version, document)."""
    layout = read_layout(web_url, hub)
    return layout, {wid: read_widget(web_url, hub, wid) for wid in layout_widgets(layout)}


def read_layout(web_url: str, hub: str) -> dict:
    response = requests.get(f"{web_url}{hub}json", timeout=10)
    response.raise_for_status()
    document = response.json()
    return {
        "summary": document["summary"],
        "counts": document["counts"],
        "left_width": document["left_width"],
        "widgets": [
            [w["id"], w["plugin"], w["column"], w["position"]] for w in document["widgets"]
        ],
    }


def layout_widgets(layout: dict) -> list[int]:
    return [widget[0] for widget in layout["widgets"]]


def read_widget(web_url: str, hub: str, widget_id: int) -> tuple[int, dict]:
    response = requests.get(f"{web_url}{hub}w/{widget_id}/json", timeout=30)
    response.raise_for_status()
    document = response.json()
    return document.pop("version", 0) or 0, document


class Client(threading.Thread):
    """One page's worth of a hub, kept up to date from its SSE stream."""

    def __init__(self, sse_url: str, web_url: str, hub: str) -> None:
        super().__init__(daemon=True, name=f"client {hub}")
        self.sse_url, self.web_url, self.hub = sse_url, web_url, hub
        self.layout: dict | None = None
        self.widgets: dict[int, tuple[int, dict]] = {}
        self.last_id: str | None = None
        self.connects = 0
        self.broken = 0
        self.events = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.response = None
        self.unread: set[str] = set()  # what a failed fetch left to read again

    # -- what a page does ----------------------------------------------------------

    def _take(self, widget_id: int, version: int, document: dict) -> None:
        shown = self.widgets.get(widget_id)
        if shown is None or version > shown[0]:
            self.widgets[widget_id] = (version, document)

    def _refresh(self, everything: bool) -> None:
        layout = read_layout(self.web_url, self.hub)
        ids = layout_widgets(layout)
        with self.lock:
            self.layout = layout
            self.widgets = {wid: shown for wid, shown in self.widgets.items() if wid in ids}
            missing = [wid for wid in ids if everything or wid not in self.widgets]
        for widget_id in missing:
            version, document = read_widget(self.web_url, self.hub, widget_id)
            with self.lock:
                if widget_id in layout_widgets(self.layout):
                    self._take(widget_id, version, document)

    def _fetch(self, what: str) -> None:
        """A layout or snapshot fetch; one that fails (the database away) is tried again
        on the next event or by settle(), as the page's retry does."""
        try:
            self._refresh(everything=what == "snapshot")
            self.unread.discard(what)
            if what == "snapshot":
                self.unread.discard("layout")
        except (requests.RequestException, ValueError):
            self.unread.add(what)

    def _dispatch(self, kind: str, data: str) -> None:
        self.events += 1
        if kind in ("hello", "snapshot"):  # (re)connected; a snapshot: events were missed
            self.connects += 1
            if kind == "snapshot" or self.connects == 1:  # a page loads, then streams
                self._fetch("snapshot")
        elif kind == "widget":
            event = json.loads(data)
            with self.lock:
                if self.layout is not None and event["widget_id"] in layout_widgets(self.layout):
                    self._take(event["widget_id"], event["version"], event["data"])
        elif kind == "layout":
            self._fetch(kind)
        for what in list(self.unread):
            self._fetch(what)

    def run(self) -> None:
        while not self.stopping.is_set():
            headers = {"Last-Event-ID": self.last_id} if self.last_id else {}
            try:
                with requests.get(
                    self.sse_url, params={"hub": self.hub}, headers=headers, stream=True,
                    timeout=(2, 60),
                ) as response:  # fmt: skip
                    self.response = response
                    self._read(response)
            except (requests.RequestException, AttributeError, ValueError):
                self.broken += 1  # the stream broke (hubs-sse killed): connect again
            # EventSource waits its retry interval before connecting again.
            self.stopping.wait(0.5)

    def _read(self, response) -> None:
        kind, data = "message", []
        for raw in response.iter_lines(decode_unicode=True):
            if raw.startswith("id: "):
                self.last_id = raw[4:]
            elif raw.startswith("event: "):
                kind = raw[7:]
            elif raw.startswith("data: "):
                data.append(raw[6:])
            elif raw == "" and data:
                self._dispatch(kind, "\n".join(data))
                kind, data = "message", []

    def settle(self) -> None:
        """What a page's retries end up doing once the faults are over."""
        for what in list(self.unread):
            self._fetch(what)

    def versions(self) -> dict[int, int]:
        with self.lock:
            return {wid: version for wid, (version, _doc) in self.widgets.items()}

    def state(self) -> tuple[dict | None, dict[int, dict]]:
        with self.lock:
            shown = {wid: without_volatile(doc) for wid, (_v, doc) in self.widgets.items()}
            return self.layout, shown

    def close(self) -> None:
        self.stopping.set()
        if self.response is not None:
            with contextlib.suppress(Exception):
                self.response.close()
        self.join(5)


class Editor:
    """An owner editing a hub through the web app's JSON API, as a page's forms do."""

    def __init__(self, web_url: str, app, username: str, hub: str, rng: random.Random) -> None:
        self.web_url, self.hub, self.rng = web_url, hub, rng
        self.http = requests.Session()
        serializer = app.session_interface.get_signing_serializer(app)
        self.http.cookies.set(
            "session",
            serializer.dumps({"username": username, "generation": 0}),
            domain="127.0.0.1",
            path="/",
        )
        self.token: str | None = None
        self.done: list[str] = []
        self.refused = 0

    def _post(self, path: str, payload: dict) -> dict | None:
        if self.token is None:
            page = self.http.get(f"{self.web_url}{self.hub}", timeout=10)
            page.raise_for_status()
            self.token = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
        response = self.http.post(
            f"{self.web_url}/api{self.hub}{path}", json=payload,
            headers={"X-CSRFToken": self.token}, timeout=30,
        )  # fmt: skip
        if response.status_code >= 500:  # the database away: nothing changed
            raise requests.HTTPError(f"{path}: {response.status_code}")
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text}"
        return response.json()

    KINDS = ["add", "configure", "move", "remove", "summary"]

    def edit(self, choice: str | None = None) -> str:
        """One change: a widget added, configured, moved or removed, or the hub's
        summary, each in turn (in an order of the run's) unless ``choice`` says which.
        Returns what it did, or "refused" (the database away: nothing changed)."""
        if not self.done and not self.refused:
            self.rng.shuffle(self.KINDS)
        choice = choice or self.KINDS[len(self.done) % len(self.KINDS)]  # refused: again
        number = len(self.done) + self.refused
        try:
            widgets = read_layout(self.web_url, self.hub)["widgets"]
            stickies = [w for w in widgets if w[1] == "sticky"] or widgets[:1]
            if choice == "add" and len(widgets) >= 30:  # a hub holds at most 40 (the default)
                choice = "remove"
            if choice == "add":
                column = self.rng.choice(["left", "right"])
                self._post(
                    "widgets",
                    {"plugin": "sticky", "config": {"text": f"note {number}"}, "column": column},
                )
            elif choice == "configure":
                widget = self.rng.choice([w for w in widgets if w[1] == "sticky"] or [None])
                if widget is None:
                    choice = "summary"
                    self._post("settings", {"summary": f"Summary {number}"})
                else:
                    self._post(f"w/{widget[0]}/config", {"config": {"text": f"edit {number}"}})
            elif choice == "move":
                widget = self.rng.choice(widgets)
                column = self.rng.choice(["left", "right"])
                self._post(f"w/{widget[0]}/move", {"column": column, "position": 0})
            elif choice == "remove":
                self._post(f"w/{self.rng.choice(stickies)[0]}/delete", {})
            else:
                self._post("settings", {"summary": f"Summary {number}"})
        except (requests.RequestException, ValueError, AttributeError):
            self.refused += 1
            return "refused"
        self.done.append(choice)
        return choice


@dataclass
class Figures:
    sent: int = 0
    stored_once: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    edits: int = 0
    edits_refused: int = 0
    hubs_created: int = 0
    converged_after: dict[str, float] = field(default_factory=dict)
    reconnects: int = 0

    def lines(self) -> list[str]:
        faults = ", ".join(f"{k} {v}" for k, v in sorted(self.faults.items()))
        slowest = max(self.converged_after.values(), default=0.0)
        return [
            f"faults injected: {sum(self.faults.values())} ({faults})",
            f"web edits: {self.edits} made, {self.edits_refused} refused while a fault lasted",
            f"hubs created (new users' and a team's): {self.hubs_created}",
            f"messages stored exactly once: {self.stored_once} of {self.sent} sent",
            f"SSE reconnections: {self.reconnects}",
            *(f"converged {hub} {after:.2f} s after the last fault"
              for hub, after in sorted(self.converged_after.items())),
            f"slowest page: {slowest:.2f} s",
        ]  # fmt: skip


class Chaos:
    """The stack, its clients and its faults; see the module's docstring."""

    def __init__(self, workdir: Path, seed: int, database: str = "hubs_test_chaos") -> None:
        self.workdir, self.rng = workdir, random.Random(seed)
        self.database = database
        self.memcached = Memcached()
        self.cluster = Cluster(workdir, self.memcached.config, database=database)
        self.web_port = free_port()
        self.web_url = f"http://127.0.0.1:{self.web_port}"
        self.sse_url = f"http://127.0.0.1:{self.cluster.sse_port}/stream"
        self.clients: list[Client] = []
        self.figures = Figures()
        self.web: subprocess.Popen | None = None
        self.editor = Editor(self.web_url, self.cluster.app, "nirik", EDITED, self.rng)
        self.provider: Provider | None = None

    # -- processes -----------------------------------------------------------------

    def start(self) -> None:
        with (self.workdir / "hubs-config.py").open("a") as config:  # the page's origin
            config.write(f"SSE_ALLOWED_ORIGINS = [{self.web_url!r}]\n")
        self.cluster.start_sse()
        self.cluster.start_backends("b1", "b2")
        self.provider = Provider()
        config = self.workdir / "hubs-config-web.py"
        config.write_text(
            (self.workdir / "hubs-config.py").read_text()
            + 'BUS = "fedora-messaging"\nFEDMSG_PUBLISH = True\n'
            + f"SSE_URL = {self.sse_url!r}\nOIDC_ISSUER = {self.provider.url!r}\n"
        )
        log = self.cluster._files.enter_context((self.workdir / "web.log").open("a"))
        # As in production: gunicorn (threads, for the clients' reads beside the edits).
        env = self.web_env = {**self.cluster._env(), "HUBS_CONFIG": str(config)}
        env.pop("FLASK_RUN_FROM_CLI", None)  # set by the flask CLI tests in this process
        self.web = subprocess.Popen(
            [str(BIN / "gunicorn"), "-k", "gthread", "-w", "1", "--threads", "8",
             "-b", f"127.0.0.1:{self.web_port}", "hubs.wsgi:app"],
            cwd=ROOT, env=env, stdout=log, stderr=log,
        )  # fmt: skip
        wait_for(lambda: accepts(self.web_port), 30, "the web app")
        for hub in WATCHED:
            self.watch(hub)
        wait_for(lambda: all(c.layout is not None for c in self.clients), 60, "the pages to load")

    def watch(self, hub: str) -> Client:
        client = Client(self.sse_url, self.web_url, hub)
        client.start()
        self.clients.append(client)
        return client

    def create_team(self) -> None:
        """An admin creates a team for a newcomer (``fedora-hubs create-team
        --create-owner``: a new user, their hub and the team's, announced on the bus), and
        pages of both hubs open at once, while their widgets are still being built."""
        number = self.figures.hubs_created
        team, owner = f"chaos-{number}", f"newbie-{number}"
        result = subprocess.run(
            [str(BIN / "fedora-hubs"), "create-team", team, "--owner", owner, "--create-owner"],
            cwd=self.workdir, env=self.web_env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        self.figures.hubs_created += 2
        for hub in (f"/t/{team}/", f"/u/{owner}/"):
            self.watch(hub)

    def first_login(self) -> None:
        """A newcomer logs in for the first time, through the provider and the web app
        (which creates their user and hub, announced on the bus), and opens their hub."""
        number = self.figures.hubs_created
        username = f"newcomer-{number}"
        self.provider.add_user(f"{username}-sub", preferred_username=username, name=username)
        log_in(self.web_url, self.provider.url, f"{username}-sub", f"/u/{username}/")
        self.figures.hubs_created += 1
        self.watch(f"/u/{username}/")

    def running(self) -> dict[str, bool]:
        processes = {**self.cluster.processes, "web": self.web}
        alive = {name: p.poll() is None for name, p in processes.items()}
        alive["memcached"] = self.memcached.process.poll() is None
        return alive

    def close(self) -> None:
        for client in self.clients:
            client.close()
        if self.web is not None:
            self.web.terminate()
            self.web.wait(10)
        self.cluster.close()
        self.memcached.stop()
        if self.provider is not None:
            self.provider.close()

    def logs(self) -> str:
        return self.cluster.logs()

    # -- faults --------------------------------------------------------------------

    def _count(self, fault: str) -> None:
        self.figures.faults[fault] = self.figures.faults.get(fault, 0) + 1

    def fault(self, kind: str) -> None:
        """Inject one fault, and end it (each lasts a few seconds at most)."""
        self._count(kind)
        if kind == "kill hubs-sse":
            self.cluster.kill("sse")
            self.cluster.start_sse()
        elif kind == "restart memcached":
            self.memcached.restart()
        elif kind == "database refuses connections":
            _allow_connections(self.database, False)
            try:
                # The outage's own length (1-3 s), not a wait for something to happen.
                threading.Event().wait(self.rng.uniform(1, 3))
            finally:
                _allow_connections(self.database, True)
        elif kind == "kill a backend":
            name = self.rng.choice(["b1", "b2"])
            self.cluster.kill(name)
            self.cluster.start_backend(name)

    FAULTS = ["kill hubs-sse", "restart memcached", "database refuses connections",
              "kill a backend"]  # fmt: skip

    # -- the run -------------------------------------------------------------------

    def replay(self, count: int, edits: int, rounds: int = 1) -> float:
        """Publish ``count`` corpus messages while injecting each fault ``rounds``
        times, in an order of the run's, and an owner makes ``edits`` web edits at
        their own pace meanwhile (some meet a fault); returns the time the last fault or
        edit ended (time.monotonic())."""
        junk = tuple(self.cluster.app.config["BACKEND_JUNK_TOPICS"])
        sent = corpus_messages(count, self.cluster.run, junk, repeat=True)
        self.sent_ids = [message["id"] for message in sent]
        self.figures.sent = len(sent)
        publisher = self.cluster.publish(sent)
        editing = threading.Thread(target=self._edit, args=(edits, count), daemon=True)
        editing.start()
        plan = self.FAULTS * rounds
        self.rng.shuffle(plan)
        for number, kind in enumerate(plan, 1):
            # A fault every so many messages stored, so that all of them fall in the replay.
            self._wait_stored(number * count // (len(plan) + 1))
            self.fault(kind)
            if number == 1:  # and new people and hubs while messages flow
                self.create_team()
            if number == 2:
                self.first_login()
        if not plan:
            self.create_team()
        if len(plan) < 2:
            self.first_login()
        editing.join(300)
        assert not editing.is_alive(), "the edits did not end"
        # And changes of layout after the last fault: only what is pushed shows them.
        for kind in ("add", "move", "summary"):
            assert self.editor.edit(kind) == kind
            self.figures.edits += 1
        last = time.monotonic()
        assert publisher.wait(600) == 0, self.logs()
        return last

    def _stored(self) -> int:
        """How many of the messages sent are stored (0 while the database is away)."""
        try:
            return sum(self.cluster.stored(self.sent_ids).values())
        except sa_exc.OperationalError:
            return 0

    def _wait_stored(self, target: int) -> None:
        wait_for(lambda: self._stored() >= target, 300, f"{target} messages stored")

    def _edit(self, edits: int, count: int) -> None:
        """The owner's edits: one every second or so while messages flow, until
        ``edits`` are made (one refused while the database is away is made again)."""
        pace = random.Random(self.rng.random())
        while len(self.editor.done) < edits:
            self._wait_stored(len(self.editor.done) * count // (edits + 1))
            threading.Event().wait(pace.uniform(0.2, 1.0))  # a person's pace, not a condition
            if self.editor.edit() == "refused":
                self.figures.edits_refused += 1
            else:
                self.figures.edits += 1

    def all_stored_once(self, timeout: float = 180) -> dict[str, int]:
        counts = wait_for(
            lambda: (c := self.cluster.stored(self.sent_ids)) and all(c.values()) and c,
            timeout,
            "every message to be stored",
        )
        self.figures.stored_once = sum(1 for n in counts.values() if n == 1)
        return counts

    def computed_now(self, widget_id: int, shown: dict | None, fresh: dict | None) -> str:
        """Which of ``shown`` and ``fresh`` hold the data the widget's data() gives from
        the database now, bypassing every cache."""
        from hubs.database import db
        from hubs.models import Widget
        from hubs.widgets import get_widget_type

        with self.cluster.app.app_context():
            widget = db.session.get(Widget, widget_id)
            if widget is None:
                return "no widget"
            data = without_volatile(get_widget_type(widget.plugin).compute(db.session, widget))
            db.session.remove()
        holding = [name for name, document in (("shown", shown), ("fresh", fresh))
                   if (document or {}).get("data") == data]  # fmt: skip
        return (
            " and ".join(holding)
            or f"neither ({first_difference((fresh or {}).get('data'), data)})"
        )

    def settled(self) -> bool:
        """The queue drained and every backend idle (its counters written)."""
        if self.cluster.queue_state(QUEUE)[0]:
            return False
        stats = self.cluster.stats()
        return len(stats) == 2 and not any(s["queue_depth"] for s in stats.values())

    def converge(self, last_fault: float, timeout: float = 60) -> dict[str, tuple]:
        """Wait until every client holds what a fresh read of its hub gives; returns the
        differences left if it never does."""
        wait_for(self.settled, 120, "the backends to settle")
        pending = {client.hub: client for client in self.clients}
        differences: dict[str, tuple] = {}

        def all_converged() -> bool:
            for hub, client in list(pending.items()):
                client.settle()
                try:
                    layout, widgets = read_hub(self.web_url, hub)
                except requests.RequestException:
                    continue
                fresh = {wid: without_volatile(doc) for wid, (_v, doc) in widgets.items()}
                shown_layout, shown = client.state()
                if (shown_layout, shown) == (layout, fresh):
                    self.figures.converged_after[hub] = time.monotonic() - last_fault
                    del pending[hub]
                    differences.pop(hub, None)
                else:
                    differences[hub] = _difference(shown_layout, shown, layout, fresh)
                    versions[hub] = (client.versions(), {w: v for w, (v, _d) in widgets.items()})
                    documents[hub] = (shown, fresh)
            return not pending

        versions: dict[str, tuple[dict, dict]] = {}
        documents: dict[str, tuple[dict, dict]] = {}
        wait_until(all_converged, timeout)
        for hub, (kind, found) in differences.items():
            if kind == "widgets":  # what tells which side is behind: versions, the database
                shown_versions, fresh_versions = versions[hub]
                shown, fresh = documents[hub]
                for wid in found:
                    found[wid] += (
                        f" (versions: shown {shown_versions.get(wid)}, fresh"
                        f" {fresh_versions.get(wid)}; the database agrees with"
                        f" {self.computed_now(wid, shown.get(wid), fresh.get(wid))})"
                    )
        self.figures.reconnects = sum(client.connects - 1 for client in self.clients)
        return differences


def first_difference(shown, fresh, path: str = "") -> str:
    """Where two documents first differ, and how: "data.entries[0].subtitle: 'a' != 'b'"."""
    if isinstance(shown, dict) and isinstance(fresh, dict):
        for key in sorted(set(shown) | set(fresh), key=str):
            if shown.get(key) != fresh.get(key):
                return first_difference(shown.get(key), fresh.get(key), f"{path}.{key}")
    if isinstance(shown, list) and isinstance(fresh, list) and len(shown) == len(fresh):
        for index, (a, b) in enumerate(zip(shown, fresh, strict=True)):
            if a != b:
                return first_difference(a, b, f"{path}[{index}]")
    return f"{path.lstrip('.')}: {str(shown)[:300]} != {str(fresh)[:300]}"


def _difference(shown_layout, shown, layout, fresh) -> tuple:
    if shown_layout != layout:
        return ("layout", first_difference(shown_layout, layout))
    wrong = sorted(wid for wid in set(shown) | set(fresh) if shown.get(wid) != fresh.get(wid))
    return ("widgets", {wid: first_difference(shown.get(wid), fresh.get(wid)) for wid in wrong})
