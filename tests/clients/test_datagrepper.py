"""The datagrepper client against a local datagrepper (tests/datagrepper.py) answering
as datagrepper 1.1.0 does (tests/data/datagrepper/README.md)."""

import json
import pathlib

import pytest
from fedora_messaging import exceptions as fm_exceptions
from fedora_messaging import message as fm_message

from hubs.clients import ServiceUnavailable
from hubs.clients.datagrepper import DatagrepperClient, Politeness, load_message
from hubs.messaging import bus_message
from tests.datagrepper import Archive, Datagrepper, from_fedmsg, from_schema_corpus, schema_corpus
from tests.stack import free_port

RECORDINGS = pathlib.Path(__file__).parent.parent / "data" / "datagrepper"
QUERY = {"user": ["ralph"], "start": ["1762041600.0"], "end": ["1764633600.0"],
         "rows_per_page": ["3"], "order": ["asc"]}  # fmt: skip
START, END = 1762041600.0, 1764633600.0


def recording(name: str) -> dict:
    return json.loads((RECORDINGS / name).read_text())


@pytest.fixture
def recorded():
    """A datagrepper holding the recorded messages."""
    archive = Archive()
    for name in ("search-ralph-page1.json", "search-ralph-page2.json"):
        archive.add(recording(name)["raw_messages"])
    with Datagrepper(archive) as server:
        yield server


class Sleeps(list):
    """A sleep that keeps the waits asked of it (and waits for none)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client_of(server, sleeps=None, timeout=(1.0, 2.0), **politeness) -> DatagrepperClient:
    sleep = Sleeps() if sleeps is None else sleeps
    politeness = Politeness(min_interval=0.0, sleep=sleep, **politeness)
    return DatagrepperClient(server.url, timeout, politeness=politeness)


def test_the_local_server_answers_exactly_as_recorded(recorded):
    for page in (1, 2):
        answer = recorded.search_answer({**QUERY, "page": [str(page)]})
        assert answer == recording(f"search-ralph-page{page}.json")


def test_a_search_gives_messages_of_their_schema_classes_oldest_first(recorded):
    first = client_of(recorded).search(users=["ralph"], start=START, end=END, rows_per_page=3)
    assert (first.total, first.pages, first.page, first.last) == (5, 2, 1, False)
    assert first.invalid == []
    kinds = [type(message).__name__ for message in first.messages]
    assert kinds == ["Message", "UpdateCommentV1", "Message"]  # fedmsg-era ones: no schema
    times = [bus_message(message)["timestamp"] for message in first.messages]
    assert times == sorted(times)
    second = client_of(recorded).search(
        users=["ralph"], start=START, end=END, page=2, rows_per_page=3
    )
    assert second.last and len(second.messages) == 2
    (query,) = recorded.search_requests()[-1:]
    assert query["order"] == ["asc"] and query["user"] == ["ralph"] and query["page"] == ["2"]


def test_a_fedmsg_era_message_reads_as_the_fedmsg_message_it_was(recorded):
    page = client_of(recorded).search(users=["ralph"], start=START, end=END, rows_per_page=3)
    raw = recording("search-ralph-page1.json")["raw_messages"][0]
    value = bus_message(page.messages[0])
    assert value == {"topic": raw["topic"], "msg_id": raw["id"], "msg": raw["body"],
                     "timestamp": END - 3 * 86400}  # fmt: skip


def test_rows_per_page_never_exceeds_datagreppers_limit(recorded):
    client_of(recorded).search(users=["ralph"], start=START, end=END, rows_per_page=500)
    assert recorded.search_requests()[-1]["rows_per_page"] == ["100"]


def test_one_message_by_id_and_none_for_an_unknown_one(recorded):
    client = client_of(recorded)
    found = client.message(recording("id.json")["id"])
    assert isinstance(found, fm_message.Message) and found.id == recording("id.json")["id"]
    assert client.message("no-such-message") is None


def test_a_429_waits_for_its_retry_after_then_succeeds(recorded):
    sleeps = Sleeps()
    client = client_of(recorded, sleeps)
    recorded.answer_next(429, {"Retry-After": "7"})
    recorded.answer_next(429)  # no Retry-After: the back-off doubles (1 s, then 2 s)
    page = client.search(users=["ralph"], start=START, end=END)
    assert page.total == 5
    assert sleeps == [7.0, 2.0] and client.backed_off == 2
    assert len(recorded.search_requests()) == 3


def test_a_retry_after_date_and_the_longest_wait_are_honoured(recorded):
    sleeps = Sleeps()
    client = client_of(recorded, sleeps, max_back_off=30)
    recorded.answer_next(503, {"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"})
    client.search(users=["ralph"], start=START, end=END)
    assert sleeps == [30]


def test_a_service_that_keeps_refusing_is_an_outage_in_the_end(recorded):
    client = client_of(recorded, tries=3)
    for _ in range(3):
        recorded.answer_next(429, {"Retry-After": "1"})
    with pytest.raises(ServiceUnavailable) as raised:
        client.search(users=["ralph"], start=START, end=END)
    assert raised.value.reason == "HTTP 429" and "127.0.0.1" in str(raised.value)


def test_requests_keep_the_polite_gap(recorded):
    sleeps = Sleeps()
    client = client_of(recorded, sleeps)
    client.politeness.min_interval = 5.0
    client.search(users=["ralph"], start=START, end=END)
    client.search(users=["ralph"], start=START, end=END)
    assert len(sleeps) == 1 and 4.5 < sleeps[0] <= 5.0


def test_an_unreachable_datagrepper_is_a_friendly_error():
    client = DatagrepperClient(f"http://127.0.0.1:{free_port()}/", (0.5, 0.5))
    with pytest.raises(ServiceUnavailable) as raised:
        client.search(users=["ralph"], start=START, end=END)
    assert raised.value.reason == "cannot connect"
    assert str(raised.value) == "Could not reach 127.0.0.1:" + client.service.split(":")[1] + (
        " right now."
    )


def test_a_slow_datagrepper_times_out(recorded):
    recorded.stall_next(1.5)
    with pytest.raises(ServiceUnavailable) as raised:
        client_of(recorded, timeout=(0.5, 0.3)).search(users=["ralph"], start=START, end=END)
    assert raised.value.reason == "timed out"


@pytest.mark.parametrize(
    "answer",
    [[], {"raw_messages": {}, "total": 0, "pages": 0}, {"raw_messages": [], "total": "5"}],
)
def test_an_answer_of_another_shape_is_an_outage_not_a_crash(answer):
    with Datagrepper() as server:
        server.search_answer = lambda query: answer
        with pytest.raises(ServiceUnavailable) as raised:
            client_of(server).search(users=["ralph"], start=START, end=END)
    assert raised.value.reason == "unexpected answer"


def test_a_raw_message_that_does_not_load_is_counted_not_fatal(recorded):
    page = recording("search-ralph-page1.json")
    broken = {**page, "raw_messages": [*page["raw_messages"], {"topic": 5, "body": {}}, "x"]}
    recorded.search_answer = lambda query: broken
    found = client_of(recorded).search(users=["ralph"], start=START, end=END)
    assert len(found.messages) == 3 and len(found.invalid) == 2


def test_messages_load_as_fedora_messagings_own_loader_loads_them(corpus):
    raw = [from_schema_corpus(line, END, line["id"]) for line in schema_corpus()]
    raw += [from_fedmsg(entry["msg"], END, f"fedmsg-{n}") for n, entry in enumerate(corpus)]
    for item in raw:
        ours, theirs = load_message(item), fm_message.load_message(item)
        assert type(ours) is type(theirs)
        assert (ours.id, ours.topic, ours.body, ours._headers, ours.severity, ours.priority) == (
            theirs.id, theirs.topic, theirs.body, theirs._headers, theirs.severity,
            theirs.priority,
        )  # fmt: skip
    for broken in ({"topic": "t", "body": []}, {"body": {}}, {"topic": "t", "body": {}, "id": 5}):
        with pytest.raises(fm_exceptions.ValidationError):
            load_message(broken)
        with pytest.raises(fm_exceptions.ValidationError):
            fm_message.load_message(broken)
