"""The badges widget against recorded Fedora Badges answers, its error state when the
service is down (shown without details, not retried on every view), and its hints."""

import json
import pathlib

import pytest
import requests
import responses

from hubs.bus import message_people_and_packages
from hubs.rendering import render_panel
from hubs.widgets import registry
from tests import factories
from tests.html import with_role

RECORDED = pathlib.Path(__file__).resolve().parents[1] / "data" / "badges"
BADGES = "https://badges.fedoraproject.org/"


@pytest.fixture
def service():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for user in ("ralph", "newcomer"):
            mock.get(
                f"{BADGES}user/{user}/json",
                json=json.loads((RECORDED / f"user-{user}.json").read_text()),
            )
        yield mock


def test_badges_newest_first_with_a_limit(app_context, session, ralph_hub, service):
    widget = factories.widget(session, ralph_hub, "badges", limit=2)
    data = registry["badges"].compute(session, widget)
    assert [b["id"] for b in data["badges"]] == ["white-rabbit", "speak-up!"]
    assert data["total"] == 3 and data["profile"] == f"{BADGES}user/ralph"
    html = render_panel(widget, registry["badges"], {"ok": True, "data": data})
    assert len(with_role(html, "badge")) == 2 and "All 3 badges" in html
    # Each badge's name is text on the page, not only a tooltip or a picture's alt.
    assert len(with_role(html, "badge-name")) == 2
    assert '<span class="d-block" data-role="badge-name">White Rabbit</span>' in html


def test_someone_without_badges_and_a_team_without_a_user(app_context, session, service):
    hub = factories.hub(session, "design")
    newcomer = factories.widget(session, hub, "badges", username="newcomer")
    data = registry["badges"].compute(session, newcomer)
    assert data["badges"] == [] and data["username"] == "newcomer"
    unset = registry["badges"].compute(session, factories.widget(session, hub, "badges"))
    assert unset == {"username": "", "badges": [], "total": 0}
    html = render_panel(newcomer, registry["badges"], {"ok": True, "data": data})
    assert "has no badges yet" in html


def test_a_dead_service_shows_its_name_and_is_not_hammered(client, session, ralph_hub):
    widget = factories.widget(session, ralph_hub, "badges")
    session.commit()
    with responses.RequestsMock() as mock:
        mock.get(f"{BADGES}user/ralph/json", body=requests.ConnectionError("no route"))
        for _ in range(3):
            panel = client.get(widget.url_path)
            assert panel.status_code == 200
            reason = with_role(panel.text, "widget-error-reason")
            assert reason and "Could not reach badges.fedoraproject.org" in panel.text
            assert "no route" not in panel.text  # details stay in the log
        assert len(mock.calls) == 1  # the failure is cached for a while
    page = client.get("/u/ralph/")
    assert page.status_code == 200 and "Could not reach badges.fedoraproject.org" in page.text


SCRIPT_IMAGE = {"id": "x", "name": "x", "image": "javascript:alert(1)", "issued": 1}


@pytest.mark.parametrize("assertion", [{"name": "no id"}, SCRIPT_IMAGE])
def test_garbage_from_the_service_is_an_error_state(app_context, session, ralph_hub, assertion):
    widget = factories.widget(session, ralph_hub, "badges")
    with responses.RequestsMock() as mock:
        mock.get(f"{BADGES}user/ralph/json", json={"assertions": [assertion]})
        envelope = registry["badges"].build(session, widget)
    assert envelope["ok"] is False
    assert envelope["public_error"] == "Could not reach badges.fedoraproject.org right now."


def test_reacts_to_fedbadges_messages_about_its_user(app_context, session, ralph_hub, corpus):
    widget = factories.widget(session, ralph_hub, "badges")
    check = registry["badges"].should_invalidate
    assert "fedbadges" in registry["badges"].hints.categories
    badge_news = [
        e["msg"] for e in corpus
        if ".fedbadges." in e["topic"] and "ralph" in message_people_and_packages(e["msg"])[0]
    ]  # fmt: skip
    assert len(badge_news) == 2
    assert all(check(message, session, widget) for message in badge_news)
    others = [e["msg"] for e in corpus if e["msg"] not in badge_news]
    assert not any(check(message, session, widget) for message in others)
