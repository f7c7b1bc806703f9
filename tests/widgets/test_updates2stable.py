"""The updates2stable widget against recorded Bodhi answers: which updates may go to
stable, its empty, unset and error states, and the bus messages that make it stale."""

import datetime as dt
import json
import pathlib

import pytest
import requests
import responses
from responses import matchers

from hubs.bus import message_people_and_packages
from hubs.clients import ServiceUnavailable
from hubs.clients.bodhi import BodhiClient
from hubs.messages import topic_suffix
from hubs.rendering import render_panel
from hubs.widgets import registry
from hubs.widgets.base import InvalidConfig
from tests import factories
from tests.html import with_role

RECORDED = pathlib.Path(__file__).resolve().parents[1] / "data" / "bodhi"
BODHI = "https://bodhi.fedoraproject.org/"
UPDATES = f"{BODHI}updates/"
DOWN = "Could not reach bodhi.fedoraproject.org right now."
WIDGET = registry["updates2stable"]


def recorded(name: str) -> dict:
    return json.loads((RECORDED / name).read_text())


def query_of(user: str, rows: int = 100, page: int = 1) -> dict:
    return {"user": user, "status": "testing", "rows_per_page": str(rows), "page": str(page)}


@pytest.fixture
def service():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for user in ("ralph", "newcomer"):
            mock.get(
                UPDATES,
                json=recorded(f"updates-{user}.json"),
                match=[
                    matchers.query_param_matcher(query_of(user)),
                    matchers.header_matcher({"Accept": "application/json"}),
                ],
            )
        yield mock


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    """The widget counts days in testing from a fixed now, a week after the recordings."""
    now = dt.datetime(2019, 6, 20, 12, 0, tzinfo=dt.UTC)
    monkeypatch.setattr("hubs.widgets.updates2stable._now", lambda: now)


def test_only_updates_ready_for_stable_longest_waiting_first(
    app_context, session, ralph_hub, service
):
    widget = factories.widget(session, ralph_hub, "updates2stable", limit=2)
    data = WIDGET.compute(session, widget)
    assert len(service.calls) == 1
    # Of five in testing: one already requested for stable, one short of its requirements.
    assert data["total"] == 3 and data["username"] == "ralph"
    first, second = data["updates"]
    assert first == {
        "alias": "FEDORA-EPEL-2019-7e2a9c4f13",
        "title": "fedmsg-0.20.0-1.el7",
        "builds": ["fedmsg-0.20.0-1.el7"],
        "release": "EPEL-7",
        "karma": 1,
        "stable_karma": 1,
        "days_in_testing": 15,
        "url": f"{BODHI}updates/FEDORA-EPEL-2019-7e2a9c4f13",
    }
    assert second["alias"] == "FEDORA-2019-0d4f6b9a71" and second["days_in_testing"] == 8
    assert second["builds"] == [
        "python-fedmsg-meta-fedora-infrastructure-0.31.0-1.fc29",
        "fedmsg-0.20.0-1.fc29",
    ]
    assert data["all_updates"] == f"{UPDATES}?user=ralph&status=testing"


def test_the_default_limit_shows_all_three(app_context, session, ralph_hub, service):
    data = WIDGET.compute(session, factories.widget(session, ralph_hub, "updates2stable"))
    shown = [
        (u["alias"], u["karma"], u["stable_karma"], u["days_in_testing"]) for u in data["updates"]
    ]
    assert shown == [
        ("FEDORA-EPEL-2019-7e2a9c4f13", 1, 1, 15),
        ("FEDORA-2019-0d4f6b9a71", 0, 3, 8),
        ("FEDORA-2019-5c1d2a7e8b", 2, 3, 7),
    ]


def test_renders_each_update_with_its_link_release_karma_and_days(
    app_context, session, ralph_hub, service
):
    widget = factories.widget(session, ralph_hub, "updates2stable", limit=2)
    html = render_panel(widget, WIDGET, {"ok": True, "data": WIDGET.compute(session, widget)})
    assert [u["data-alias"] for u in with_role(html, "update")] == [
        "FEDORA-EPEL-2019-7e2a9c4f13",
        "FEDORA-2019-0d4f6b9a71",
    ]
    assert [a["href"] for a in with_role(html, "update-link")] == [
        f"{BODHI}updates/FEDORA-EPEL-2019-7e2a9c4f13",
        f"{BODHI}updates/FEDORA-2019-0d4f6b9a71",
    ]
    assert "karma 1 of 1" in html and "15 days in testing" in html and "EPEL-7" in html
    assert "python-fedmsg-meta-fedora-infrastructure-0.31.0-1.fc29, fedmsg-0.20.0-1.fc29" in html
    more = with_role(html, "all-updates")
    assert more[0]["href"] == f"{UPDATES}?user=ralph&status=testing"
    assert "1 more ready for stable on Bodhi" in html
    assert not with_role(html, "empty")


def test_someone_with_nothing_in_testing(app_context, session, service):
    hub = factories.hub(session, "infra")
    widget = factories.widget(session, hub, "updates2stable", username="newcomer")
    data = WIDGET.compute(session, widget)
    assert data["updates"] == [] and data["total"] == 0 and data["username"] == "newcomer"
    html = render_panel(widget, WIDGET, {"ok": True, "data": data})
    assert not with_role(html, "update")
    assert with_role(html, "empty")
    assert "None of newcomer's updates in testing can be pushed to stable yet." in html


def test_a_team_hub_without_username_asks_for_one(app_context, session):
    hub = factories.hub(session, "infra")
    widget = factories.widget(session, hub, "updates2stable")
    with responses.RequestsMock() as mock:  # nothing may be asked of Bodhi
        data = WIDGET.compute(session, widget)
        assert len(mock.calls) == 0
    assert data == {"username": "", "updates": [], "total": 0}
    html = render_panel(widget, WIDGET, {"ok": True, "data": data})
    assert "Set a username in this widget's settings" in html


@pytest.mark.parametrize(
    "answer",
    [
        {"total": 0, "page": 1, "pages": 0, "rows_per_page": 100},  # no "updates"
        {"updates": {}, "total": 0, "page": 1, "pages": 0, "rows_per_page": 100},
        ["not", "an", "object"],
    ],
)
def test_a_malformed_page_is_an_error_state(app_context, session, ralph_hub, answer):
    widget = factories.widget(session, ralph_hub, "updates2stable")
    with responses.RequestsMock() as mock:
        mock.get(UPDATES, json=answer)
        envelope = WIDGET.build(session, widget)
    assert envelope["ok"] is False and envelope["public_error"] == DOWN
    assert with_role(envelope["html"], "widget-error-reason")


@pytest.mark.parametrize(
    ("field", "value"),
    [("karma", "2"), ("meets_testing_requirements", "yes"), ("builds", None), ("user", "ralph")],
)
def test_an_update_of_the_wrong_shape_is_an_error_state(
    app_context, session, ralph_hub, field, value
):
    answer = recorded("updates-ralph.json")
    answer["updates"][2][field] = value
    widget = factories.widget(session, ralph_hub, "updates2stable")
    with responses.RequestsMock() as mock:
        mock.get(UPDATES, json=answer)
        envelope = WIDGET.build(session, widget)
    assert envelope["ok"] is False and envelope["public_error"] == DOWN
    html = envelope["html"]
    assert "Could not reach bodhi.fedoraproject.org" in html and not with_role(html, "update")


def test_a_failing_service_is_an_error_state(app_context, session, ralph_hub):
    widget = factories.widget(session, ralph_hub, "updates2stable")
    with responses.RequestsMock() as mock:
        mock.get(UPDATES, status=503, body="<html>Service Unavailable</html>")
        envelope = WIDGET.build(session, widget)
    assert envelope["ok"] is False and envelope["public_error"] == DOWN
    assert "Service Unavailable</html>" not in envelope["html"]


def test_the_client_reads_every_page():
    client = BodhiClient(BODHI, (1, 1), rows_per_page=2)
    with responses.RequestsMock() as mock:
        for page in (1, 2):
            mock.get(
                UPDATES,
                json=recorded(f"updates-kalev-page{page}.json"),
                match=[matchers.query_param_matcher(query_of("kalev", rows=2, page=page))],
            )
        updates = client.updates_in_testing("kalev")
        assert len(mock.calls) == 2
    assert [u.alias for u in updates] == [
        "FEDORA-2019-1f0b7c3e5a",
        "FEDORA-2019-46910daf41",
        "FEDORA-2019-9c4e2b6d8f",
    ]
    assert [u.can_be_pushed_to_stable for u in updates] == [False, True, True]
    assert updates[1].date_testing == dt.datetime(2019, 6, 11, 0, 43, 51, tzinfo=dt.UTC)
    assert {u.submitter for u in updates} == {"kalev"}


def test_the_client_stops_at_its_page_limit():
    client = BodhiClient(BODHI, (1, 1), rows_per_page=2, max_pages=1)
    with responses.RequestsMock() as mock:
        mock.get(UPDATES, json=recorded("updates-kalev-page1.json"))
        assert len(client.updates_in_testing("kalev")) == 2
        assert len(mock.calls) == 1


def test_the_client_names_the_service_when_it_is_down():
    client = BodhiClient(BODHI, (1, 1))
    with responses.RequestsMock() as mock:
        mock.get(UPDATES, body=requests.ConnectionError("no route"))
        with pytest.raises(ServiceUnavailable) as error:
            client.updates_in_testing("ralph")
    assert str(error.value) == DOWN and "no route" in error.value.detail


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"limit": 0}, "limit: must be between 1 and 50"),
        ({"limit": 51}, "limit: must be between 1 and 50"),
        ({"limit": "ten"}, "limit: must be a whole number"),
        ({"username": "not a user!"}, "username: must be a Fedora account name"),
    ],
)
def test_settings_are_validated(raw, message):
    with pytest.raises(InvalidConfig) as error:
        WIDGET.validate_config(raw)
    assert str(error.value) == message


def test_settings_defaults_and_good_values():
    assert WIDGET.validate_config({}) == {"username": "", "limit": 10}
    assert WIDGET.validate_config({"username": " kalev ", "limit": "50"}) == {
        "username": "kalev",
        "limit": 50,
    }


# Corpus messages about updates each user submitted, by topic.
SUBMITTED = {
    "ralph": [
        "bodhi.update.complete.testing",
        "bodhi.update.complete.testing",
        "bodhi.update.edit",
        "bodhi.update.karma.threshold",
    ],
    "lmacken": [
        "bodhi.update.request.obsolete",
        "bodhi.update.request.revoke",
        "bodhi.update.request.stable",
        "bodhi.update.request.unpush",
    ],
    "hadess": ["bodhi.update.request.testing", "bodhi.update.request.testing"],
    "kalev": ["bodhi.update.comment"],
    "elyscape": ["bodhi.update.requirements_met.stable"],
}


@pytest.mark.parametrize("user", sorted(SUBMITTED))
def test_reacts_to_messages_about_its_users_updates(app_context, session, corpus, user):
    hub = factories.hub(session, "infra")
    widget = factories.widget(session, hub, "updates2stable", username=user)
    stale = [e for e in corpus if WIDGET.should_invalidate(e["msg"], session, widget)]
    assert sorted(topic_suffix(e["topic"]) for e in stale) == SUBMITTED[user]
    for entry in stale:  # the hint index offers each of them to this widget
        assert topic_suffix(entry["topic"]) in WIDGET.hints.topics
        assert user in message_people_and_packages(entry["msg"])[0]
        assert user in WIDGET.hints.usernames(session, widget)


def test_ignores_what_ralph_did_to_others_and_his_published_errata(
    app_context, session, ralph_hub, corpus
):
    widget = factories.widget(session, ralph_hub, "updates2stable")
    check = WIDGET.should_invalidate
    about_ralph = [e for e in corpus if "ralph" in message_people_and_packages(e["msg"])[0]]
    stale = [e for e in about_ralph if check(e["msg"], session, widget)]
    assert len(stale) == 4
    # ralph commenting on an update (no submitter in the message), an erratum already
    # published: neither changes which of his updates wait in testing.
    skipped = {topic_suffix(e["topic"]) for e in about_ralph if e not in stale}
    assert {"bodhi.update.comment", "bodhi.errata.publish"} <= skipped
    others = [e["msg"] for e in corpus if e not in stale]
    assert len(others) == len(corpus) - 4
    assert not any(check(message, session, widget) for message in others)


def test_a_widget_without_user_reacts_to_nothing(app_context, session, corpus):
    widget = factories.widget(session, factories.hub(session, "infra"), "updates2stable")
    assert WIDGET.hints.usernames(session, widget) == []
    assert not any(WIDGET.should_invalidate(e["msg"], session, widget) for e in corpus)


def test_the_hub_page_says_when_bodhi_is_down(client, session, ralph_hub):
    widget = factories.widget(session, ralph_hub, "updates2stable")
    session.commit()
    panel = client.get(widget.url_path)  # the offline fixture makes Bodhi unreachable
    assert panel.status_code == 200
    assert with_role(panel.text, "widget-error-reason") and DOWN in panel.text
    page = client.get("/u/ralph/")
    assert page.status_code == 200
    assert "Could not reach bodhi.fedoraproject.org" in page.text
