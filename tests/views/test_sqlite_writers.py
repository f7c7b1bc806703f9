"""GETs that write, on the embedded default (SQLite in WAL mode, real commits): a first
login signs the user up, opening My Stream marks it read. A transaction that has read
cannot start writing once another connection wrote since ("database is locked" at once,
whatever the busy timeout): every transaction that writes must take the write lock as
it begins (hubs.database.writing_now), or readers see a 503 while the backend stores."""

from __future__ import annotations

import sqlite3

import pytest
import requests
import sqlalchemy as sa

from hubs.app import create_app
from hubs.database import db, is_writing, upgrade, writing, writing_now
from hubs.models import StreamRead, User
from hubs.seed import populate
from tests.conftest import log_in
from tests.oidc import log_in_through_provider

WRITES = ("INSERT", "UPDATE", "DELETE")


@pytest.fixture
def sqlite_app(tmp_path, dbm_config, provider):
    url = f"sqlite:///{tmp_path / 'hubs.db'}"
    upgrade(url)
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "test-secret", "DATABASE_URL": url,
         "VAR_DIR": str(tmp_path), "WTF_CSRF_ENABLED": False, "DATAGREPPER_URL": None,
         "BACKEND_EVENTS_ENDPOINT": None, "OIDC_ISSUER": provider, **dbm_config}
    )  # fmt: skip
    with app.app_context():
        populate(db.session, say=lambda line: None)
        db.session.remove()
    app.database_path = str(tmp_path / "hubs.db")
    yield app
    db.session.remove()
    db.engine.dispose()


def another_process_writes(path: str) -> None:
    """A write committed by another connection (the backend storing a message, say)."""
    other = sqlite3.connect(path, timeout=5)
    try:
        other.execute("UPDATE users SET fullname = fullname || '.' WHERE username = 'mizmo'")
        other.commit()
    finally:
        other.close()


class Transactions:
    """How each transaction on the engine began (as a writer or not) and whether it
    wrote."""

    def __init__(self, engine) -> None:
        self.seen: list[dict] = []
        self.engine = engine
        sa.event.listen(engine, "begin", self._begin)
        sa.event.listen(engine, "after_cursor_execute", self._executed)

    def _begin(self, connection) -> None:
        self.seen.append({"writer": is_writing(), "wrote": False})

    def _executed(self, connection, cursor, statement, *args) -> None:
        if self.seen and statement.lstrip().upper().startswith(WRITES):
            self.seen[-1]["wrote"] = True

    def close(self) -> None:
        sa.event.remove(self.engine, "begin", self._begin)
        sa.event.remove(self.engine, "after_cursor_execute", self._executed)


def test_a_reader_cannot_start_writing_after_another_wrote_unless_it_begins_anew(sqlite_app):
    """The failure itself, and what writing_now does about it."""
    with sqlite_app.app_context():
        session = db.session
        ralph = session.scalar(sa.select(User).where(User.username == "ralph"))  # has read
        another_process_writes(sqlite_app.database_path)
        ralph.fullname = "Ralph (a reader)"
        with pytest.raises(sa.exc.OperationalError, match="database is locked"):
            session.commit()
        session.rollback()

        ralph = session.scalar(sa.select(User).where(User.username == "ralph"))
        another_process_writes(sqlite_app.database_path)
        with writing_now(session):
            ralph.fullname = "Ralph (a writer)"
            session.commit()
        db.session.remove()
    with sqlite_app.app_context():
        names = dict(db.session.execute(sa.select(User.username, User.fullname)).all())
        db.session.remove()
    assert names["ralph"] == "Ralph (a writer)" and names["mizmo"].endswith("..")


def test_opening_my_stream_while_another_process_writes(sqlite_app):
    client = sqlite_app.test_client()
    log_in(client, "ralph")
    fired = []

    def write_once_the_request_has_read(connection, cursor, statement, *args):
        if not fired and statement.lstrip().upper().startswith("SELECT") and not is_writing():
            fired.append(statement)
            another_process_writes(sqlite_app.database_path)

    sa.event.listen(db.engine, "after_cursor_execute", write_once_the_request_has_read)
    try:
        response = client.get("/u/ralph/stream")
    finally:
        sa.event.remove(db.engine, "after_cursor_execute", write_once_the_request_has_read)
    assert fired
    assert response.status_code == 200, response.text[:300]
    with sqlite_app.app_context():
        ralph = db.session.scalar(sa.select(User).where(User.username == "ralph"))
        assert db.session.get(StreamRead, ralph.id) is not None  # marked read
        db.session.remove()


def test_every_transaction_of_a_first_login_and_my_stream_that_writes_begins_as_a_writer(
    sqlite_app, provider
):
    requests.put(
        f"{provider}/users/newcomer-sub",
        json={"preferred_username": "newcomer", "name": "New Comer", "email": "n@example.org"},
        timeout=10,
    ).raise_for_status()
    client = sqlite_app.test_client()
    transactions = Transactions(db.engine)
    try:
        landed = log_in_through_provider(client, provider, "newcomer-sub", "/u/newcomer/")
        assert client.get(landed).status_code == 200
        assert client.get("/u/newcomer/stream").status_code == 200
    finally:
        transactions.close()
    wrote = [t for t in transactions.seen if t["wrote"]]
    assert len(wrote) >= 3  # the user, their hub, the stream's marker
    assert all(t["writer"] for t in wrote), transactions.seen
    with sqlite_app.app_context(), writing():
        assert db.session.scalar(sa.select(User).where(User.username == "newcomer"))
        db.session.remove()
