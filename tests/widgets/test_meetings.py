"""The meetings widget against recorded fedocal answers (at a fixed "now"), its empty and
error states, its hints over the real bus corpus, and a hub page with fedocal down."""

import datetime as dt
import json
import pathlib
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from responses import matchers

from hubs.messages import topic_suffix
from hubs.models import HubType, Role
from hubs.rendering import render_panel
from hubs.widgets import meetings, registry
from hubs.widgets.base import InvalidConfig
from tests import factories
from tests.html import with_role

RECORDED = pathlib.Path(__file__).resolve().parents[1] / "data" / "fedocal"
FEDOCAL = "https://apps.fedoraproject.org/calendar/"
API = f"{FEDOCAL}api/meetings/"
NOW = dt.datetime(2025, 12, 1, 12, 0, tzinfo=dt.UTC)
DOWN = "Could not reach apps.fedoraproject.org right now."


def recorded(name: str) -> dict:
    return json.loads((RECORDED / f"meetings-{name}.json").read_text())


def weekly_with(**fields) -> dict:
    """The recorded weekly meeting with some fields replaced."""
    return {**recorded("infrastructure")["meetings"][2], **fields}


def query_of(call) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


@pytest.fixture
def clock(monkeypatch):
    monkeypatch.setattr(meetings, "utcnow", lambda: NOW)


@pytest.fixture
def service(clock):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        window = {"start": "2025-11-30", "end": "2025-12-31"}
        mock.get(
            API,
            match=[matchers.query_param_matcher({"calendar": "infrastructure", **window})],
            json=recorded("infrastructure"),
        )
        mock.get(
            API,
            match=[matchers.query_param_matcher({"calendar": "design"}, strict_match=False)],
            json=recorded("design"),
        )
        mock.get(
            API,
            match=[matchers.query_param_matcher({"calendar": "nosuchteam", **window})],
            status=400,
            json=recorded("unknown-calendar"),
        )
        yield mock


@pytest.fixture
def infra(session):
    return factories.hub(session, "infrastructure")


def test_next_meetings_soonest_first_with_a_limit(app_context, session, infra, service):
    widget = factories.widget(session, infra, "meetings")
    answer = registry["meetings"].call_data(session, widget)
    data = answer.data

    assert len(service.calls) == 1
    assert query_of(service.calls[0]) == {
        "calendar": ["infrastructure"],
        "start": ["2025-11-30"],
        "end": ["2025-12-31"],
    }
    assert data["calendar"] == "infrastructure"
    assert data["calendar_url"] == f"{FEDOCAL}infrastructure/"
    # The hack session ended at 10:00; the weekly meeting of the 18th is past the limit of 4.
    assert [(m["id"], m["start"]) for m in data["meetings"]] == [
        (11004, "2025-12-01T11:30:00+00:00"),
        (10990, "2025-12-02T14:00:00+00:00"),
        (10962, "2025-12-04T16:00:00+00:00"),
        (10962, "2025-12-11T16:00:00+00:00"),
    ]
    first, office_hours, weekly = data["meetings"][:3]
    assert first["name"] == "Infrastructure ticket triage"
    assert first["end"] == "2025-12-01T12:30:00+00:00"
    assert first["when"] == "Mon 1 Dec 2025, 11:30-12:30 UTC"
    assert first["local"] == "11:30 Europe/London"
    assert [m["ongoing"] for m in data["meetings"]] == [True, False, False, False]
    # Good until the triage session ends: then the list must change with no message.
    assert answer.fresh_until == dt.datetime(2025, 12, 1, 12, 30, tzinfo=dt.UTC).timestamp()
    assert "fresh_until" not in data
    assert first["location"] == "fedora-meeting-1@irc.libera.chat"
    assert first["managers"] == ["zlopez"]
    assert first["url"] == f"{FEDOCAL}meeting/11004/?from_date=2025-12-01"
    assert (
        'href="https://forge.fedoraproject.org/infra/tickets/issues"' in first["description_html"]
    )
    assert "<script" not in first["description_html"]
    # Times are UTC in fedocal's answer; the meeting's own zone only adds its local time.
    assert office_hours["local"] == "09:00 America/New_York"
    assert office_hours["location"] == "" and office_hours["description_html"] == ""
    assert weekly["local"] == "" and weekly["when"] == "Thu 4 Dec 2025, 16:00-17:00 UTC"
    assert weekly["url"] == f"{FEDOCAL}meeting/10962/?from_date=2025-12-04"
    json.dumps(data)  # cacheable as JSON

    fewer = factories.widget(session, infra, "meetings", n_meetings=2)
    names = [m["name"] for m in registry["meetings"].compute(session, fewer)["meetings"]]
    assert names == ["Infrastructure ticket triage", "Infrastructure office hours"]


def test_the_window_follows_the_days_setting(app_context, session, service):
    hub = factories.hub(session, "design")
    widget = factories.widget(session, hub, "meetings", days=7)
    registry["meetings"].compute(session, widget)
    assert query_of(service.calls[-1]) == {
        "calendar": ["design"],
        "start": ["2025-11-30"],
        "end": ["2025-12-08"],
    }


def test_renders_the_meetings_with_links_to_fedocal(app_context, session, infra, service):
    widget = factories.widget(session, infra, "meetings")
    data = registry["meetings"].compute(session, widget)
    html = render_panel(widget, registry["meetings"], {"ok": True, "data": data})

    items = with_role(html, "meeting")
    assert [item["data-meeting-id"] for item in items] == ["11004", "10990", "10962", "10962"]
    links = [link["href"] for link in with_role(html, "meeting-link")]
    assert links[0] == f"{FEDOCAL}meeting/11004/?from_date=2025-12-01"
    assert len(with_role(html, "meeting-ongoing")) == 1 and "Happening now" in html
    assert [t["datetime"] for t in with_role(html, "meeting-when")][1] == (
        "2025-12-02T14:00:00+00:00"
    )
    assert "(09:00 America/New_York)" in html
    assert len(with_role(html, "meeting-description")) == 3  # office hours has none
    assert "<script" not in html  # bleach strips the tag, its text stays harmless
    assert [a["href"] for a in with_role(html, "calendar-link")] == [f"{FEDOCAL}infrastructure/"]
    assert not with_role(html, "empty")


def test_a_calendar_with_nothing_planned(app_context, session, service):
    hub = factories.hub(session, "design")
    widget = factories.widget(session, hub, "meetings")
    data = registry["meetings"].compute(session, widget)
    assert data["meetings"] == [] and data["calendar"] == "design"
    html = render_panel(widget, registry["meetings"], {"ok": True, "data": data})
    assert len(with_role(html, "empty")) == 1
    assert "No meetings planned in the next 30 days" in html
    assert [a["href"] for a in with_role(html, "calendar-link")] == [f"{FEDOCAL}design/"]
    assert not with_role(html, "meeting")


def test_a_calendar_fedocal_does_not_know(app_context, session, infra, service):
    widget = factories.widget(session, infra, "meetings", calendar="nosuchteam")
    envelope = registry["meetings"].build(session, widget)
    assert envelope["ok"] is True
    assert envelope["data"]["unknown_calendar"] is True and envelope["data"]["meetings"] == []
    assert len(with_role(envelope["html"], "empty")) == 1
    assert "Fedocal has no calendar named “nosuchteam”" in envelope["html"]


def test_a_user_hub_without_a_calendar_asks_for_one(app_context, session, service):
    user = factories.user(session, "kevin")
    hub = factories.hub(session, "kevin", HubType.user)
    factories.role(session, hub, user, Role.owner)
    widget = factories.widget(session, hub, "meetings")
    data = registry["meetings"].compute(session, widget)
    assert data["calendar"] == "" and data["meetings"] == []
    assert len(service.calls) == 0
    html = render_panel(widget, registry["meetings"], {"ok": True, "data": data})
    assert len(with_role(html, "empty")) == 1
    assert "Set which fedocal calendar to show in this widget's settings." in html


@pytest.mark.parametrize(
    "answer",
    [
        {"json": {"meetings": [{"meeting_name": "no id"}]}},
        {"json": {"meetings": "none"}},
        {"json": ["not", "an", "object"]},
        {"json": {"arguments": {}}},
        {"json": {"meetings": [weekly_with(meeting_id="7")]}},
        {"json": {"meetings": [weekly_with(meeting_date=2)]}},
        {"json": {"meetings": [weekly_with(meeting_manager=3)]}},
        {"json": {"meetings": [weekly_with(meeting_time_stop="25:00:00")]}},
        {"body": "<html>maintenance</html>"},
        {"status": 500, "json": {"error": "Internal Server Error"}},
        {"status": 400, "json": {"meetings": [], "error": "Invalid start date format: x"}},
        {"body": requests.ConnectionError("no route")},
    ],
)
def test_failures_and_garbage_are_the_error_state(app_context, session, infra, clock, answer):
    widget = factories.widget(session, infra, "meetings")
    with responses.RequestsMock() as mock:
        mock.get(API, **answer)
        envelope = registry["meetings"].build(session, widget)
    assert envelope["ok"] is False
    assert envelope["public_error"] == DOWN
    assert with_role(envelope["html"], "widget-error-reason") and DOWN in envelope["html"]


def test_settings_are_validated(app_context):
    widget_type = registry["meetings"]
    assert widget_type.validate_config({"calendar": " council "}) == {
        "calendar": "council",
        "n_meetings": 4,
        "days": 30,
    }
    for bad in ({"calendar": "a/b"}, {"calendar": "x" * 81}, {"calendar": 3}):
        with pytest.raises(InvalidConfig) as error:
            widget_type.validate_config(bad)
        assert set(error.value.errors) == {"calendar"}
    with pytest.raises(InvalidConfig) as error:
        widget_type.validate_config({"n_meetings": 21, "days": 0})
    assert error.value.errors == {
        "n_meetings": "must be between 1 and 20",
        "days": "must be between 1 and 180",
    }


def test_reacts_to_fedocal_messages_about_its_calendar(app_context, session, infra, corpus):
    check = registry["meetings"].should_invalidate
    hints = registry["meetings"].hints
    fedocal = [e["msg"] for e in corpus if ".fedocal." in e["topic"]]
    assert len(fedocal) == 6
    assert {meetings.message_calendar(message) for message in fedocal} == {"awesome"}
    suffixes = [topic_suffix(message["topic"]) for message in fedocal]
    assert all(hints.matches_topic(suffix, "fedocal") for suffix in suffixes)
    others = [e["msg"] for e in corpus if ".fedocal." not in e["topic"]]
    assert len(others) == len(corpus) - 6

    configured = factories.widget(session, infra, "meetings", calendar="awesome")
    by_hub_name = factories.widget(session, factories.hub(session, "awesome"), "meetings")
    for widget in (configured, by_hub_name):
        assert sum(check(message, session, widget) for message in fedocal) == 6
        assert not any(check(message, session, widget) for message in others)

    own = factories.widget(session, infra, "meetings")
    user_hub = factories.widget(session, factories.hub(session, "ralph", HubType.user), "meetings")
    for widget in (own, user_hub):
        assert not any(check(e["msg"], session, widget) for e in corpus)


def test_hub_page_shows_fedocal_is_down(client, session, infra):
    widget = factories.widget(session, infra, "meetings")
    session.commit()
    panel = client.get(widget.url_path)  # the offline fixture makes fedocal unreachable
    assert panel.status_code == 200
    assert DOWN in panel.text and with_role(panel.text, "widget-error-reason")
    page = client.get("/t/infrastructure/")
    assert page.status_code == 200
    assert DOWN in page.text
    [panel_on_page] = [w for w in with_role(page.text, "widget") if w["data-plugin"] == "meetings"]
    assert panel_on_page["data-state"] == "error"
