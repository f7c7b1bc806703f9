"""fedora-messaging messages, read with their schema packages: the 167 messages of the
corpus (tests/data/fedora-messaging-corpus/), each beside what its schema class says of
it, go through the same Backend, store and feeds as fedmsg messages."""

import json
import pathlib

import pytest
import sqlalchemy as sa
from fedora_messaging import message as fm_message

from hubs.backend.amqp import Consumer, deliveries_before, delivery_limit
from hubs.backend.triage import Backend
from hubs.bus import message_people_and_packages, render
from hubs.entries import entry
from hubs.i18n import current_locale
from hubs.messages import topic_suffix
from hubs.messaging import SCHEMA_KEY, HubsMessage, bus_message
from hubs.models import Message
from tests.factories import RecordingPublisher

CORPUS = pathlib.Path(__file__).parents[1] / "data" / "fedora-messaging-corpus" / "messages.jsonl"
LINES = [json.loads(line) for line in CORPUS.read_text().splitlines()]


def _installed(line: dict) -> bool:
    return line["headers"]["fedora_messaging_schema"] in fm_message._schema_name_to_class


def _strings(values) -> set[str]:
    return {value for value in values if isinstance(value, str)}


fm_message.load_message_classes()
READ = [line for line in LINES if _installed(line)]
UNREAD = [line for line in LINES if not _installed(line)]


def test_the_schema_packages_hubs_needs_are_installed():
    packages = {line["package"] for line in READ}
    assert packages >= {
        "anitya_schema", "bodhi-messages", "discourse2fedmsg-messages", "fedocal-messages",
        "koji-fedoramessaging-messages", "noggin-messages", "pagure-messages",
    }  # fmt: skip
    assert len(READ) == 153 and len(UNREAD) == 14


@pytest.mark.parametrize("line", READ, ids=[line["id"][:8] for line in READ])
def test_a_schema_message_is_read_as_its_schema_says(line):
    value = bus_message(fm_message.load_message(line))
    expected = line["expected"]
    assert value["topic"] == line["topic"] and value["msg_id"] == line["id"]
    assert value["msg"] == line["body"]
    assert value[SCHEMA_KEY]["schema"] == line["schema"]
    usernames, packages = message_people_and_packages(value)
    assert usernames == _strings(expected["usernames"])
    assert packages == _strings(expected["packages"])
    if isinstance(expected["summary"], str):
        assert render(value)["subtitle"] == expected["summary"]
        assert render(value)["link"] == (expected["url"] or "")
    else:  # the schema's summary raised: the feed shows the topic instead
        assert "summary" not in value[SCHEMA_KEY]


@pytest.mark.parametrize("line", UNREAD, ids=[line["id"][:8] for line in UNREAD])
def test_a_message_of_no_installed_schema_is_left_to_fedmsg_meta(line, caplog):
    value = bus_message(fm_message.load_message(line))
    assert SCHEMA_KEY not in value
    assert value["msg"] == line["body"]
    message_people_and_packages(value)  # fedmsg.meta reads it, or finds nothing: no error


def test_the_sent_at_header_is_the_message_time():
    line = READ[0]
    value = bus_message(fm_message.load_message(line))
    assert value["timestamp"] == pytest.approx(
        __import__("datetime").datetime.fromisoformat(line["headers"]["sent-at"]).timestamp()
    )


def test_the_whole_corpus_is_stored_with_the_schemas_people_and_feed_sentences(app, session):
    JUNK = tuple(app.config["BACKEND_JUNK_TOPICS"])
    backend = Backend(app, publisher=RecordingPublisher(), workers=1)
    try:
        for line in LINES:
            backend.process(bus_message(fm_message.load_message(line)))
        # A redelivered message changes nothing.
        for line in LINES[:20]:
            backend.process(bus_message(fm_message.load_message(line)))
        assert backend.pool.wait_idle(30)
    finally:
        backend.close()
    junk = [line for line in LINES if topic_suffix(line["topic"]).startswith(JUNK)]
    assert len(junk) == 2  # koji's buildsys.repo.init and .done, junk by default
    assert backend.counters.junk == len(junk)
    assert backend.counters.stored == len(LINES) - len(junk)
    assert backend.counters.duplicates == 20 and backend.counters.invalid == 0
    rows = {row.msg_id: row for row in session.scalars(sa.select(Message))}
    assert len(rows) == len(LINES) - len(junk)
    with app.test_request_context():
        for line in (line for line in READ if line not in junk):
            row = rows[line["id"]]
            assert set(row.usernames) == _strings(line["expected"]["usernames"])
            assert set(row.packages) == _strings(line["expected"]["packages"])
            summary = line["expected"]["summary"]
            assert entry(row)["subtitle"] == (summary if isinstance(summary, str) else row.topic)


def test_hubs_own_schema_class_reads_hubs_messages():
    body = {"hub_id": 3, "hub_name": "design", "hub_type": "team", "agent": "mizmo",
            "hub_url": "http://localhost:5000/t/design/", "widget_id": 9,
            "widget_label": "Meetings"}  # fmt: skip
    message = HubsMessage(topic="hubs.widget.created", body=body)
    message.validate()
    assert fm_message.get_class("hubs.v1") is HubsMessage  # the entry point is registered
    assert message.summary == "mizmo added Meetings to the design team hub"
    assert message.usernames == ["mizmo"] and message.url == body["hub_url"]
    value = bus_message(message)
    assert value[SCHEMA_KEY]["summary"] == message.summary
    assert message_people_and_packages(value) == ({"mizmo"}, set())


def test_hubs_own_messages_summary_is_english_whoever_publishes_it(app):
    """The bus is read by other consumers: a change made on a French page is summed up in
    English all the same."""
    body = {"hub_name": "design", "hub_type": "team", "agent": "mizmo", "widget_label": "Meetings"}
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert current_locale() == "fr"
        message = HubsMessage(topic="hubs.widget.created", body=body)
        assert message.summary == "mizmo added Meetings to the design team hub"


def test_the_delivery_limit_and_count_come_from_the_queue_and_headers():
    queues = {"hubs": {"durable": True, "arguments": {"x-delivery-limit": 4}}, "other": {}}
    assert delivery_limit(queues, "hubs") == 4
    assert delivery_limit(queues, "other") is None and delivery_limit(queues, None) is None
    message = fm_message.Message(topic="x", body={})
    assert deliveries_before(message) == 0
    message._headers = {**message._headers, "x-delivery-count": 3}
    assert deliveries_before(message) == 3


def test_the_consumer_acks_invalid_messages_and_hands_back_failing_ones(app, session, monkeypatch):
    from fedora_messaging.exceptions import Nack

    consumer = Consumer(app, listen=False, declare=False)
    consumer.queues = {"hubs": {"arguments": {"x-delivery-limit": 2}}}
    try:
        topic = "org.fedoraproject.prod.bodhi.update.comment"
        broken = fm_message.Message(topic=topic, body={"comment": {}})
        broken._headers["sent-at"] = "yesterday"
        broken.queue = "hubs"
        consumer(broken)  # acked: it can never be stored
        assert consumer.backend.counters.invalid == 1

        def fail(message):
            raise RuntimeError("a bug")

        monkeypatch.setattr(consumer.backend, "_handle", fail)
        poison = fm_message.load_message(READ[0])
        poison.queue = "hubs"
        with pytest.raises(Nack):
            consumer(poison)
        assert consumer.backend.counters.requeued == 1
        poison._headers = {**poison._headers, "x-delivery-count": 2}  # its last delivery
        with pytest.raises(Nack):
            consumer(poison)
        assert consumer.backend.counters.dead_lettered == 1
    finally:
        consumer.close()
