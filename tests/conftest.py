"""Fixtures: every database test runs on PostgreSQL and on SQLite, each inside a
transaction rolled back at the end; the widget cache is a real memcached."""

from __future__ import annotations

import json
import logging
import os
from urllib.parse import urlsplit

import memcache
import pytest
import requests
import sqlalchemy as sa

from hubs.app import create_app
from hubs.bus import set_sender
from hubs.cache import close_cache
from hubs.database import db, upgrade
from hubs.demo import FEDMSG_CORPUS
from tests.datagrepper import Datagrepper
from tests.oidc import Provider

POSTGRES_ADMIN_URL = os.environ.get(
    "HUBS_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)
POSTGRES_TEST_DB = os.environ.get("HUBS_TEST_POSTGRES_DB", "hubs_test")
MEMCACHED = os.environ.get("HUBS_TEST_MEMCACHED", "127.0.0.1:11211")
CORPUS = FEDMSG_CORPUS


def _postgres_version() -> str:
    engine = sa.create_engine(POSTGRES_ADMIN_URL)
    with engine.connect() as connection:
        version = connection.scalar(sa.text("SHOW server_version"))
    engine.dispose()
    return version


def _memcached_version() -> str:
    client = memcache.Client([MEMCACHED])
    stats = client.get_stats()
    client.disconnect_all()
    if not stats:
        raise RuntimeError(f"memcached is not answering at {MEMCACHED}")
    return stats[0][1]["version"]


def pytest_report_header(config) -> list[str]:
    return [
        f"database backends: postgresql {_postgres_version()} "
        f"({POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{POSTGRES_TEST_DB}), sqlite",
        f"widget cache: memcached {_memcached_version()} at {MEMCACHED}, and dbm files",
    ]


def run_database_name(name: str) -> str:
    """``name`` (``hubs_test_*``) for this run: with HUBS_TEST_POSTGRES_DB set, each of the
    suite's own databases is named after it too, so two checkouts can test at once."""
    if name == POSTGRES_TEST_DB or not name.startswith("hubs_test"):
        return name
    return POSTGRES_TEST_DB + name.removeprefix("hubs_test")


def recreate_postgres_database(name: str) -> str:
    """Drop and create database ``name`` (as :func:`run_database_name` says) on the test
    server; return its URL."""
    name = run_database_name(name)
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return sa.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session", params=["postgresql", "sqlite"])
def database_url(request, tmp_path_factory) -> str:
    """A migrated, empty database of each kind, shared by the session."""
    if request.param == "postgresql":
        url = recreate_postgres_database(POSTGRES_TEST_DB)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'hubs.db'}"
    upgrade(url)
    return url


@pytest.fixture
def memcached_config() -> dict:
    client = memcache.Client([MEMCACHED])
    client.flush_all()
    client.disconnect_all()
    return {
        "CACHE_BACKEND": "dogpile.cache.memcached",
        "CACHE_ARGUMENTS": {"url": [MEMCACHED], "dead_retry": 1, "socket_timeout": 1},
    }


@pytest.fixture
def dbm_config(tmp_path) -> dict:
    return {
        "CACHE_BACKEND": "dogpile.cache.dbm",
        "CACHE_ARGUMENTS": {"filename": str(tmp_path / "widget-cache.dbm")},
    }


@pytest.fixture
def cache_config(memcached_config) -> dict:
    """The cache tests run on; override in a module to use another backend."""
    return memcached_config


@pytest.fixture
def app_config(database_url, cache_config, tmp_path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": database_url,
        "VAR_DIR": str(tmp_path),
        # CSRF has its own tests (tests/views/test_csrf.py); elsewhere it is in the way.
        "WTF_CSRF_ENABLED": False,
        "BACKEND_EVENTS_ENDPOINT": None,
        # Tests of the history reach a local datagrepper (tests/datagrepper.py); the rest
        # would reach none.
        "DATAGREPPER_URL": None,
        **cache_config,
    }


@pytest.fixture
def app(app_config):
    return create_app(app_config)


@pytest.fixture
def session(app):
    """db.session bound to one connection whose transaction is rolled back at the end;
    commits made by the code under test become savepoints."""
    connection = db.engine.connect()
    transaction = connection.begin()
    db.session.remove()
    db.session.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield db.session
    finally:
        db.session.remove()
        transaction.rollback()
        connection.close()
        db.session.configure(bind=db.engine, join_transaction_mode="conditional_savepoint")


@pytest.fixture
def client(app, session):
    return app.test_client()


@pytest.fixture
def app_context(app, session):
    with app.test_request_context():
        yield


LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    """Tests never reach the internet: a request to a non-local host fails as a dead
    network would. Tests of external services replay answers with ``responses``."""
    send = requests.adapters.HTTPAdapter.send

    def local_only(adapter, request, *args, **kwargs):
        host = urlsplit(request.url).hostname or ""
        if host not in LOCAL_HOSTS:
            raise requests.ConnectionError(f"tests do not reach the internet ({host})")
        return send(adapter, request, *args, **kwargs)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", local_only)


@pytest.fixture(autouse=True)
def _quiet_logs(caplog):
    caplog.set_level(logging.INFO, logger="hubs")


@pytest.fixture(scope="session")
def corpus() -> list[dict]:
    """The real bus messages of the corpus (hubs/demo/fedmsg-corpus/)."""
    with open(CORPUS) as handle:
        return [json.loads(line) for line in handle]


@pytest.fixture(autouse=True)
def published():
    """What the code under test publishes on the bus, as (topic, fields), in order."""
    messages = []
    set_sender(lambda topic, fields: messages.append((topic, fields)))
    yield messages
    set_sender(None)


@pytest.fixture(autouse=True)
def _close_cache_connections():
    yield
    close_cache()


def log_in(client, username: str | None) -> None:
    """Make ``client`` a logged-in ``username`` (None: anonymous), as the OIDC callback
    would (tests/test_login.py runs the real flow)."""
    with client.session_transaction() as session:
        session.clear()
        if username:
            session["username"] = username
            session["generation"] = 0  # a user's first, until they log out


@pytest.fixture(scope="module")
def provider():
    """oidc-provider-mock on loopback: a real OpenID Connect provider for the login."""
    server = Provider()
    yield server.url
    server.close()


@pytest.fixture
def datagrepper():
    with Datagrepper() as server:
        yield server


@pytest.fixture(params=["postgresql", "sqlite"])
def history_app(request, memcached_config, tmp_path, datagrepper):
    """The app on an empty database of each kind (real commits), its datagrepper local
    (tests/test_backfill.py, tests/backend/test_backfill.py)."""
    if request.param == "postgresql":
        url = recreate_postgres_database("hubs_test_backfill")
    else:
        url = f"sqlite:///{tmp_path / 'backfill.db'}"
    upgrade(url)
    app = create_app({
        "TESTING": True, "DATABASE_URL": url, "VAR_DIR": str(tmp_path),
        "DATAGREPPER_URL": datagrepper.url, "DATAGREPPER_MIN_INTERVAL": 0.0,
        "BACKFILL_RETRY_SECONDS": 60, **memcached_config,
    })  # fmt: skip
    with app.app_context():
        yield app
        db.session.remove()
    db.engine.dispose()
