"""The backend end to end in one process: real database, real memcached, corpus
messages; rebuilt widgets are caught by a recording publisher."""

import contextlib
import copy
import gc
import logging
import random
import subprocess
import threading
import time

import pytest
import sqlalchemy as sa

from hubs import cache, changes
from hubs.backend.triage import Backend
from hubs.bus import message_people_and_packages
from hubs.database import db
from hubs.models import Column, Hub, HubType, Message, Role, User, Widget
from hubs.people import hub_owners
from hubs.seed import DEMO_USERS
from hubs.widgets import registry
from tests import factories
from tests.conftest import log_in
from tests.factories import RecordingPublisher, fresh_copy
from tests.html import role_texts, widget_states, with_role
from tests.memcached import Memcached
from tests.oracles import ACTIVITY, activity_widgets_of, backend_stats, versions
from tests.stack import wait_for


def ralph_messages(corpus):
    return [e["msg"] for e in corpus if "ralph" in message_people_and_packages(e["msg"])[0]]


def test_a_corpus_message_rebuilds_exactly_the_widgets_it_concerns(backend, corpus):
    app = backend.app
    before = versions(app)
    message = ralph_messages(corpus)[0]
    usernames, _packages = message_people_and_packages(message)

    stale = backend.handle(message)
    assert backend.pool.wait_idle(10)

    expected = activity_widgets_of(app, usernames)
    assert stale == expected and len(expected) >= 2
    after = versions(app)
    assert {w for w in after if after[w] != before[w]} == expected
    assert {e["widget_id"] for e in backend.publisher_events} == expected
    for event in backend.publisher_events:
        assert event["data"]["plugin"] in ACTIVITY
        if event["data"]["plugin"] == "fedmsgstats":
            assert event["data"]["data"]["total"] == 1  # the stored message is counted
            assert 'data-role="messages-total">1<' in event["html"]
        elif event["data"]["plugin"] == "activity":
            assert event["data"]["data"]["last"] is not None  # active just now
        else:
            assert len(event["data"]["data"]["entries"]) == 1  # and is in the feed

    stats = backend.stats()
    assert stats["stored"] == 1 and stats["rebuilds"] == len(expected)
    assert stats["checks"] == stats["candidates"] == len(expected)


def test_duplicates_are_stored_once_and_junk_ignored(backend, corpus, caplog):
    message = ralph_messages(corpus)[0]
    with caplog.at_level("DEBUG", logger="hubs.backend.triage"):
        backend.handle(message)
    assert "widgets to rebuild" in caplog.text  # one debug line per message
    backend.handle(copy.deepcopy(message))
    backend.handle({"topic": "org.fedoraproject.prod.buildsys.repo.init", "msg": {"tag": "f40"}})
    assert backend.pool.wait_idle(10)
    stats = backend.stats()
    assert (stats["stored"], stats["duplicates"], stats["junk"]) == (1, 1, 1)


def test_config_change_drops_the_old_key_and_builds_the_new_one(backend, published):
    app = backend.app
    with app.test_request_context():
        session = db.session
        sticky = session.scalars(
            sa.select(Widget).join(Hub).where(Hub.name == "design", Widget.plugin == "sticky")
        ).one()
        old_key = registry["sticky"].cache_key(sticky)
        assert cache.get_cached([old_key]) != [None]  # warmed by populate

        changes.update_widget_config(session, sticky, {"text": "Design sprint on Friday"}, "mizmo")
        new_key = registry["sticky"].cache_key(sticky)
        sticky_id = sticky.id
        db.session.remove()

    topic, fields = published[-1]
    assert topic == "widget.updated"
    message = {"topic": f"org.fedoraproject.dev.hubs.{topic}", "msg": fields, "msg_id": "m-1"}
    assert sticky_id in backend.handle(message)
    assert backend.pool.wait_idle(10)

    with app.app_context():
        old, new = cache.get_cached([old_key, new_key])
    assert old is None
    assert new["data"] == {"html": "<p>Design sprint on Friday</p>"}
    rebuilt = {e["widget_id"]: e["data"]["plugin"] for e in backend.publisher_events}
    # Besides the sticky note: mizmo's activity counts, since the message is hers.
    assert rebuilt.pop(sticky_id) == "sticky"
    assert set(rebuilt) == activity_widgets_of(app, {"mizmo"})


def test_a_new_member_is_followed_by_the_index(backend, published):
    app = backend.app
    with app.test_request_context():
        session = db.session
        design = session.scalars(sa.select(Hub).where(Hub.name == "design")).one()
        ralph = session.scalars(sa.select(User).where(User.username == "ralph")).one()
        changes.set_role(session, design, ralph, Role.member, agent="mizmo")
        activity = session.scalars(
            sa.select(Widget.id).where(Widget.hub_id == design.id, Widget.plugin == "fedmsgstats")
        ).one()
        last_active = session.scalars(
            sa.select(Widget.id).where(Widget.hub_id == design.id, Widget.plugin == "activity")
        ).one()
        db.session.remove()
    topic, fields = published[-1]
    stale = backend.handle(
        {"topic": f"org.fedoraproject.dev.hubs.{topic}", "msg": fields, "msg_id": "m-2"}
    )
    assert {activity, last_active} <= stale
    # ralph's messages now reach the design team's activity widget.
    assert backend.index.entries[activity].usernames >= {"ralph", "mizmo"}


def test_a_new_subscriber_is_told_of_the_next_messages_of_the_people_they_follow(
    backend, corpus, published
):
    """The backend keeps whose stream a person's messages go to, and forgets it at every
    hubs change: someone subscribing to ralph's hub gets his next message in their
    stream, and the one before it went to his followers of then."""
    app = backend.app
    message = ralph_messages(corpus)[0]

    def told(msg_id: str) -> set[str]:
        return {
            stream.removeprefix("user:")
            for stream, kind, payload in backend.publisher_sent
            if kind == "stream-entry" and payload["msg_id"] == msg_id
        }

    backend.handle(fresh_copy(message, "followers-1"))
    with app.test_request_context():
        session = db.session
        newcomer = factories.user(session, "newcomer")
        ralphs = session.scalars(sa.select(Hub).where(Hub.name == "ralph")).one()
        changes.set_role(session, ralphs, newcomer, Role.subscriber, agent="newcomer")
        db.session.remove()
    assert "ralph" in told("followers-1") and "newcomer" not in told("followers-1")
    topic, fields = published[-1]
    backend.handle({"topic": f"org.fedoraproject.dev.hubs.{topic}", "msg": fields})
    backend.handle(fresh_copy(message, "followers-2"))
    assert told("followers-2") == told("followers-1") | {"newcomer"}


def mutations(corpus, count: int, seed: int = 4):
    """``count`` broken variants of corpus messages."""
    rng = random.Random(seed)
    junk_values = [None, 3, -1.5, "", "x" * 300, [], {}, ["a"], True]
    for n in range(count):
        message = copy.deepcopy(rng.choice(corpus)["msg"])
        kind = n % 8
        if kind == 0:
            message.pop(rng.choice(list(message)), None)
        elif kind == 1 and message.get("msg"):
            message["msg"].pop(rng.choice(list(message["msg"])), None)
        elif kind == 2 and message.get("msg"):
            key = rng.choice(list(message["msg"]))
            message["msg"][key] = rng.choice(junk_values)
        elif kind == 3:
            message["msg"] = rng.choice(junk_values)
        elif kind == 4:
            message["msg"] = {"blob": "x" * 1_000_000, **(message.get("msg") or {})}
        elif kind == 5:
            message["topic"] = rng.choice([*junk_values, "org.fedoraproject.prod.nothing.known"])
        elif kind == 6:
            message = rng.choice([*junk_values, "not a message"])
        else:
            message["timestamp"] = rng.choice(junk_values)
            message["msg_id"] = rng.choice(junk_values)
        yield message


def test_survives_a_thousand_broken_messages_and_still_invalidates(backend, corpus):
    for message in mutations(corpus, 1000):
        backend.handle(message)
    assert backend.pool.wait_idle(30)
    stats = backend.stats()
    assert stats["seen"] == 1000
    assert stats["invalid"] > 100

    backend.publisher_events.clear()
    good = {**ralph_messages(corpus)[1], "msg_id": "after-the-storm"}
    stale = backend.handle(good)
    assert backend.pool.wait_idle(10)
    expected = activity_widgets_of(backend.app, message_people_and_packages(good)[0])
    assert stale == expected
    assert {e["widget_id"] for e in backend.publisher_events} == expected


def test_survives_a_failing_check(backend, corpus, monkeypatch):
    def broken(message, session, widget):
        raise KeyError("surprise")

    for plugin in ACTIVITY:
        monkeypatch.setattr(registry[plugin], "should_invalidate", broken)
    assert backend.handle(ralph_messages(corpus)[0]) == set()
    assert backend.stats()["check_errors"] >= 3


def test_stats_are_written_for_the_cli(backend, tmp_path):
    stats = backend.write_stats()
    from hubs.backend.triage import stats_path

    assert stats_path(backend.app.config).startswith(str(tmp_path))
    import json

    with open(stats_path(backend.app.config)) as handle:
        written = json.load(handle)
    assert written["indexed_widgets"] == stats["indexed_widgets"] > 50


# Connections to a SQLite file cannot be cut from outside: PostgreSQL only.
@pytest.mark.parametrize("backend_app", ["postgresql"], indirect=True)
def test_survives_lost_database_connections(backend, corpus):
    message = ralph_messages(corpus)[0]
    assert backend.handle(fresh_copy(message, "before"))
    admin = sa.create_engine(
        sa.make_url(backend.app.config["DATABASE_URL"]).set(database="postgres"),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as connection:
        cut = connection.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": sa.make_url(backend.app.config["DATABASE_URL"]).database},
        ).all()
    admin.dispose()
    assert cut  # the backend's connections were there, and are gone
    results = [backend.handle(fresh_copy(message, f"after-{n}")) for n in range(3)]
    assert backend.pool.wait_idle(10)
    # At most the first message after the cut is lost; the backend carries on.
    assert (
        results[-1]
        == results[-2]
        == activity_widgets_of(backend.app, message_people_and_packages(message)[0])
    )
    assert backend.stats()["errors"] <= 1


@pytest.fixture
def own_memcached():
    """A memcached of this test's own, which it may stop and start again."""
    server = Memcached(dead_retry=0)
    yield server
    server.stop()


def use_memcached(app, server: Memcached, **config) -> None:
    app.config.update(server.config, **config)
    cache.configure_cache(app.config)


@contextlib.contextmanager
def one_worker_backend(app):
    """A backend of one rebuild worker, with what it publishes, closed on the way out
    (and the sockets python-memcached leaks let go while their warnings are ignored)."""
    publisher = RecordingPublisher()
    backend = Backend(app, publisher=publisher, workers=1)
    try:
        yield backend, publisher
    finally:
        backend.close()
        gc.collect()


def concerned_stats_widget(app, message, plugin: str = "fedmsgstats") -> tuple[int, str, dict]:
    """The activity stats widget (or the ``plugin`` one) ``message`` concerns: its id,
    cache key, and its envelope rebuilt now (read before the message is stored)."""
    concerned = activity_widgets_of(app, message_people_and_packages(message)[0])
    with app.app_context():
        found = db.session.scalars(sa.select(Widget).where(Widget.plugin == plugin))
        widget = next(w for w in found if w.id in concerned)
        key = registry[plugin].cache_key(widget)
        envelope = registry[plugin].rebuild(db.session, widget)
        widget_id = widget.id
        db.session.remove()
    return widget_id, key, envelope


# python-memcached does not close the socket of a refused connection (its own leak,
# and these tests are the ones that make connections fail).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.parametrize("backend_app", ["sqlite"], indirect=True)
def test_survives_a_memcached_restart(backend_app, own_memcached, corpus, caplog):
    use_memcached(backend_app, own_memcached, CACHE_WARNING_INTERVAL=0)
    message = ralph_messages(corpus)[0]
    expected = activity_widgets_of(backend_app, message_people_and_packages(message)[0])
    with one_worker_backend(backend_app) as (backend, publisher):
        own_memcached.stop()
        with caplog.at_level("WARNING", logger="hubs.cache"):
            assert backend.handle(fresh_copy(message, "while-down")) == expected
            assert backend.pool.wait_idle(10)
        assert "Widget cache unavailable" in caplog.text
        # Rebuilt and published all the same, from data computed directly.
        assert {e["widget_id"] for e in publisher.events} == expected

        own_memcached.start()
        publisher.events.clear()
        assert backend.handle(fresh_copy(message, "back-up")) == expected
        assert backend.pool.wait_idle(10)
        assert {e["widget_id"] for e in publisher.events} == expected
        with backend_app.app_context():
            stats = [db.session.get(Widget, w) for w in expected]
            widget = next(w for w in stats if w.plugin == "fedmsgstats")
            key = registry["fedmsgstats"].cache_key(widget)
            # A reader of its own: this thread's connection died with the old memcached.
            cache.close_cache()
            assert cache.get_cached([key])[0]["data"]["total"] == 2  # cached again
            db.session.remove()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.parametrize("backend_app", ["sqlite"], indirect=True)
def test_a_rebuild_the_cache_did_not_take_is_done_again_once_it_is_back(
    backend_app, own_memcached, corpus
):
    """Found by the convergence run: memcached restarting, a rebuild's data reached the
    pages but not the cache, and a reader that had read before the message stored its
    older data as memcached came back; pages and a fresh render differed for good."""
    use_memcached(backend_app, own_memcached, BACKEND_STORE_RETRY_SECONDS=3600)
    message = ralph_messages(corpus)[0]
    with one_worker_backend(backend_app) as (backend, publisher):
        widget_id, key, older = concerned_stats_widget(backend_app, message)
        own_memcached.stop()
        backend.handle(fresh_copy(message, "while-down"))
        assert backend.pool.wait_idle(10)
        [pushed] = [e for e in publisher.events if e["widget_id"] == widget_id]
        assert pushed["data"]["data"]["total"] == older["data"]["total"] + 1
        assert widget_id in backend.store_timer.pending()  # to be looked at again
        # Looked at while memcached is still away: nothing rebuilt, looked at later.
        rebuilds, events = backend.stats()["rebuilds"], len(publisher.events)
        backend.store_timer.schedule(widget_id, time.time())
        wait_for(lambda: backend._unstored[widget_id].failures == 2, 10, "the look")
        assert backend.pool.wait_idle(10) and widget_id in backend.store_timer.pending()
        assert (backend.stats()["rebuilds"], len(publisher.events)) == (rebuilds, events)

        own_memcached.start()
        cache.close_cache()  # this thread's connection died with the old memcached
        assert cache.keep_newest(key, older) is older  # the late reader's store
        backend.store_timer.schedule(widget_id, time.time())  # its next look: now

        def cached_total():
            cache.close_cache()
            return cache.get_cached([key])[0]["data"]["total"]

        # Rebuilt again: the cache ends with what the pages were told.
        wait_for(lambda: cached_total() == pushed["data"]["data"]["total"], 20, "the retry")
        wait_for(lambda: widget_id not in backend._unstored, 10, "the retries to end")
        assert backend.stats()["unstored"] >= 1


@pytest.mark.parametrize("backend_app", ["sqlite"], indirect=True)
def test_data_the_cache_refuses_while_answering_is_tried_once_more_then_left(
    backend_app, own_memcached, corpus, caplog
):
    """Items of 1 KiB at most (``server_max_value_length``, as for a memcached started
    with ``-I 1k``): larger envelopes are refused while memcached answers; that is no
    outage to wait out, and the older envelope the cache held is not served either."""
    use_memcached(backend_app, own_memcached)
    first, second = ralph_messages(corpus)[:2]
    # A feed holding an entry: refreshed, its older envelope read, not dropped, before
    # the new one is stored.
    now = time.time()
    with one_worker_backend(backend_app) as (backend, _publisher):
        backend.handle({**fresh_copy(first, "stored"), "timestamp": now - 60})
        assert backend.pool.wait_idle(10)
    arguments = {**own_memcached.config["CACHE_ARGUMENTS"], "server_max_value_length": 1024}
    use_memcached(backend_app, own_memcached, CACHE_ARGUMENTS=arguments,
                  BACKEND_STORE_RETRY_SECONDS=0.05)  # fmt: skip
    with backend_app.app_context():
        widget = db.session.scalar(
            sa.select(Widget)
            .join(Hub)
            .where(Hub.name == "ralph", Hub.type == HubType.user, Widget.plugin == "feed")
        )
        widget_id, key = widget.id, registry["feed"].cache_key(widget)
        db.session.remove()
    assert cache.get_stored([key])[0]["data"]["entries"]  # the older one, an entry in it
    with one_worker_backend(backend_app) as (backend, _publisher):
        newest = {**fresh_copy(second, "too-large"), "timestamp": now}  # on top
        with caplog.at_level("WARNING", logger="hubs.backend.triage"):
            backend.handle(newest)
            wait_for(lambda: backend.pool.wait_idle(1) and not backend._unstored, 20, "the end")
        errors = [r for r in caplog.records if "does not take" in r.getMessage()]
        refused = [r.args[0] for r in errors]
        assert widget_id in refused and len(refused) == len(set(refused))  # once each
        assert all(r.levelno == logging.ERROR for r in errors)
        stats = backend.stats()
        assert stats["unstored"] >= 2 * len(refused) and stats["refreshes"] >= 2  # the feed's
        assert not backend.store_timer.pending()  # nothing left to look at
        cache.close_cache()
        assert cache.get_stored([key]) == [None]  # the older one is gone too


def test_a_feed_gets_its_new_entry_pushed_alone(backend, corpus):
    app = backend.app
    first, second = (fresh_copy(m, f"feed-{n}") for n, m in enumerate(ralph_messages(corpus)[:2]))
    backend.handle(first)
    assert backend.pool.wait_idle(10)
    feeds = {e["widget_id"] for e in backend.publisher_events if e["data"]["plugin"] == "feed"}
    assert feeds and not any("prepend" in e for e in backend.publisher_events)
    before = versions(app)
    backend.publisher_events.clear()

    backend.handle(second)
    assert backend.pool.wait_idle(10)
    pushed = {e["widget_id"]: e for e in backend.publisher_events if e["data"]["plugin"] == "feed"}
    assert set(pushed) == feeds and backend.stats()["refreshes"] == len(feeds)
    for widget_id, event in pushed.items():
        prepend = event["prepend"]
        assert prepend["role"] == "feed" and prepend["after"] == str(before[widget_id])
        assert [e["data-msg-id"] for e in with_role(prepend["html"], "feed-entry")] == ["feed-1"]
        entries = [e["msg_id"] for e in event["data"]["data"]["entries"]]
        assert entries == ["feed-1", "feed-0"] and versions(app)[widget_id] == event["version"]
    # Only the feeds were refreshed: the rest was rebuilt as before.
    others = [e for e in backend.publisher_events if e["data"]["plugin"] != "feed"]
    assert others and not any("prepend" in e for e in others)


# A config for each widget that makes its checks look at messages.
CHECKED_CONFIGS = {
    "badges": {"username": "ralph"},
    "bugzilla": {"packages": "rpm, vtk, python-alembic"},
    "github": {"repo": "fedora-infra/github2fedmsg"},
    "halp": {"channels": ["#fedora-meeting-1"]},
    "meetings": {"calendar": "awesome"},
    "pagure": {"project": "test"},
    "updates2stable": {"username": "ralph"},
}


def test_every_widget_checks_the_whole_corpus_in_the_backend(backend, corpus):
    """The checks run as the consumer runs them (no request, no app context of their
    own): none fails, and each external widget finds the messages about its config."""
    app = backend.app
    with app.app_context():
        hub = db.session.scalars(sa.select(Hub).where(Hub.name == "infrastructure")).one()
        added = {}
        for plugin in registry:
            widget = Widget(hub=hub, plugin=plugin, column=Column.right, position=50,
                            config=CHECKED_CONFIGS.get(plugin, {}))  # fmt: skip
            db.session.add(widget)
            db.session.flush()
            added[widget.id] = plugin
        db.session.commit()
        db.session.remove()
    for widget_id in added:  # as the web app announces new widgets
        backend.handle(factories.hubs_message("hubs.widget.created", hub_id=hub.id,
                                              widget_id=widget_id))  # fmt: skip
    assert backend.pool.wait_idle(10)
    stale: dict[str, int] = {}
    for number, entry in enumerate(corpus):
        for widget_id in backend.handle(fresh_copy(entry["msg"], f"corpus-{number}")):
            if widget_id in added:
                stale[added[widget_id]] = stale.get(added[widget_id], 0) + 1
    assert backend.pool.wait_idle(30)
    assert backend.stats()["check_errors"] == 0
    assert set(CHECKED_CONFIGS) - {"halp"} <= set(stale), stale


def test_stats_are_written_once_a_burst_settles_and_on_shutdown(backend_app, corpus):
    from tests.stack import wait_for

    backend = Backend(backend_app, publisher=RecordingPublisher(), workers=2)
    try:
        assert backend_stats(backend_app) is None  # not yet: the summary is a minute off
        burst = [fresh_copy(m, f"burst-{n}") for n, m in enumerate(ralph_messages(corpus)[:5])]
        for message in burst:
            backend.handle(message)
        settled = wait_for(
            lambda: (s := backend_stats(backend_app)) and s["seen"] == 5 and s, 10, "the stats"
        )
        assert settled["stored"] == 5 and settled["queue_depth"] == 0
        assert settled["rebuilds"] + settled["refreshes"] >= 5
    finally:
        backend.close()

    # A backend stopped before its burst settled still leaves its last counters.
    backend_app.config["BACKEND_SETTLE_SECONDS"] = 3600
    backend = Backend(backend_app, publisher=RecordingPublisher(), workers=2)
    backend.handle(fresh_copy(ralph_messages(corpus)[5], "just-before-the-end"))
    assert backend_stats(backend_app)["seen"] == 5
    backend.close()
    assert backend_stats(backend_app)["seen"] == 1


def test_a_new_users_hub_is_live_at_once(backend, backend_app, corpus, published):
    """First login (or create-team --create-owner) makes a hub; the running backend
    indexes all its widgets and the user's next message reaches them."""
    known = {name for name, _fullname in DEMO_USERS}
    message, username = next(
        (entry["msg"], sorted(people)[0])
        for entry in corpus
        if (people := message_people_and_packages(entry["msg"])[0]) and not people & known
    )
    with backend_app.app_context():
        changes.sign_up(db.session, username, username, None)
        hub = db.session.scalars(sa.select(Hub).where(Hub.name == username)).one()
        widgets = {w.id: w.plugin for w in hub.widgets}
        db.session.remove()
    assert [topic for topic, _fields in published] == ["user.created", "hub.created"]
    for topic, fields in published:  # as the bus brings them to the backend
        backend.handle(factories.hubs_message(f"hubs.{topic}", **fields))
    assert set(widgets) <= set(backend.index.entries)
    assert backend.pool.wait_idle(30)
    assert set(widgets) <= {event["widget_id"] for event in backend.publisher_events}

    stale = backend.handle(fresh_copy(message, "the-new-users-first"))
    assert {w for w, plugin in widgets.items() if plugin in ACTIVITY} <= stale


def test_a_broken_timestamp_or_a_huge_body_is_counted_invalid(backend, backend_app, corpus):

    message = ralph_messages(corpus)[0]
    broken = [
        {**fresh_copy(message, "yesterday"), "timestamp": "yesterday"},
        fresh_copy({**message, "msg": {**message["msg"], "pad": "x" * (300 * 1024)}}, "huge"),
    ]
    for bad in broken:
        assert backend.handle(bad) == set()
    stats = backend.stats()
    assert stats["invalid"] == 2 and stats["stored"] == 0 and stats["checks"] == 0
    with backend_app.app_context():
        ids = set(db.session.scalars(sa.select(Message.msg_id)))
    assert not ids & {"yesterday", "huge"}
    assert backend.handle(fresh_copy(message, "fine"))  # and the next one goes through


def test_a_transient_database_error_is_retried_not_dropped(backend, corpus, monkeypatch):
    from sqlalchemy import exc

    from hubs.backend import triage

    real, failures = triage.store_message, []

    def flaky(session, message, *args):
        if len(failures) < 3:
            failures.append(message["msg_id"])
            raise exc.OperationalError("INSERT", {}, Exception("database is locked"))
        return real(session, message, *args)

    monkeypatch.setattr(triage, "store_message", flaky)
    message = fresh_copy(ralph_messages(corpus)[0], "retried")
    assert backend.handle(message)
    stats = backend.stats()
    assert (stats["retries"], stats["stored"], stats["errors"]) == (3, 1, 0)
    assert failures == ["retried"] * 3
    with backend.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).where(Message.msg_id == "retried")) == 1


def test_a_database_that_stays_away_is_an_error_after_the_retry_period(
    backend, corpus, monkeypatch
):
    from sqlalchemy import exc

    from hubs.backend import triage

    def down(*_args):
        raise exc.OperationalError("INSERT", {}, Exception("connection refused"))

    monkeypatch.setattr(triage, "store_message", down)
    backend.app.config["BACKEND_RETRY_SECONDS"] = 0.3
    assert backend.handle(fresh_copy(ralph_messages(corpus)[0], "gone")) == set()
    stats = backend.stats()
    assert stats["errors"] == 1 and stats["retries"] >= 2 and stats["stored"] == 0


def test_a_rebuild_holds_the_widgets_lock_across_processes(backend, corpus, monkeypatch):
    """Backends on one queue never rebuild one widget at the same time: the rebuild runs
    under the widget's build lock, which on memcached (an add of a lock key) is shared
    by every process."""
    message = ralph_messages(corpus)[0]
    held = []
    real = cache.rebuild

    def rebuild(key, build):
        client = cache.widget_cache.real_backend().client
        held.append(client.get(f"hubs:building:{key}") is not None)
        return real(key, build)

    monkeypatch.setattr("hubs.widgets.base.rebuild", rebuild)
    stale = backend.handle(message)
    assert backend.pool.wait_idle(10)
    counters = backend.counters
    assert stale and len(held) == counters.rebuilds + counters.refreshes > 0
    assert all(held)


def layout_events(backend) -> list[tuple[str, str]]:
    sent = backend.publisher_sent
    return [(stream, payload["topic"]) for stream, kind, payload in sent if kind == "layout"]


def test_layout_changes_are_pushed_to_the_hubs_pages_and_config_changes_are_not(backend, published):
    app = backend.app
    with app.test_request_context():
        session = db.session
        design = session.scalars(sa.select(Hub).where(Hub.name == "design")).one()
        toshio = session.scalars(sa.select(User).where(User.username == "toshio")).one()
        sticky = changes.create_widget(session, design, "sticky", {"text": "new"}, "mizmo")
        changes.update_widget_config(session, sticky, {"text": "changed"}, "mizmo")
        changes.move_widget(session, sticky, Column.right, 0, "mizmo")
        changes.update_hub(session, design, {"summary": "The design team, live"}, "mizmo")
        assert changes.set_role(session, design, toshio, Role.stargazer, agent="toshio")
        changes.delete_widget(session, sticky, "mizmo")
        db.session.remove()
    for number, (topic, fields) in enumerate(published):
        backend.handle(
            {"topic": f"org.fedoraproject.dev.hubs.{topic}", "msg": fields, "msg_id": f"l-{number}"}
        )
    assert backend.pool.wait_idle(10)
    # Every change but the new config (the sticky note's own event redraws it).
    assert layout_events(backend) == [
        ("hub:/t/design/", "hubs.widget.created"),
        ("hub:/t/design/", "hubs.widget.updated"),
        ("hub:/t/design/", "hubs.hub.updated"),
        ("hub:/t/design/", "hubs.user.role.added"),
        ("hub:/t/design/", "hubs.widget.deleted"),
    ]
    assert backend.stats()["layouts"] == 5


def test_a_backend_following_a_change_pushes_no_layout(backend, published):
    with backend.app.test_request_context():
        design = db.session.scalars(sa.select(Hub).where(Hub.name == "design")).one()
        changes.create_widget(db.session, design, "sticky", {"text": "new"}, "mizmo")
        db.session.remove()
    ((topic, fields),) = published
    backend.follow({"topic": f"org.fedoraproject.dev.hubs.{topic}", "msg": fields, "msg_id": "f-1"})
    assert layout_events(backend) == []  # the backend handling it says so, once


@pytest.mark.parametrize(
    "fields",
    [
        {"hub_type": "team", "hub_name": "a/b", "changed_keys": ["position"]},
        {"hub_type": "group", "hub_name": "design", "changed_keys": ["column"]},
        {"hub_type": "team", "hub_name": 7, "changed_keys": ["column"]},
        {"hub_type": "team", "hub_name": "design", "changed_keys": "column"},
        {"hub_type": "team", "hub_name": "design", "changed_keys": [["column"]]},
    ],
)
def test_a_malformed_hubs_change_pushes_no_layout(backend, fields):
    backend.handle({"topic": "org.fedoraproject.dev.hubs.widget.updated", "msg": fields})
    assert layout_events(backend) == []


def test_a_hubs_new_summary_rebuilds_the_memberships_of_its_people(backend, published):
    # ralph is a member of infrastructure: his hub's memberships list shows its summary,
    # though the message is nirik's.
    with backend.app.test_request_context():
        infra = db.session.scalars(sa.select(Hub).where(Hub.name == "infrastructure")).one()
        changes.update_hub(db.session, infra, {"summary": "Lights on"}, "nirik")
        ralphs = db.session.scalars(
            sa.select(Widget.id)
            .join(Hub)
            .where(Hub.name == "ralph", Widget.plugin == "memberships")
        ).one()
        db.session.remove()
    ((topic, fields),) = published
    stale = backend.handle({"topic": f"org.fedoraproject.dev.hubs.{topic}", "msg": fields})
    assert ralphs in stale
    assert backend.pool.wait_idle(10)
    pushed = {e["widget_id"]: e for e in backend.publisher_events}
    owned = pushed[ralphs]["data"]["data"]["member"]
    assert {"name": "infrastructure", "summary": "Lights on", "url": "/t/infrastructure/"} in owned


def test_what_the_backend_rebuilds_and_pushes_reaches_the_visitors_kept_page(backend, corpus):
    """A visitor's kept page (hubs/page_cache.py) is rendered anew once the backend has
    stored a rebuilt widget, as a page kept live by hubs-sse would show it."""
    client = backend.app.test_client()
    for widget in with_role(client.get("/u/ralph/").text, "widget"):
        client.get(widget["data-src"])
    before = client.get("/u/ralph/").text
    assert "loading" not in widget_states(before).values()  # external ones: an error panel
    shown = [e["data-msg-id"] for e in with_role(before, "feed-entry")]

    backend.handle(fresh_copy(ralph_messages(corpus)[0], "kept-page-1"))
    assert backend.pool.wait_idle(10)
    pushed = [e for e in backend.publisher_events if e["hub"]["url"] == "/u/ralph/"]
    assert "feed" in {e["data"]["plugin"] for e in pushed}
    after = [e["data-msg-id"] for e in with_role(client.get("/u/ralph/").text, "feed-entry")]
    assert after[0] == "kept-page-1" and after[1:] == shown[: len(after) - 1]


def test_a_message_in_a_readers_stream_renders_their_kept_pages_anew(backend, corpus):
    """The pages kept for a logged-in reader (hubs/page_cache.py) show their navbar's
    unread count: a message the backend tells their stream of renders them anew, even
    on a hub the message does not concern, as a live page's navbar counts it."""
    client = backend.app.test_client()
    log_in(client, "ralph")
    with backend.app.app_context():
        teams = db.session.scalars(sa.select(Hub).where(Hub.type == HubType.team)).all()
        paths = [hub.url_path for hub in teams]
    before = {}
    for path in paths:
        for widget in with_role(client.get(path).text, "widget"):
            client.get(widget["data-src"])
        before[path] = client.get(path).text

    backend.handle(fresh_copy(ralph_messages(corpus)[0], "kept-reader-1"))
    assert backend.pool.wait_idle(10)
    assert ("user:ralph", "stream-entry") in {(s, k) for s, k, _p in backend.publisher_sent}
    pushed = {event["hub"]["url"] for event in backend.publisher_events}
    untouched = [path for path in paths if path not in pushed]
    assert untouched, "every team hub was concerned: nothing shows the reader's own change"
    for path in untouched:
        unread = role_texts(before[path], "unread-count")[0]
        now = role_texts(client.get(path).text, "unread-count")[0]
        assert now == (unread if unread.endswith("+") else str(int(unread) + 1)), path


def test_a_rebuild_meeting_a_transient_database_error_is_retried(backend, corpus, monkeypatch):
    """The database dropping a connection during a rebuild (a restart) delays the widget,
    it does not leave it unbuilt."""
    real = Backend._bring_up_to_date
    failed = []

    def dropped_once(self, session, widget, widget_type, key):
        if not failed:
            failed.append(widget.id)
            raise sa.exc.OperationalError(
                "SELECT 1", {}, Exception("server closed the connection unexpectedly")
            )
        return real(self, session, widget, widget_type, key)

    monkeypatch.setattr(Backend, "_bring_up_to_date", dropped_once)
    stale = backend.handle(fresh_copy(ralph_messages(corpus)[0], "dropped-1"))
    assert backend.pool.wait_idle(10)
    assert failed and failed[0] in stale
    assert failed[0] in {event["widget_id"] for event in backend.publisher_events}
    stats = backend.stats()
    assert stats["retries"] == 1 and stats["rebuild_failures"] == 0


def test_a_rebuild_retried_after_it_stored_ends_where_a_fresh_read_does(
    backend, corpus, monkeypatch
):
    """The error may come after the envelope was stored and published (the session's
    teardown on a dead connection): the second run finds nothing new since, reads the
    feed whole and publishes it again. The page ends on what a fresh read gives."""
    real = Backend._bring_up_to_date
    failed = []

    def dropped_after(self, session, widget, widget_type, key):
        real(self, session, widget, widget_type, key)
        if widget.plugin == "feed" and not failed:
            failed.append(widget.id)
            raise sa.exc.OperationalError("COMMIT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(Backend, "_bring_up_to_date", dropped_after)
    stale = backend.handle(fresh_copy(ralph_messages(corpus)[0], "dropped-after-1"))
    assert backend.pool.wait_idle(10)
    [feed] = failed
    assert feed in stale
    events = [e for e in backend.publisher_events if e["widget_id"] == feed]
    assert len(events) == 2 and events[0]["version"] < events[1]["version"]
    # The prepended entry, then the feed whole: the same entries, the page's last word.
    assert events[0]["data"]["data"]["entries"] == events[1]["data"]["data"]["entries"]
    with backend.app.app_context():
        widget = db.session.get(Widget, feed)
        [cached] = cache.get_stored([registry["feed"].cache_key(widget)])
        fresh = registry["feed"].compute(db.session, widget)
        db.session.remove()
    assert cached["version"] == events[1]["version"]
    assert cached["data"]["entries"] == fresh["entries"] == events[1]["data"]["data"]["entries"]
    assert fresh["entries"][0]["msg_id"] == "dropped-after-1"
    stats = backend.stats()
    assert stats["retries"] == 1 and stats["rebuild_failures"] == 0


def test_stopping_ends_the_retries_of_a_rebuild_while_the_database_is_away(
    backend, corpus, monkeypatch
):
    """A rebuild retries for BACKEND_RETRY_SECONDS (300): stopping must not wait them
    out for every widget queued (systemd would kill it before its last counters)."""

    def away(self, session, widget, widget_type, key):
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("the database is away"))

    monkeypatch.setattr(Backend, "_bring_up_to_date", away)
    assert backend.app.config["BACKEND_RETRY_SECONDS"] == 300
    stale = backend.handle(fresh_copy(ralph_messages(corpus)[0], "away-1"))
    assert len(stale) >= 2
    wait_for(lambda: backend.stats()["retries"] >= len(stale), 30, "every rebuild retrying")
    closing = threading.Thread(target=backend.close)
    closing.start()
    closing.join(60)  # a hang guard: retrying on would take 300 s
    assert not closing.is_alive()
    assert backend.pool.failures == len(stale)  # given up, each counted


# A second backend process: rebuilds one widget, prints the event it publishes.
OTHER_BACKEND = """
import json, sys
from hubs.app import create_app
from hubs.backend.triage import Backend

class Printing:
    def publish(self, event):
        print(json.dumps(event))
    def send(self, stream, kind, payload):
        pass
    def close(self):
        pass

backend = Backend(create_app(), publisher=Printing(), workers=1)
backend.rebuild_widget(int(sys.argv[1]))
backend.close()
"""


@pytest.mark.parametrize("backend_app", ["postgresql"], indirect=True)
def test_a_rebuild_that_read_first_never_replaces_a_newer_one(backend_app, corpus, tmp_path):
    """Two backends rebuild one widget at once when its build lock is lost (memcached
    restarted): the one that read before a new message was stored, finishing last, must
    not put its older count back, in the cache nor on the pages."""
    import json
    import os
    import sys
    import threading

    import memcache

    from hubs.backend.store import store_message
    from tests.conftest import MEMCACHED

    app = backend_app
    message = ralph_messages(corpus)[0]
    usernames, packages = message_people_and_packages(message)
    with app.app_context():
        hub = db.session.scalar(sa.select(Hub).where(Hub.name == "ralph"))
        widget = next(w for w in hub.widgets if w.plugin == "fedmsgstats")
        widget_id, key = widget.id, registry["fedmsgstats"].cache_key(widget)
        before = registry["fedmsgstats"].compute(db.session, widget)["total"]
        db.session.remove()
    backend = Backend(app, publisher=(publisher := RecordingPublisher()), workers=1)
    read, go = threading.Event(), threading.Event()

    def rebuild_first():
        try:
            backend.rebuild_widget(widget_id)
        finally:
            cache.close_cache()  # this thread's memcached connection

    first = threading.Thread(target=rebuild_first)

    def pause_once_counted(conn, cursor, statement, *args):
        if threading.current_thread() is first and "GROUP BY messages.category" in statement:
            read.set()
            go.wait(30)

    sa.event.listen(db.engine, "after_cursor_execute", pause_once_counted)
    config = tmp_path / "other-backend.py"
    config.write_text(
        f"DATABASE_URL = {app.config['DATABASE_URL']!r}\n"
        f"CACHE_BACKEND = {app.config['CACHE_BACKEND']!r}\n"
        f"CACHE_ARGUMENTS = {app.config['CACHE_ARGUMENTS']!r}\n"
        f"VAR_DIR = {str(tmp_path / 'other')!r}\n"
        "SECRET_KEY = 'other-backend'\nDATAGREPPER_URL = None\nBACKEND_EVENTS_ENDPOINT = None\n"
    )
    try:
        first.start()
        assert read.wait(30), "the first rebuild never counted"
        # Another backend stores a message of ralph's...
        with app.app_context():
            store_message(db.session, fresh_copy(message, "newer"), usernames, packages)
            db.session.commit()
            db.session.remove()
        # ...memcached restarts, and the build lock is gone with it...
        restart = memcache.Client([MEMCACHED])
        restart.flush_all()
        restart.disconnect_all()
        # ...so that backend rebuilds the widget at once, counting the new message.
        other = subprocess.run(
            [sys.executable, "-c", OTHER_BACKEND, str(widget_id)],
            env={**os.environ, "HUBS_CONFIG": str(config)},
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        [newer] = [json.loads(line) for line in other.stdout.splitlines()]
        assert newer["data"]["data"]["total"] == before + 1
        go.set()
        first.join(30)
    finally:
        go.set()
        sa.event.remove(db.engine, "after_cursor_execute", pause_once_counted)
        backend.close()

    with app.app_context():
        [cached] = cache.get_stored([key])
        fresh = registry["fedmsgstats"].compute(db.session, db.session.get(Widget, widget_id))
        db.session.remove()
    assert fresh["total"] == before + 1
    assert cached["data"]["total"] == before + 1
    # A page keeps the highest version it was sent (live.js): that of the newer count.
    shown = max([*publisher.events, newer], key=lambda event: event["version"])
    assert shown["data"]["data"]["total"] == before + 1


def test_a_request_to_join_tells_the_hubs_owners_and_its_answer_too(backend, published):
    with backend.app.test_request_context():
        session = db.session
        infra = session.scalars(sa.select(Hub).where(Hub.name == "infrastructure")).one()
        mizmo = session.scalars(sa.select(User).where(User.username == "mizmo")).one()
        owners = hub_owners(session, infra.id)
        assert changes.request_to_join(session, infra, mizmo) is True
        changes.answer_join_request(session, infra, mizmo, approve=False, agent=owners[0])
        db.session.remove()
    assert owners
    assert [topic for topic, _fields in published] == ["hub.join.requested", "hub.join.answered"]
    for topic, fields in published:
        backend.handle({"topic": f"org.fedoraproject.dev.hubs.{topic}", "msg": fields})
    told = [(stream, payload["topic"]) for stream, kind, payload in backend.publisher_sent
            if kind == "notifications"]  # fmt: skip
    assert sorted(told) == sorted(
        (f"user:{owner}", f"hubs.{topic}") for owner in owners for topic, _ in published
    )
    assert backend.stats()["notifications"] == 2 * len(owners)
