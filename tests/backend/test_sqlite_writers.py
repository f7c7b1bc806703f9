"""The embedded default under contention: the backend stores bus messages while the
web app (owners editing) and the CLI write to the same SQLite file. Nothing is lost
and nobody gets a 500: writers take SQLite's write lock as they begin, and the backend
retries what a locked database refused."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from hubs.app import create_app
from hubs.backend.triage import Backend
from hubs.cache import close_cache
from hubs.database import db, upgrade
from hubs.models import Message
from hubs.seed import populate
from tests.conftest import log_in
from tests.factories import RecordingPublisher, fresh_copy
from tests.stack import SERVICE_URLS, free_port


@pytest.fixture
def sqlite_app(tmp_path):
    url = f"sqlite:///{tmp_path / 'hubs.db'}"
    upgrade(url)
    app = create_app({
        "TESTING": True, "SECRET_KEY": "test-secret", "DATABASE_URL": url,
        "VAR_DIR": str(tmp_path), "WTF_CSRF_ENABLED": False, "BACKEND_EVENTS_ENDPOINT": None,
        "CACHE_BACKEND": "dogpile.cache.dbm",
        "CACHE_ARGUMENTS": {"filename": str(tmp_path / "cache.dbm")},
        **dict.fromkeys(SERVICE_URLS, f"http://127.0.0.1:{free_port()}/"),
    })  # fmt: skip
    with app.app_context():
        populate(db.session, say=lambda line: None)
        db.session.remove()
    yield app
    close_cache()


def test_messages_and_edits_on_one_sqlite_file_lose_nothing(sqlite_app, corpus):
    app = sqlite_app
    backend = Backend(app, publisher=RecordingPublisher(), workers=2)
    stop = threading.Event()
    answers: list[int] = []

    def owner_editing(team: str, owner: str) -> None:
        with app.test_client() as client:
            log_in(client, owner)
            number = 0
            while not stop.is_set():
                number += 1
                response = client.post(f"/t/{team}/settings", data={"summary": f"edit {number}"})
                answers.append(response.status_code)

    editors = [
        threading.Thread(target=owner_editing, args=("infrastructure", "nirik")),
        threading.Thread(target=owner_editing, args=("design", "mizmo")),
    ]
    for editor in editors:
        editor.start()
    messages = [fresh_copy(entry["msg"], f"contended-{n}") for n, entry in enumerate(corpus)]
    try:
        for message in messages:
            backend.handle(message)
    finally:
        stop.set()
        for editor in editors:
            editor.join(timeout=60)
        backend.close()

    stats = backend.stats()
    assert stats["errors"] == 0, stats
    with app.app_context():
        stored = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Message)
            .where(Message.msg_id.like("contended-%"))
        )
    assert stored == stats["stored"] == len(messages) - stats["invalid"] - stats["junk"]
    assert len(answers) >= 20, "the owners hardly edited: no contention was tested"
    assert set(answers) <= {200, 302}, sorted(set(answers))
