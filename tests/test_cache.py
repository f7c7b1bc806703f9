"""The widget cache on both backends: keys, counted data() calls, invalidate, rebuild,
and pages that still render when memcached is down."""

import contextlib
import gc
import logging

import pytest

from hubs import cache
from hubs.models import Widget
from hubs.widgets import registry
from hubs.widgets.base import Prepend, WidgetData
from tests import factories
from tests.html import widget_states


@pytest.fixture(params=["memcached", "dbm"])
def cache_config(request, memcached_config, dbm_config):
    return memcached_config if request.param == "memcached" else dbm_config


@pytest.fixture
def data_calls(monkeypatch):
    """Count calls of the sticky widget's data(), with the config each got."""
    calls = []
    sticky = registry["sticky"]
    original = sticky._data

    def counting(session, widget, **config):
        calls.append(config)
        return original(session, widget, **config)

    monkeypatch.setattr(sticky, "_data", counting)
    return calls


@pytest.fixture
def team(session):
    hub = factories.hub(session, "infrastructure")
    sticky = factories.widget(session, hub, "sticky", text="Hello **team**")
    factories.widget(session, hub, "stats")
    session.commit()
    return hub, sticky


def test_key_depends_on_widget_and_config():
    one = cache.cache_key(7, 1, "sticky", {"text": "a"})
    assert one == cache.cache_key(7, 1, "sticky", {"text": "a"})
    assert one != cache.cache_key(7, 1, "sticky", {"text": "b"})
    assert one != cache.cache_key(7, 2, "sticky", {"text": "a"})
    assert one != cache.cache_key(8, 1, "sticky", {"text": "a"})  # a recycled id elsewhere
    assert cache.cache_key(7, 1, "rules", {"a": 1, "b": 2}) == cache.cache_key(
        7, 1, "rules", {"b": 2, "a": 1}
    )


def test_second_page_view_does_not_call_data_again(client, team, data_calls):
    _hub, sticky = team
    first = client.get("/t/infrastructure/")
    assert widget_states(first.text) == {"sticky": "loading", "stats": "loading"}
    assert data_calls == []  # uncached widgets are placeholders, filled by the browser

    assert client.get(sticky.url_path).status_code == 200
    assert data_calls == [{"text": "Hello **team**"}]

    second = client.get("/t/infrastructure/")
    assert widget_states(second.text)["sticky"] == "ready"
    assert "Hello <strong>team</strong>" in second.text
    client.get("/t/infrastructure/")
    client.get(sticky.url_path + "json")
    assert len(data_calls) == 1


def test_config_change_calls_data_once_with_new_config(client, session, team, data_calls):
    _hub, sticky = team
    client.get(sticky.url_path)
    # The request ended the session the widget came from: load it again to edit it.
    session.get(Widget, sticky.id).config = {"text": "Changed"}
    session.commit()

    page = client.get("/t/infrastructure/")
    assert widget_states(page.text)["sticky"] == "loading"  # new config, new key
    client.get(sticky.url_path)
    client.get("/t/infrastructure/")
    assert data_calls == [{"text": "Hello **team**"}, {"text": "Changed"}]


def test_invalidate_then_rebuild(app_context, session, team, data_calls):
    _hub, sticky = team
    sticky_type = registry["sticky"]
    key = sticky_type.cache_key(sticky)

    assert sticky_type.data(session, sticky)["data"] == {
        "html": "<p>Hello <strong>team</strong></p>"
    }
    assert cache.get_cached([key]) != [None]

    sticky_type.invalidate(sticky)
    assert cache.get_cached([key]) == [None]

    sticky.config = {"text": "Rebuilt"}
    envelope = sticky_type.rebuild(session, sticky)
    assert envelope["ok"] is True
    assert envelope["data"] == {"html": "<p>Rebuilt</p>"}
    assert cache.get_cached([sticky_type.cache_key(sticky)]) == [envelope]
    assert sticky_type.data(session, sticky) == envelope
    assert len(data_calls) == 2


def test_invalidate_an_old_config(app_context, session, team):
    _hub, sticky = team
    sticky_type = registry["sticky"]
    old_key = sticky_type.cache_key(sticky)
    sticky_type.data(session, sticky)
    sticky.config = {"text": "New"}
    sticky_type.invalidate_key(sticky.hub_id, sticky.id, {"text": "Hello **team**"})
    assert cache.get_cached([old_key]) == [None]


def test_failed_data_is_kept_for_the_error_expiration_only(app_context, session, team, monkeypatch):
    _hub, sticky = team
    sticky_type = registry["sticky"]
    calls = []

    def failing(session, widget, **config):
        calls.append(1)
        raise ConnectionError("service down")

    monkeypatch.setattr(sticky_type, "_data", failing)
    now = [1_000_000.0]
    monkeypatch.setattr(cache.time, "time", lambda: now[0])

    envelope = sticky_type.data(session, sticky)
    assert envelope["ok"] is False and "service down" in envelope["error"]
    sticky_type.data(session, sticky)
    assert len(calls) == 1  # a failing widget is not retried on every view

    now[0] += cache.widget_cache.error_expiration + 1
    sticky_type.data(session, sticky)
    assert len(calls) == 2


def test_data_fresh_until_a_time_is_computed_again_after_it(
    app_context, session, team, monkeypatch
):
    _hub, sticky = team
    sticky_type = registry["sticky"]
    now = [1_000_000.0]
    calls = []

    def timely(session, widget, **config):
        calls.append(now[0])
        return WidgetData({"html": "meeting soon"}, fresh_until=now[0] + 600)

    monkeypatch.setattr(sticky_type, "_data", timely)
    monkeypatch.setattr(cache.time, "time", lambda: now[0])
    envelope = sticky_type.data(session, sticky)
    assert envelope["fresh_until"] == 1_000_600.0  # beside the data, not inside it
    assert envelope["data"] == {"html": "meeting soon"}
    now[0] += 599
    sticky_type.data(session, sticky)
    assert len(calls) == 1  # still fresh
    now[0] += 1
    sticky_type.data(session, sticky)
    assert calls == [1_000_000.0, 1_000_600.0]  # due: computed again


def test_what_an_older_version_stored_is_never_read(app_context, session, team, monkeypatch):
    # Before format 2 a meeting kept fresh_until inside its data: read now, that data
    # would look fresh for CACHE_EXPIRATION and get no timer. Its key is not asked for.
    _hub, sticky = team
    sticky_type = registry["sticky"]
    key = sticky_type.cache_key(sticky)
    digest = key.rsplit(":", 1)[1]
    old_key = f"hubs:widget:{sticky.hub_id}:{sticky.id}:sticky:{digest}"
    stale = {"ok": True, "version": 1, "html": "old", "data": {"fresh_until": None}}
    cache.widget_cache.region.set(old_key, stale)
    assert key != old_key and f":v{cache.ENVELOPE_FORMAT}:" in key
    envelope = sticky_type.data(session, sticky)
    assert envelope["data"] == sticky_type.compute(session, sticky) != stale["data"]


def test_data_cannot_answer_a_prepend(app_context, session, team, monkeypatch):
    _hub, sticky = team
    answer = WidgetData({"html": ""}, prepend=Prepend("feed", "<li></li>"))
    monkeypatch.setattr(registry["sticky"], "_data", lambda session, widget, **c: answer)
    envelope = registry["sticky"].data(session, sticky)
    assert envelope["ok"] is False and "only refresh()" in envelope["error"]


def test_non_json_data_is_an_error(app_context, session, team, monkeypatch):
    _hub, sticky = team
    monkeypatch.setattr(registry["sticky"], "_data", lambda session, widget, **c: {"x": object()})
    envelope = registry["sticky"].data(session, sticky)
    assert envelope["ok"] is False
    assert "not JSON serializable" in envelope["error"]


# python-memcached does not close the socket of a refused connection; that leak is
# its own, and this test is the one that makes connections fail.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_pages_render_when_memcached_is_down(database_url, tmp_path, caplog, data_calls):
    # Nothing listens on port 1.
    down = {"url": ["127.0.0.1:1"], "dead_retry": 0, "socket_timeout": 1}
    try:
        with own_app(database_url, tmp_path, CACHE_BACKEND="dogpile.cache.memcached",
                     CACHE_ARGUMENTS=down, CACHE_WARNING_INTERVAL=0) as (app, session):  # fmt: skip
            hub = factories.hub(session, "infrastructure")
            sticky = factories.widget(session, hub, "sticky", text="Still here")
            session.commit()
            client = app.test_client()
            caplog.set_level(logging.WARNING, logger="hubs.cache")

            assert client.get("/t/infrastructure/").status_code == 200
            for _ in range(2):
                response = client.get(sticky.url_path)
                assert response.status_code == 200
                assert "Still here" in response.text
            assert len(data_calls) == 2  # computed directly each time
            warnings = [r for r in caplog.records if r.name == "hubs.cache"]
            assert warnings and all(r.levelno == logging.WARNING for r in warnings)
            assert "Widget cache unavailable" in warnings[0].getMessage()
    finally:
        gc.collect()  # let the leaked sockets go while their warnings are ignored


def test_pages_render_when_the_dbm_file_cannot_be_made(database_url, tmp_path, caplog, data_calls):
    # A file where the cache's folder should be: no dbm file can be made (even by root).
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    caplog.set_level(logging.WARNING, logger="hubs.cache")
    unusable = {"filename": str(blocker / "cache.dbm")}
    with own_app(
        database_url, tmp_path, CACHE_BACKEND="dogpile.cache.dbm", CACHE_ARGUMENTS=unusable
    ) as (app, session):
        hub = factories.hub(session, "infrastructure")
        sticky = factories.widget(session, hub, "sticky", text="No cache today")
        session.commit()
        client = app.test_client()
        assert client.get("/t/infrastructure/").status_code == 200
        response = client.get(sticky.url_path)
        assert response.status_code == 200 and "No cache today" in response.text
        assert "Cannot open the dogpile.cache.dbm widget cache" in caplog.text
        assert client.get("/healthz/ready").status_code == 503


@contextlib.contextmanager
def own_app(database_url, tmp_path, **config):
    """An app with a cache config of its own, its session in a rolled-back transaction."""
    from hubs.app import create_app
    from hubs.database import db

    app = create_app({"DATABASE_URL": database_url, "VAR_DIR": str(tmp_path), **config})
    connection = db.engine.connect()
    transaction = connection.begin()
    db.session.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield app, db.session
    finally:
        db.session.remove()
        transaction.rollback()
        connection.close()
        db.session.configure(bind=db.engine, join_transaction_mode="conditional_savepoint")


def test_a_cold_key_is_built_once_by_threads_asking_together(app_context):
    import threading

    from tests.stack import wait_for

    key, builds, answers = "hubs:test:single-flight", [], []

    def build():
        builds.append(threading.current_thread().name)
        # Everyone else is waiting for this build by now.
        wait_for(lambda: cache._local_locks[key][1] == 30, 10, "all 30 to ask")
        return {"ok": True, "data": {"n": len(builds)}, "version": 1}

    def visitor():
        try:
            answers.append(cache.get_or_build(key, build))
        finally:
            cache.close_cache()  # this thread's memcached connection

    cache.invalidate(key)
    threads = [threading.Thread(target=visitor) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(builds) == 1 and len(answers) == 30
    assert {answer["data"]["n"] for answer in answers} == {1}
    assert key not in cache._local_locks  # nothing left behind


@pytest.mark.parametrize("cache_config", ["memcached"], indirect=True)
def test_a_build_lock_released_while_waited_for_is_taken_not_skipped(app_context, monkeypatch):
    # Its holder lets it go just after this process's add failed: memcached is there,
    # so the lock is taken; building without it would race the next holder.
    key = "hubs:test:lock-released"
    client = cache.widget_cache.real_backend().client
    lock = f"hubs:building:{key}"
    client.set(lock, 1)  # another process's build holds it
    real_add = client.add

    def add(name, *args, **kwargs):
        taken = real_add(name, *args, **kwargs)
        if not taken:
            client.delete(lock)  # ...and ends now
        return taken

    monkeypatch.setattr(client, "add", add)
    with cache.single_flight(key):
        held = client.get(lock) is not None
    assert held
    assert client.get(lock) is None  # let go after


def test_an_envelope_read_earlier_never_replaces_one_read_later(app_context):
    key = "hubs:test:newest"
    cache.invalidate(key)
    newer = {"ok": True, "data": {"n": 2}, "version": 200}
    assert cache.rebuild(key, lambda: newer) == newer
    older = {"ok": True, "data": {"n": 1}, "version": 100}  # read first, ended last
    assert cache.rebuild(key, lambda: older) == newer
    assert cache.get_stored([key]) == [newer]
    newest = {"ok": True, "data": {"n": 3}, "version": 300}
    assert cache.rebuild(key, lambda: newest) == newest
    assert cache.get_stored([key]) == [newest]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_a_key_whose_memcached_is_down_goes_to_no_other(database_url, tmp_path, monkeypatch):
    """python-memcached sent such a key to the other server: the store landed there
    unnoticed (no rebuild done again), and once the first server answered again, empty,
    the key went back to it and an older read stored there was what pages got."""
    import threading

    from tests.memcached import Memcached
    from tests.stack import wait_for

    down = other = None
    monkeypatch.setattr(cache, "BUILD_LOCK_SECONDS", 3600)  # a lock waited for: a hang
    try:
        down, other = Memcached(dead_retry=0), Memcached(dead_retry=0)
        arguments = {"url": [down.url, other.url], "dead_retry": 0, "socket_timeout": 1}
        with own_app(database_url, tmp_path, CACHE_BACKEND="dogpile.cache.memcached",
                     CACHE_ARGUMENTS=arguments):  # fmt: skip
            client = cache.widget_cache.real_backend().client

            def on_down(key: str) -> bool:
                return client._get_server(client._encode_key(key))[0].port == down.port

            key = next(k for k in (f"hubs:test:own-server:{n}" for n in range(100)) if on_down(k))
            lock_key = next(
                k
                for k in (f"hubs:test:lock:{n}" for n in range(100))
                if on_down(f"hubs:building:{k}")
            )
            down.stop()
            with cache.noting_failures() as failures:
                cache.keep_newest(key, {"ok": True, "data": {}, "version": 1})
            assert failures  # refused, and said so
            assert not cache.widget_cache.answers(key)
            [(_server, stats)] = client.get_stats()  # the other one's: it holds nothing
            assert stats["curr_items"] == "0"

            built = threading.Event()

            def build() -> None:
                with cache.single_flight(lock_key):
                    built.set()
                cache.close_cache()

            threading.Thread(target=build, daemon=True).start()
            # The lock's server is away: the build goes on without it, not waiting.
            wait_for(built.is_set, 10, "the build without its lock")
    finally:
        if down is not None:
            down.start()  # (a build left waiting for the lock takes it and ends)
        for server in (down, other):
            if server is not None:
                server.stop()
        gc.collect()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_whether_memcached_answers_is_asked_of_it_not_of_an_open_socket(database_url, tmp_path):
    """A thread's socket opened before memcached stopped still looked connected: the
    backend's look at a widget waiting for the cache said it was back, and rebuilt."""
    from tests.memcached import Memcached

    server = Memcached(dead_retry=0)
    try:
        with own_app(database_url, tmp_path, **server.config):
            key = "hubs:test:answers"
            assert cache.widget_cache.answers(key)  # (its socket opened, kept)
            server.stop()
            assert not cache.widget_cache.answers(key)
            server.start()
            assert cache.widget_cache.answers(key)
            cache.close_cache()
    finally:
        server.stop()
        gc.collect()
