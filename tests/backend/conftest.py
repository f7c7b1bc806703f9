"""The backend's fixtures: the app on a fresh database of each kind with the demo hubs,
and a Backend on it whose published events are recorded."""

import pytest

from hubs.app import create_app
from hubs.backend.triage import Backend
from hubs.database import db, upgrade
from hubs.seed import populate, warm_cache
from tests.conftest import recreate_postgres_database
from tests.factories import RecordingPublisher


@pytest.fixture(params=["postgresql", "sqlite"])
def backend_app(request, memcached_config, tmp_path):
    """The app on a fresh database of each kind, with the demo hubs committed."""
    if request.param == "postgresql":
        url = recreate_postgres_database("hubs_test_backend")
    else:
        url = f"sqlite:///{tmp_path / 'backend.db'}"
    upgrade(url)
    app = create_app(
        {"DATABASE_URL": url, "VAR_DIR": str(tmp_path), "DATAGREPPER_URL": None,
         **memcached_config}
    )  # fmt: skip
    with app.app_context():
        populate(db.session, say=lambda line: None)
        warm_cache(db.session, say=lambda line: None)
        db.session.remove()
    yield app
    db.session.remove()
    db.engine.dispose()


@pytest.fixture
def backend(backend_app):
    publisher = RecordingPublisher()
    backend = Backend(backend_app, publisher=publisher, workers=2)
    backend.publisher_events = publisher.events
    backend.publisher_sent = publisher.sent
    yield backend
    backend.close()
