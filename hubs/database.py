"""The database engine and session, shared by the web app, the backend and scripts."""

from __future__ import annotations

import contextlib
import contextvars
import os
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session, sessionmaker

MIGRATIONS_PACKAGE = "hubs:migrations"
UPGRADE_COMMAND = "alembic upgrade head"


class SchemaNotMigrated(RuntimeError):
    """The database is not at the latest migration."""


# Errors of a database that is there but briefly not answering: locked (SQLite),
# restarting or refusing connections (PostgreSQL). Work meeting one is tried again.
TRANSIENT_DB_ERRORS = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError)

T = TypeVar("T")


def retry_transient(
    work: Callable[[], T],
    seconds: float,
    on_retry: Callable[[Exception, float], None] | None = None,
) -> T:
    """``work()``, tried again while it meets a transient database error, waiting 0.05 s
    then twice as long each time (at most 5 s), for up to ``seconds`` in all; the last
    error is raised. ``work`` must be safe to repeat (its transaction rolled back)."""
    give_up_at = time.monotonic() + seconds
    delay = 0.05
    while True:
        try:
            return work()
        except TRANSIENT_DB_ERRORS as error:
            if time.monotonic() + delay > give_up_at:
                raise
            if on_retry is not None:
                on_retry(error, delay)
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


# Whether the transactions begun here will write. SQLite cannot turn a transaction that
# has read into one that writes while another connection writes ("database is locked"
# at once, whatever the busy timeout): writers take the write lock as they begin, and
# wait for it for up to the busy timeout. Readers never wait.
_writing: contextvars.ContextVar[bool] = contextvars.ContextVar("hubs_writing", default=False)


@contextlib.contextmanager
def writing() -> Iterator[None]:
    """Transactions begun inside this block will write (BEGIN IMMEDIATE on SQLite)."""
    token = _writing.set(True)
    try:
        yield
    finally:
        _writing.reset(token)


@contextlib.contextmanager
def writing_now(session: Session) -> Iterator[None]:
    """Write from a request that began as a reader (a GET that writes: a first login's
    sign-up, opening My Stream): its read transaction ends first, so that the ones
    begun inside take SQLite's write lock as they begin, waiting for it, instead of
    failing at their first write because another connection wrote since they read."""
    session.commit()  # (none begun: nothing to do)
    with writing():
        yield


def is_writing() -> bool:
    """Whether the transactions begun now will write."""
    return _writing.get()


def set_writing(value: bool = True) -> contextvars.Token:
    """Mark the current context (a request, a CLI command) as a writer."""
    return _writing.set(value)


def reset_writing(token: contextvars.Token) -> None:
    _writing.reset(token)


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite opens transactions lazily and breaks SAVEPOINTs; let SQLAlchemy
    # emit BEGIN itself. Foreign keys on (cascades); WAL so the web app, the backend
    # and populate.py can read while one of them writes.
    file_based = engine.url.database not in (None, "", ":memory:")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if file_based:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _writing.get() else "BEGIN")


def create_engine(url: str, **options: Any) -> Engine:
    """An engine for ``url``; SQLite files get their folder created."""
    url_obj = sa.make_url(url)
    if url_obj.drivername == "postgresql":
        # SQLAlchemy 2.1 picks psycopg 3 for a bare "postgresql://"; Hubs ships psycopg2.
        url_obj = url_obj.set(drivername="postgresql+psycopg2")
    if url_obj.get_backend_name() == "sqlite":
        if url_obj.database and url_obj.database != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(url_obj.database)), exist_ok=True)
        engine = sa.create_engine(url_obj, **options)
        _configure_sqlite(engine)
        return engine
    options.setdefault("pool_pre_ping", True)
    return sa.create_engine(url_obj, **options)


def alembic_config(url: str):
    """Alembic's configuration for the migrations shipped in the package."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", MIGRATIONS_PACKAGE)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Bring the schema of ``url`` to the latest migration."""
    from alembic import command

    command.upgrade(alembic_config(url), "head")


def check_migrated(engine: Engine) -> None:
    """Raise SchemaNotMigrated, naming the command to run, unless at head."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(str(engine.url))).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current != head:
        where = engine.url.render_as_string(hide_password=True)
        state = "has no schema" if current is None else f"is at revision {current}"
        raise SchemaNotMigrated(
            f"The database {where} {state}, but Hubs needs revision {head}. "
            f"Run `{UPGRADE_COMMAND}` (or `python populate.py`, which also adds demo data) "
            "with the same configuration, then start Hubs again."
        )


class Database:
    """One engine and one scoped session per process, wired to Flask by init_app."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.session = scoped_session(sessionmaker(expire_on_commit=False))

    def configure(self, url: str, **engine_options: Any) -> Engine:
        if self.engine is not None and str(self.engine.url) == str(sa.make_url(url)):
            return self.engine
        self.session.remove()
        if self.engine is not None:
            self.engine.dispose()
        self.engine = create_engine(url, **engine_options)
        self.session.configure(bind=self.engine)
        return self.engine

    def init_app(self, app) -> None:
        engine = self.configure(app.config["DATABASE_URL"], **app.config["DATABASE_ENGINE_OPTIONS"])
        if app.config["DATABASE_CHECK_MIGRATED"]:
            check_migrated(engine)
        app.teardown_appcontext(self._remove_session)
        app.before_request(_writer_requests)
        app.teardown_request(_end_writer_request)

    def _remove_session(self, _exc: BaseException | None) -> None:
        self.session.remove()

    def new_session(self) -> Session:
        """A session of its own, for work outside a request (daemons, scripts)."""
        return Session(bind=self.engine, expire_on_commit=False)


def _writer_requests() -> None:
    """A request that may change something writes: its transactions say so up front."""
    from flask import g, request

    if request.method not in ("GET", "HEAD", "OPTIONS"):
        g.hubs_writing = set_writing(True)


def _end_writer_request(_exc: BaseException | None) -> None:
    # A worker thread serves request after request: the flag must not outlive this one.
    from flask import g

    token = g.pop("hubs_writing", None)
    if token is not None:
        reset_writing(token)


db = Database()
