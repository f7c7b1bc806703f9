"""The backend's history thread: a person new to a hub gets their history fetched in
the background, and the widgets about them are rebuilt and pushed when it is in."""

from hubs.backend.triage import Backend
from hubs.database import db
from tests import factories
from tests.datagrepper import history
from tests.factories import RecordingPublisher
from tests.stack import wait_until
from tests.test_backfill import sign_up


def feeds(publisher) -> list[dict]:
    """The data of each of ralph's feeds the backend pushed, in order."""
    documents = [event["data"] for event in publisher.events]
    return [document["data"] or {} for document in documents
            if document["plugin"] == "feed" and document["hub"]["name"] == "ralph"]  # fmt: skip


def test_a_sign_up_heard_by_the_backend_fills_the_new_hubs_feed(
    history_app, datagrepper, corpus, published
):
    datagrepper.archive.add(history("ralph", 120, corpus))
    publisher = RecordingPublisher()
    backend = Backend(history_app, publisher=publisher, workers=2)
    try:
        sign_up("ralph")
        db.session.remove()
        for topic, fields in published:  # as the bus brings them to the backend
            backend.handle(factories.hubs_message(f"hubs.{topic}", **fields))

        def filled():
            data = (feeds(publisher) or [{}])[-1]
            return data.get("history") is None and len(data.get("entries") or []) == 10

        assert wait_until(lambda: backend.pool.wait_idle(0.1) and filled(), 30)
        stats = backend.stats()
        assert (stats["backfills"], stats["backfilled"], stats["backfill_failures"]) == (1, 120, 0)
        newest = max(datagrepper.archive.messages, key=lambda m: m["headers"]["sent-at"])
        assert feeds(publisher)[-1]["entries"][0]["msg_id"] == newest["id"]
    finally:
        backend.close()


def test_an_outage_shows_on_the_feed_and_the_backend_tries_again(
    history_app, datagrepper, corpus, published
):
    datagrepper.archive.add(history("ralph", 30, corpus))
    history_app.config.update(BACKFILL_RETRY_SECONDS=1, BACKFILL_POLL_SECONDS=0.2)
    datagrepper.down = True
    publisher = RecordingPublisher()
    backend = Backend(history_app, publisher=publisher, workers=2)
    try:
        sign_up("ralph")
        db.session.remove()
        for topic, fields in published:
            backend.handle(factories.hubs_message(f"hubs.{topic}", **fields))

        def unavailable():
            return (feeds(publisher) or [{}])[-1].get("history") == "unavailable"

        assert wait_until(lambda: backend.stats()["backfill_failures"] >= 1, 20)
        assert wait_until(lambda: backend.pool.wait_idle(0.1) and unavailable(), 20)
        datagrepper.down = False
        assert wait_until(lambda: backend.stats()["backfills"] == 1, 20)
        assert wait_until(
            lambda: (
                backend.pool.wait_idle(0.1) and len(feeds(publisher)[-1].get("entries") or []) == 10
            ),
            20,
        )
        assert backend.stats()["backfilled"] == 30
    finally:
        backend.close()
