"""Reading messages with fedmsg.meta (Fedora's processors and hubs' own) and the one
publish wrapper."""

import contextlib
import logging

import pytest

from hubs import bus
from tests import factories


def agreeing(corpus):
    """Corpus messages whose expected usernames and packages fedmsg.meta reproduces
    here (a few differ without FAS, as the corpus README says)."""
    for entry in corpus:
        expected = entry["expected"]
        if "usernames" not in expected or "packages" not in expected:
            continue
        usernames, packages = bus.message_people_and_packages(entry["msg"])
        if sorted(usernames) == expected["usernames"]:
            yield entry, usernames, packages


def test_people_and_packages_of_the_corpus(corpus):
    checked = list(agreeing(corpus))
    with_expectations = [e for e in corpus if {"usernames", "packages"} <= set(e["expected"])]
    assert len(checked) >= 0.9 * len(with_expectations)
    same_packages = [e for e, _u, p in checked if sorted(p) == e["expected"]["packages"]]
    # A few package lists come from pkgdb/bugzilla lookups that cannot happen offline.
    assert len(same_packages) >= 0.95 * len(checked)


@pytest.mark.parametrize("message", [{}, {"topic": 3}, {"topic": "a.b", "msg": "x"}, None])
def test_malformed_messages_have_no_people(message):
    assert bus.message_people_and_packages(message or {}) == (set(), set())


def test_last_answer_is_reused_for_the_same_message(corpus, monkeypatch):
    message = corpus[0]["msg"]
    first = bus.message_people_and_packages(message)
    monkeypatch.setattr(bus, "_read_people_and_packages", lambda m: pytest.fail("read again"))
    assert bus.message_people_and_packages(message) is first


HUBS_CASES = [
    ("user.created", {"username": "bex"}, "bex joined Fedora Hubs", {"bex"}),
    (
        "hub.updated",
        {"hub_name": "design", "hub_type": "team", "agent": "mizmo", "changed_keys": ["summary"]},
        "mizmo updated the settings of the design team hub (summary)",
        {"mizmo"},
    ),
    (
        "widget.created",
        {"hub_name": "design", "hub_type": "team", "agent": "mizmo", "widget_label": "Rules"},
        "mizmo added Rules to the design team hub",
        {"mizmo"},
    ),
    (
        "user.role.changed",
        {"hub_name": "design", "hub_type": "team", "agent": "mizmo", "username": "ralph",
         "role": "owner", "old_role": "member"},
        "mizmo changed ralph's role in the design team hub from member to owner",
        {"mizmo", "ralph"},
    ),
    (
        "user.role.removed",
        {"hub_name": "ralph", "hub_type": "user", "agent": "ralph", "username": "ralph",
         "role": "subscriber"},
        "ralph removed ralph (subscriber) from the ralph user hub",
        {"ralph"},
    ),
    (
        "hub.join.requested",
        {"hub_name": "design", "hub_type": "team", "agent": "bex", "username": "bex"},
        "bex asked to join the design team hub",
        {"bex"},
    ),
    (
        "hub.join.answered",
        {"hub_name": "design", "hub_type": "team", "agent": "mizmo", "username": "bex",
         "approved": False},
        "mizmo declined bex's request to join the design team hub",
        {"mizmo", "bex"},
    ),
]  # fmt: skip


@pytest.mark.parametrize(("event", "fields", "subtitle", "usernames"), HUBS_CASES)
def test_hubs_processor(event, fields, subtitle, usernames):
    message = factories.hubs_message(
        f"hubs.{event}", hub_url="http://localhost:5000/t/design/", **fields
    )
    rendered = bus.render(message)
    assert rendered["subtitle"] == subtitle
    assert bus.message_people_and_packages(message) == (usernames, set())
    if event != "user.created":
        assert rendered["link"] == "http://localhost:5000/t/design/"


def test_publish_hands_topic_and_fields_to_the_sender(published):
    bus.publish("widget.updated", widget_id=3, agent="ralph")
    assert published == [("widget.updated", {"widget_id": 3, "agent": "ralph"})]


def test_a_failing_publish_is_logged_not_raised(caplog):
    def broken(topic, fields):
        raise OSError("relay gone")

    bus.set_sender(broken)
    with caplog.at_level(logging.ERROR, logger="hubs.bus"):
        bus.publish("hub.updated", hub_id=1)
    assert "Could not publish hubs.hub.updated" in caplog.text


def _readable_and_broken(corpus):
    """Each corpus message, and a copy its processor cannot read (a body of the wrong
    shape, as a new version of a Fedora service might send)."""
    for entry in corpus:
        message = entry["msg"]
        yield dict(message)
        yield {**message, "msg_id": f"broken-{message.get('msg_id')}", "msg": {"x": 1}}


def test_reading_messages_logs_one_line_per_event(corpus, caplog):
    caplog.set_level(logging.INFO)
    for message in _readable_and_broken(corpus):
        bus.message_people_and_packages(message)
        try:
            bus.render(message)
        except Exception:  # a feed shows such a message plainly (tests/widgets/test_feed.py)
            continue
    theirs = [r for r in caplog.records if r.name.startswith(("fedmsg", "moksha"))]
    assert theirs, "the broken messages must be reported"
    assert not [r for r in theirs if r.exc_info or "\n" in r.getMessage()]
    fas = [r for r in theirs if "FAS" in r.getMessage()]
    assert len(fas) <= 1 and all(r.levelno == logging.INFO for r in fas)
    failed = [r for r in theirs if "failed on" in r.getMessage()]
    assert failed and all(r.levelno == logging.WARNING for r in failed)
    assert all("KeyError" in r.getMessage() and "broken-" in r.getMessage() for r in failed)


def test_the_traceback_of_an_unreadable_message_is_kept_for_debugging(corpus, caplog):
    caplog.set_level(logging.DEBUG, logger="fedmsg.meta")
    for message in _readable_and_broken(corpus):
        bus.message_people_and_packages(message)
        with contextlib.suppress(Exception):
            bus.render(message)
    failed = [r for r in caplog.records if r.name == "fedmsg.meta" and "failed on" in r.msg]
    assert failed and all(r.exc_info and r.levelno == logging.ERROR for r in failed)


def test_the_fedmsg_sender_follows_the_apps_relay(tmp_path):
    # Two apps in one process with their own fedmsg settings (two stacks in one test
    # run): each app's messages reach its own relay, not the first one's.
    import json

    import flask
    import zmq

    from tests.stack import free_port, wait_for

    sender = bus.FedmsgSender()
    relays = []
    try:
        for name in ("one", "two"):
            port = free_port()
            relay = zmq.Context.instance().socket(zmq.SUB)
            relay.bind(f"tcp://127.0.0.1:{port}")
            relay.setsockopt(zmq.SUBSCRIBE, b"")
            confdir = tmp_path / name
            confdir.mkdir()
            settings = {
                "relay_inbound": f"tcp://127.0.0.1:{port}",
                "post_init_sleep": 0,
                "environment": "dev",
                "topic_prefix": "org.fedoraproject",
                "sign_messages": False,
                "endpoints": {},
            }
            (confdir / "bus.py").write_text(f"config = {settings!r}")
            app = flask.Flask(name)
            app.config["FEDMSG_CONFIG_DIR"] = str(confdir)
            relays.append((app, relay))

        for number, (app, relay) in enumerate(relays):

            def heard(app=app, relay=relay, number=number):
                with app.app_context():
                    sender("hub.updated", {"hub_id": number})  # again: ZeroMQ's slow joiner
                if not relay.poll(200):
                    return False
                _topic, payload = relay.recv_multipart()
                return json.loads(payload)["msg"] == {"hub_id": number}

            wait_for(heard, 10, f"relay {number} to hear its app")
        # Nothing of the second app went to the first relay.
        while relays[0][1].poll(100):
            assert json.loads(relays[0][1].recv_multipart()[1])["msg"] == {"hub_id": 0}
    finally:
        for _app, relay in relays:
            relay.close(linger=0)
        if sender._context is not None:
            sender._context.destroy()
