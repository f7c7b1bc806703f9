"""History from datagrepper: asked for at sign-up and when a team gains people, fetched
page by page into the store (once per msg_id, resumable), with a local datagrepper
(tests/datagrepper.py) holding real corpus messages of both buses."""

import datetime as dt
import json
import logging
import re

import pytest
import sqlalchemy as sa
from fedora_messaging.message import load_message

from hubs import changes, default_config
from hubs.backend.store import prune
from hubs.backend.triage import Backend
from hubs.backfill import FETCHING, UNAVAILABLE, Backfiller, history_state, request_history
from hubs.bus import render
from hubs.cli import cli
from hubs.clients.datagrepper import DatagrepperClient, Politeness
from hubs.database import db
from hubs.messaging import bus_message
from hubs.models import Backfill, Hub, HubType, Message, MessageUser, Role, User, utcnow
from hubs.rendering import render_panel
from hubs.widgets import registry
from tests.clients.test_datagrepper import Sleeps
from tests.datagrepper import Archive, history, schema_corpus
from tests.factories import RecordingPublisher
from tests.html import with_role
from tests.stack import wait_until


def sign_up(username: str) -> User:
    return changes.sign_up(db.session, username, username.title(), None)


def stored_ids(username: str) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(Message.msg_id).join(MessageUser).where(MessageUser.username == username)
        )
    )


def row(username: str) -> Backfill:
    db.session.expire_all()
    return db.session.get(Backfill, username)


def feed_of(username: str):
    hub = db.session.scalar(sa.select(Hub).where(Hub.name == username, Hub.type == HubType.user))
    widget = next(w for w in hub.widgets if w.plugin == "feed")
    return widget, registry["feed"].compute(db.session, widget)


def test_signing_up_asks_for_history_and_the_feed_says_it_is_coming(history_app):
    sign_up("ralph")
    assert row("ralph").pending and row("ralph").days == 30
    widget, data = feed_of("ralph")
    assert data["history"] == FETCHING and data["entries"] == []
    html = render_panel(widget, registry["feed"], {"ok": True, "data": data})
    (note,) = with_role(html, "history")
    assert note["data-state"] == "fetching" and "Fetching history…" in html
    assert with_role(html, "empty") == []  # not "nothing on the bus"


def test_a_team_gaining_an_owner_or_member_asks_for_their_history(history_app):
    owner = sign_up("nirik")
    team = changes.create_hub(db.session, "infra", HubType.team, agent="nirik", owner=owner)
    member = changes.create_user(db.session, "kevin", "Kevin", None)
    assert row("kevin") is None
    changes.set_role(db.session, team, member, Role.subscriber, agent="nirik")
    assert row("kevin") is None  # a subscriber's messages are not the team's
    changes.set_role(db.session, team, member, Role.member, agent="nirik")
    assert row("kevin").pending


def test_250_messages_over_3_pages_are_stored_once_and_a_second_run_stores_none(
    history_app, datagrepper, corpus
):
    datagrepper.archive.add(history("ralph", 250, corpus))
    sign_up("ralph")
    backfiller = Backfiller(history_app)
    assert backfiller.claim() == "ralph"
    first = backfiller.run("ralph")
    assert (first.pages, first.fetched, first.stored, first.duplicates) == (3, 250, 250, 0)
    ids = stored_ids("ralph")
    assert len(ids) == len(set(ids)) == 250
    searches = datagrepper.search_requests()
    assert [q["page"] for q in searches] == [["1"], ["2"], ["3"]]
    assert all(q["rows_per_page"] == ["100"] and q["order"] == ["asc"] for q in searches)
    done = row("ralph")
    assert not done.pending and done.failures == 0 and done.claimed_until is None
    assert history_state(db.session, ["ralph"]) is None

    request_history(db.session, ["ralph"])  # asked again (ralph joins a team, say)
    db.session.commit()
    assert backfiller.claim() == "ralph"
    second = backfiller.run("ralph")
    assert (second.stored, second.fetched) == (0, 0)
    (again,) = datagrepper.search_requests()[3:]
    # Only the span since the first run was asked for.
    assert float(again["start"][0]) >= done.covered_until.timestamp() - 1
    assert len(stored_ids("ralph")) == 250


def live_sentence(raw: dict) -> str:
    """The sentence of a message delivered live: fedmsg's own value, or the AMQP one."""
    if "fedora_messaging_schema" in raw["headers"]:
        value = bus_message(load_message(raw))
    else:  # fedmsg delivers topic, msg_id, timestamp and the body under "msg"
        value = {"topic": raw["topic"], "msg_id": raw["id"], "msg": raw["body"],
                 "timestamp": dt.datetime.fromisoformat(raw["headers"]["sent-at"]).timestamp(),
                 "i": 1, "username": "apache"}  # fmt: skip
    return render(value)["subtitle"]


def test_the_feed_shows_backfilled_messages_in_order_with_the_sentences_of_live_ones(
    history_app, datagrepper, corpus
):
    raw = history("ralph", 40, corpus, days=10)
    datagrepper.archive.add(raw)
    sign_up("ralph")
    Backfiller(history_app).run("ralph")
    _, data = feed_of("ralph")
    entries = data["entries"]
    assert data["history"] is None and len(entries) == 10 and data["more"]
    by_id = {message["id"]: message for message in raw}
    newest_first = sorted(raw, key=lambda m: m["headers"]["sent-at"], reverse=True)
    assert [e["msg_id"] for e in entries] == [m["id"] for m in newest_first[:10]]
    for shown in entries:
        assert shown["subtitle"] == live_sentence(by_id[shown["msg_id"]])
    # A fedora-messaging one reads as its schema class says (the schema corpus's record).
    summaries = {json.dumps(line["body"], sort_keys=True): line["expected"]["summary"]
                 for line in schema_corpus()}  # fmt: skip
    schema_ones = [m for m in raw if "fedora_messaging_schema" in m["headers"]]
    assert schema_ones  # both buses' messages are among them
    for message in db.session.scalars(
        sa.select(Message).where(Message.msg_id.in_([m["id"] for m in schema_ones]))
    ):
        summary = summaries[json.dumps(message.body["msg"], sort_keys=True)]
        assert render(message.body)["subtitle"] == summary


def test_history_beyond_retention_is_not_fetched_and_retention_prunes_it(
    history_app, datagrepper, corpus
):
    history_app.config.update(MESSAGE_RETENTION_DAYS=10, MESSAGE_RETENTION_CAP=50)
    datagrepper.archive.add(history("ralph", 120, corpus, days=20))
    sign_up("ralph")
    assert row("ralph").days == 10
    outcome = Backfiller(history_app).run("ralph")
    (search,) = datagrepper.search_requests()
    assert float(search["start"][0]) >= (utcnow() - dt.timedelta(days=10, minutes=1)).timestamp()
    assert outcome.stored == len(stored_ids("ralph")) < 120
    # Retention by age and by count, as for any message.
    by_time = sorted(
        db.session.execute(
            sa.select(Message.timestamp, Message.msg_id).where(
                Message.msg_id.in_(stored_ids("ralph"))
            )
        ).all()
    )
    assert prune(db.session, days=10, cap=50) > 0
    kept = set(stored_ids("ralph"))
    assert {msg_id for _, msg_id in by_time[-50:]} <= kept and len(kept) < outcome.stored
    five_days_ago = utcnow() - dt.timedelta(days=5)
    prune(db.session, days=5, cap=50)
    assert set(stored_ids("ralph")) == {m for t, m in by_time if t >= five_days_ago} & kept


def test_an_unreachable_datagrepper_leaves_it_pending_says_so_once_and_it_is_retried(
    history_app, datagrepper, corpus, caplog
):
    datagrepper.archive.add(history("ralph", 30, corpus))
    history_app.config["BACKFILL_RETRY_SECONDS"] = 1
    sign_up("ralph")
    backfiller = Backfiller(history_app)
    datagrepper.down = True
    caplog.clear()
    outcome = backfiller.run("ralph")
    assert outcome.error and outcome.stored == 0
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "ralph" in warnings[0].getMessage()
    assert "cannot connect" in warnings[0].getMessage()
    failed = row("ralph")
    assert failed.pending and failed.failures == 1 and failed.claimed_until is None
    assert failed.retry_at > utcnow()
    assert history_state(db.session, ["ralph"]) == UNAVAILABLE
    widget, data = feed_of("ralph")
    html = render_panel(widget, registry["feed"], {"ok": True, "data": data})
    assert with_role(html, "history")[0]["data-state"] == "unavailable"
    browser = history_app.test_client()  # the hub stays usable, and says why it waits
    assert browser.get("/u/ralph/").status_code == 200
    panel = browser.get(f"/u/ralph/w/{widget.id}/")
    assert panel.status_code == 200 and "could not be fetched from datagrepper yet" in panel.text

    assert backfiller.claim() is None  # not before its retry is due
    datagrepper.down = False
    assert wait_until(backfiller.claim, 5) == "ralph"
    assert backfiller.run("ralph").stored == 30
    assert not row("ralph").pending and row("ralph").failures == 0


def test_in_demo_mode_history_comes_from_the_recordings_at_once_and_is_empty(
    history_app, datagrepper, corpus, caplog
):
    """Offline, every person's backfill failed (a warning each, every minute) and every
    hub said its history could not be fetched; the demo's store holds all it has."""
    datagrepper.archive.add(history("ralph", 30, corpus))  # not asked: the recordings are
    history_app.config.update(DEMO_MODE=True, DATAGREPPER_URL=default_config.DATAGREPPER_URL)
    sign_up("ralph")
    caplog.clear()
    outcome = Backfiller(history_app).run("ralph")  # Fedora's address: the offline guard
    assert outcome.error is None and (outcome.pages, outcome.stored) == (1, 0)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert not row("ralph").pending and history_state(db.session, ["ralph"]) is None
    widget, data = feed_of("ralph")
    html = render_panel(widget, registry["feed"], {"ok": True, "data": data})
    assert with_role(html, "history") == []


def test_a_slow_datagrepper_times_out_and_is_tried_again(history_app, datagrepper, corpus):
    datagrepper.archive.add(history("ralph", 5, corpus))
    history_app.config["DATAGREPPER_TIMEOUT"] = (0.5, 0.3)
    sign_up("ralph")
    datagrepper.stall_next(1.0)
    outcome = Backfiller(history_app).run("ralph")
    assert outcome.error.endswith("timed out") and row("ralph").pending


def test_a_429_backs_off_and_the_backfill_succeeds(history_app, datagrepper, corpus):
    datagrepper.archive.add(history("ralph", 150, corpus))
    sign_up("ralph")
    sleeps = Sleeps()
    client = DatagrepperClient(datagrepper.url, (1, 5), politeness=Politeness(0.0, sleep=sleeps))
    datagrepper.answer_next(429, {"Retry-After": "3"})
    outcome = Backfiller(history_app, client=client).run("ralph")
    assert outcome.error is None and outcome.stored == 150
    assert sleeps == [3.0] and client.backed_off == 1


def test_an_interrupted_backfill_resumes_where_it_stopped(history_app, datagrepper, corpus):
    datagrepper.archive.add(history("ralph", 250, corpus))
    sign_up("ralph")
    backfiller = Backfiller(history_app)

    def fail_after_the_first_page(outcome, page):
        datagrepper.down = True

    first = backfiller.run("ralph", progress=fail_after_the_first_page)
    assert first.stored == 100 and first.error
    covered = row("ralph").covered_until
    datagrepper.down = False
    requests_before = len(datagrepper.search_requests())
    second = backfiller.run("ralph")
    assert second.stored == 150 and second.duplicates <= 1
    resumed = datagrepper.search_requests()[requests_before]
    assert float(resumed["start"][0]) == pytest.approx(covered.timestamp(), abs=1)
    assert len(stored_ids("ralph")) == 250


def test_one_runner_at_a_time_holds_a_persons_backfill(history_app):
    sign_up("ralph")
    backend = Backfiller(history_app, claimant="backend-1")
    command = Backfiller(history_app, claimant="fedora-hubs backfill")
    assert backend.claim() == "ralph"
    assert command.claim("ralph") is None and command.holder("ralph") == "backend-1"


def test_a_message_of_the_live_bus_and_its_backfilled_copy_are_stored_once(
    history_app, datagrepper, corpus
):
    raw = history("ralph", 20, corpus)
    datagrepper.archive.add(raw)
    sign_up("ralph")
    from hubs.backend.store import store_message
    from hubs.bus import message_people_and_packages

    live = bus_message(load_message(raw[3]))
    store_message(db.session, live, *message_people_and_packages(live))
    db.session.commit()
    outcome = Backfiller(history_app).run("ralph")
    assert (outcome.stored, outcome.duplicates) == (19, 1)
    assert len(stored_ids("ralph")) == 20


def test_an_invalid_message_of_the_archive_is_counted_and_the_rest_stored(
    history_app, datagrepper, corpus
):
    raw = history("ralph", 10, corpus)
    raw[4] = {**raw[4], "body": "not an object"}  # refused by fedora-messaging's loader
    datagrepper.archive.messages.extend(raw)  # datanommer's own index, not the reader's
    datagrepper.archive._users.extend([frozenset({"ralph"})] * len(raw))
    sign_up("ralph")
    outcome = Backfiller(history_app).run("ralph")
    assert (outcome.stored, outcome.invalid) == (9, 1) and outcome.error is None


def test_the_store_of_an_archive_without_anyone_is_empty(history_app, datagrepper):
    datagrepper.archive = Archive()
    sign_up("ralph")
    outcome = Backfiller(history_app).run("ralph")
    assert (outcome.pages, outcome.stored, outcome.error) == (1, 0, None)
    assert not row("ralph").pending


# -- fedora-hubs backfill ------------------------------------------------------------------


def backfill(app, *args):
    return app.test_cli_runner().invoke(cli, ["backfill", *args], catch_exceptions=False)


def test_the_command_shows_its_progress_and_a_second_run_fetches_only_whats_missing(
    history_app, datagrepper, corpus
):
    datagrepper.archive.add(history("ralph", 250, corpus))
    changes.create_user(db.session, "ralph", "Ralph", None)  # no hub, no request yet
    result = backfill(history_app, "--user", "ralph", "--days", "30")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"backfilling 1 people, 30 days, from {datagrepper.url}"
    progress = [line for line in lines if line.startswith("ralph [")]
    assert len(progress) == 3  # a line per page (not a terminal)
    assert re.fullmatch(
        r"ralph \[#{20}\] page 3/3, 250/250 messages, 250 new, \d+ messages/s", progress[-1]
    )
    assert "ralph: 250 new, 0 there already" in lines
    assert (
        lines[-1] == "done: 250 messages stored, 0 there already, 0 people to try again, 0 skipped"
    )

    again = backfill(history_app, "--user", "ralph")
    assert "ralph: 0 new, 0 there already" in again.output.splitlines()
    assert len(datagrepper.search_requests()) == 4  # one more, for the last minutes
    assert len(stored_ids("ralph")) == 250


def test_the_command_backfills_a_teams_people_or_everyone(history_app, datagrepper, corpus):
    datagrepper.archive.add(history("ralph", 20, corpus) + history("pingou", 10, corpus))
    owner = changes.create_user(db.session, "ralph", "Ralph", None)
    changes.create_user(db.session, "pingou", "Pingou", None)
    changes.create_hub(db.session, "infra", HubType.team, agent="ralph", owner=owner)
    assert "done: 20 messages stored" in backfill(history_app, "--team", "infra").output
    assert "done: 10 messages stored" in backfill(history_app).output  # ralph had his


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--user", "nobody"], "Hubs has no account 'nobody'"),
        (["--team", "nowhere"], "no team hub named 'nowhere'"),
        (["--days", "0"], "must be at least 1"),
    ],
)
def test_the_command_refuses_what_it_cannot_do(history_app, args, message):
    result = history_app.test_cli_runner().invoke(cli, ["backfill", *args])
    assert result.exit_code == 2 and message in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Backfill)) == 0


def test_the_command_says_so_when_datagrepper_is_down(history_app, datagrepper):
    changes.create_user(db.session, "ralph", "Ralph", None)
    datagrepper.down = True
    result = history_app.test_cli_runner().invoke(cli, ["backfill", "--user", "ralph"])
    assert result.exit_code == 1
    assert "ralph: 127.0.0.1:" in result.output and "cannot connect; left to try again" in (
        result.output
    )
    assert row("ralph").pending


def test_the_command_beside_a_running_backend_stores_each_message_once(
    history_app, datagrepper, corpus
):
    datagrepper.archive.add(history("ralph", 150, corpus) + history("pingou", 60, corpus))
    for name in ("ralph", "pingou"):
        sign_up(name)  # pending rows the backend's thread takes
    holder = Backfiller(history_app, claimant="backend-1")
    assert holder.claim("pingou") == "pingou"
    backend = Backend(history_app, publisher=RecordingPublisher(), workers=1, instance="b1")
    try:
        result = backfill(history_app)
        assert "pingou: being fetched by backend-1; skipped" in result.output
        holder.run("pingou")

        def none_pending() -> bool:
            db.session.rollback()  # a new snapshot (SQLite keeps the old one otherwise)
            query = sa.select(sa.func.count()).select_from(Backfill).where(Backfill.pending)
            return db.session.scalar(query) == 0

        assert wait_until(none_pending, 20)
    finally:
        backend.close()
    ids = db.session.scalars(sa.select(Message.msg_id)).all()
    assert len(ids) == len(set(ids)) == 210
