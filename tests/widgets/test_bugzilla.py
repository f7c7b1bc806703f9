"""The bugzilla widget against recorded Red Hat Bugzilla answers: the search it makes, its
normal, empty, unset and error states, its settings, and the bus messages it reacts to."""

import json
import pathlib
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from flask import current_app

from hubs.clients.bugzilla import OPEN_STATUSES
from hubs.rendering import render_panel
from hubs.widgets import registry
from hubs.widgets.base import InvalidConfig
from hubs.widgets.bugzilla import packages_text
from tests import factories
from tests.html import role_texts, widget_states, with_role

RECORDED = pathlib.Path(__file__).resolve().parents[1] / "data" / "bugzilla"
BUGZILLA = "https://bugzilla.redhat.com/"
SEARCH = f"{BUGZILLA}rest/bug"
WATCHED = "rpm, vtk, python-alembic"
FIELDS = (
    "id,summary,status,component,product,priority,severity,assigned_to,"
    "creation_time,last_change_time"
)


def recorded(name: str) -> dict:
    return json.loads((RECORDED / f"{name}.json").read_text())


def query_of(call) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


def draw(widget, data) -> str:
    return render_panel(widget, registry["bugzilla"], {"ok": True, "data": data})


@pytest.fixture
def team(session):
    owner = factories.user(session, "orion")
    hub = factories.hub(session, "sci-tech")
    factories.role(session, hub, owner, factories.Role.owner)
    return hub


def test_open_bugs_of_the_packages_newest_change_first(app_context, session, team):
    widget = factories.widget(session, team, "bugzilla", packages=WATCHED)
    with responses.RequestsMock() as mock:
        mock.get(SEARCH, json=recorded("open-bugs"))
        data = registry["bugzilla"].compute(session, widget)
        calls = list(mock.calls)  # the mock forgets them when it stops
    assert len(calls) == 1
    assert urlsplit(calls[0].request.url).path == "/rest/bug"
    assert query_of(calls[0]) == {
        "product": ["Fedora", "Fedora EPEL"],
        "component": ["rpm", "vtk", "python-alembic"],
        "bug_status": list(OPEN_STATUSES),
        "order": ["changeddate DESC"],
        "include_fields": [FIELDS],
        "limit": ["10"],
    }
    assert "CLOSED" not in OPEN_STATUSES and {"NEW", "ASSIGNED", "ON_QA"} <= set(OPEN_STATUSES)
    assert [b["id"] for b in data["bugs"]] == [1729341, 1717615, 1639117, 1321709]
    assert [b["component"] for b in data["bugs"]] == ["vtk", "vtk", "python-alembic", "rpm"]
    assert [b["status"] for b in data["bugs"]] == ["POST", "NEW", "ASSIGNED", "NEW"]
    first = data["bugs"][0]
    assert first["summary"] == "vtk: build for EPEL 8" and first["severity"] == "medium"
    assert first["url"] == f"{BUGZILLA}show_bug.cgi?id=1729341"
    assert first["last_change"] == "2019-07-16T14:03:21+00:00"
    assert data["packages"] == ["rpm", "vtk", "python-alembic"] and data["total"] == 4
    search = urlsplit(data["search_url"])
    assert f"{search.scheme}://{search.netloc}{search.path}" == f"{BUGZILLA}buglist.cgi"
    assert parse_qs(search.query) == {
        "product": ["Fedora", "Fedora EPEL"],
        "component": ["rpm", "vtk", "python-alembic"],
        "bug_status": list(OPEN_STATUSES),
        "order": ["changeddate DESC"],
    }

    html = draw(widget, data)
    assert [b["data-bug-id"] for b in with_role(html, "bug")] == [
        "1729341", "1717615", "1639117", "1321709",
    ]  # fmt: skip
    assert with_role(html, "bug-link")[1]["href"] == f"{BUGZILLA}show_bug.cgi?id=1717615"
    assert "VTK inoperative on NVidia" in html
    assert [link["href"] for link in with_role(html, "bugs-search")] == [data["search_url"]]
    assert "These bugs on Bugzilla" in html and not with_role(html, "empty")
    # Said when drawn, from the time in the data.
    assert all(text.endswith(" years ago") for text in role_texts(html, "bug-changed"))


def test_a_limit_asks_for_fewer_and_links_to_all(app_context, session, team):
    widget = factories.widget(session, team, "bugzilla", packages=WATCHED, limit=2)
    answer = recorded("open-bugs")
    answer.update(bugs=answer["bugs"][:2], limit=2)  # total_matches still counts all 4
    with responses.RequestsMock() as mock:
        mock.get(SEARCH, json=answer)
        data = registry["bugzilla"].compute(session, widget)
        assert query_of(mock.calls[0])["limit"] == ["2"]
    assert [b["id"] for b in data["bugs"]] == [1729341, 1717615] and data["total"] == 4
    html = draw(widget, data)
    assert len(with_role(html, "bug")) == 2 and "All 4 open bugs on Bugzilla" in html


def test_a_server_ignoring_the_limit_is_cut_to_it(app_context, session, team):
    widget = factories.widget(session, team, "bugzilla", packages=WATCHED, limit=3)
    with responses.RequestsMock() as mock:
        mock.get(SEARCH, json=recorded("open-bugs"))
        data = registry["bugzilla"].compute(session, widget)
    assert [b["id"] for b in data["bugs"]] == [1729341, 1717615, 1639117]


def test_packages_without_open_bugs(app_context, session, team):
    widget = factories.widget(session, team, "bugzilla", packages="rpm, vtk")
    with responses.RequestsMock() as mock:
        mock.get(SEARCH, json=recorded("no-open-bugs"))
        data = registry["bugzilla"].compute(session, widget)
        assert query_of(mock.calls[0])["component"] == ["rpm", "vtk"]
    assert data["bugs"] == [] and data["total"] == 0 and data["packages"] == ["rpm", "vtk"]
    html = draw(widget, data)
    empty = with_role(html, "empty")
    assert empty and "No open bugs in rpm, vtk." in html and not with_role(html, "bug")
    assert with_role(html, "bugs-search")[0]["href"] == data["search_url"]


def test_no_packages_set_asks_for_them_without_calling_bugzilla(app_context, session, team):
    widget = factories.widget(session, team, "bugzilla")
    with responses.RequestsMock() as mock:
        data = registry["bugzilla"].compute(session, widget)
        assert len(mock.calls) == 0
    assert data == {"packages": [], "bugs": [], "total": 0, "search_url": ""}
    html = draw(widget, data)
    assert with_role(html, "empty") and not with_role(html, "bugs-search")
    assert "Set the packages whose bugs to show in this widget's settings." in html


@pytest.mark.parametrize(
    "answer",
    [
        {"json": recorded("error")},  # Bugzilla's error document
        {"json": recorded("error"), "status": 400},
        {"json": {"bugs": [{"id": "1321709", "summary": "id is text"}]}},
        {"json": {"faults": []}},  # no bugs at all
        {"json": {**recorded("open-bugs"), "total_matches": "4"}},
        {"body": "<html>Bugzilla is down for maintenance</html>"},
    ],
)
def test_errors_and_nonsense_are_an_error_state(app_context, session, team, answer):
    widget = factories.widget(session, team, "bugzilla", packages=WATCHED)
    with responses.RequestsMock() as mock:
        mock.get(SEARCH, **answer)
        envelope = registry["bugzilla"].build(session, widget)
    assert envelope["ok"] is False
    assert envelope["public_error"] == "Could not reach bugzilla.redhat.com right now."
    html = envelope["html"]
    assert with_role(html, "widget-error-reason") and not with_role(html, "bug")
    assert "Could not reach bugzilla.redhat.com right now." in html
    assert "narrow it down" not in html  # Bugzilla's own message stays in the log


def test_packages_setting_is_validated_and_normalised():
    assert packages_text(" rpm,vtk\n python-alembic , rpm gcc-c++ ") == (
        "rpm, vtk, python-alembic, gcc-c++"
    )
    assert packages_text("") == "" and packages_text(None) == ""
    with pytest.raises(ValueError, match="'rpm;' is not a Fedora package name"):
        packages_text("rpm; vtk")
    with pytest.raises(ValueError, match="at most 50 packages"):
        packages_text(" ".join(f"pkg{n}" for n in range(51)))
    with pytest.raises(ValueError, match="must be package names"):
        packages_text(["rpm"])
    with pytest.raises(InvalidConfig) as error:
        registry["bugzilla"].validate_config({"packages": "-rpm", "limit": 0})
    assert set(error.value.errors) == {"packages", "limit"}
    assert registry["bugzilla"].validate_config({"packages": "vtk,rpm"}) == {
        "packages": "vtk, rpm",
        "limit": 10,
    }


def bug_messages(corpus) -> list[dict]:
    return [e["msg"] for e in corpus if ".bugzilla.bug." in e["topic"]]


def test_reacts_to_bug_messages_about_its_packages(app_context, session, team, corpus):
    check = registry["bugzilla"].should_invalidate
    hints = registry["bugzilla"].hints
    assert hints.categories == frozenset({"bugzilla"}) and not hints.topics
    watching_all = factories.widget(session, team, "bugzilla", packages=WATCHED)
    assert sorted(hints.packages(session, watching_all)) == ["python-alembic", "rpm", "vtk"]
    news = bug_messages(corpus)
    assert len(news) == 3
    assert all(check(message, session, watching_all) for message in news)
    others = [e["msg"] for e in corpus if e["msg"] not in news]
    assert len(others) == len(corpus) - 3
    assert not any(check(message, session, watching_all) for message in others)

    watching_rpm = factories.widget(session, team, "bugzilla", packages="rpm")
    stale = [message for message in corpus if check(message["msg"], session, watching_rpm)]
    assert [message["msg"]["msg"]["bug"]["id"] for message in stale] == [1321709]
    watching_kernel = factories.widget(session, team, "bugzilla", packages="kernel")
    unset = factories.widget(session, team, "bugzilla")
    for widget in (watching_kernel, unset):
        assert not any(check(e["msg"], session, widget) for e in corpus)


def test_ignores_bugs_of_products_it_does_not_show(app_context, session, team, corpus):
    widget = factories.widget(session, team, "bugzilla", packages=WATCHED)
    check = registry["bugzilla"].should_invalidate
    current_app.config["BUGZILLA_PRODUCTS"] = ["Fedora EPEL"]
    assert not any(check(message, session, widget) for message in bug_messages(corpus))


def test_the_team_page_says_when_bugzilla_is_down(client, session, team):
    widget = factories.widget(session, team, "bugzilla", packages=WATCHED)
    session.commit()
    with responses.RequestsMock() as mock:
        mock.get(SEARCH, body=requests.ConnectionError("no route to host"))
        for _ in range(2):
            panel = client.get(widget.url_path)
            assert panel.status_code == 200 and with_role(panel.text, "widget-error-reason")
            assert "no route to host" not in panel.text
        assert len(mock.calls) == 1  # the failure is cached for a while
    page = client.get("/t/sci-tech/")
    assert page.status_code == 200
    assert widget_states(page.text)["bugzilla"] == "error"
    assert "Could not reach bugzilla.redhat.com right now." in page.text
