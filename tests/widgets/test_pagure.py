"""The pagure widget against recorded pagure.io answers: the requests it makes, its normal,
empty, unset and error states, its settings, and the bus messages it reacts to."""

import json
import pathlib
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from responses import matchers

from hubs.messages import topic_suffix
from hubs.rendering import render_panel
from hubs.widgets import registry
from hubs.widgets._open_items import what_to_show
from hubs.widgets.base import InvalidConfig
from hubs.widgets.pagure import message_project, project_path
from tests import factories
from tests.html import role_texts, widget_states, with_role

RECORDED = pathlib.Path(__file__).resolve().parents[1] / "data" / "pagure"
PAGURE = "https://pagure.io/"


def recorded(name: str) -> dict:
    return json.loads((RECORDED / f"{name}.json").read_text())


def replay(mock, project: str, answers: str, per_page: int) -> None:
    """Answer the two lists of ``project`` with the recorded ``answers`` files, only when
    asked for open ones, ``per_page`` at a time."""
    for kind in ("issues", "pull-requests"):
        mock.get(
            f"{PAGURE}api/0/{project}/{kind}",
            json=recorded(f"{kind}-{answers}"),
            match=[matchers.query_param_matcher({"status": "Open", "per_page": str(per_page)})],
        )


def draw(widget, data) -> str:
    return render_panel(widget, registry["pagure"], {"ok": True, "data": data})


@pytest.fixture
def team(session):
    owner = factories.user(session, "pingou")
    hub = factories.hub(session, "infra")
    factories.role(session, hub, owner, factories.Role.owner)
    return hub


def test_newest_open_issues_and_pull_requests_with_totals(app_context, session, team):
    widget = factories.widget(session, team, "pagure", project="pagure", limit=3)
    with responses.RequestsMock() as mock:
        replay(mock, "pagure", "pagure", per_page=3)
        data = registry["pagure"].compute(session, widget)
        paths = [urlsplit(call.request.url).path for call in mock.calls]
    assert paths == ["/api/0/pagure/issues", "/api/0/pagure/pull-requests"]
    assert data["project_url"] == "https://pagure.io/pagure"

    issues = data["issues"]
    assert [i["number"] for i in issues["entries"]] == [5521, 5517, 5509]
    assert [i["author"] for i in issues["entries"]] == ["cverna", "ryanlerch", "farhaan"]
    first = issues["entries"][0]
    assert first["title"] == "API: the issues list ignores 'since' when it is given as a date"
    assert first["url"] == "https://pagure.io/pagure/issue/5521"
    assert first["created"] == "2024-06-03T13:20:00+00:00"
    # 143 pages of 3: at least 142 full pages and one more issue.
    assert (issues["total"], issues["more"]) == (427, True)
    assert issues["url"] == "https://pagure.io/pagure/issues"

    pulls = data["pull_requests"]
    assert [p["number"] for p in pulls["entries"]] == [5524, 5518]
    assert [p["author"] for p in pulls["entries"]] == ["lslebodn", "vivekanand1101"]
    assert pulls["entries"][0]["url"] == "https://pagure.io/pagure/pull-request/5524"
    assert (pulls["total"], pulls["more"]) == (2, False)

    html = draw(widget, data)
    assert [e["data-number"] for e in with_role(html, "issue")] == ["5521", "5517", "5509"]
    assert all(text.endswith(" ago") for text in role_texts(html, "opened"))
    assert [e["href"] for e in with_role(html, "pull-request-link")] == [
        "https://pagure.io/pagure/pull-request/5524",
        "https://pagure.io/pagure/pull-request/5518",
    ]
    assert with_role(html, "all-issues")[0]["href"] == "https://pagure.io/pagure/issues"
    assert with_role(html, "project")[0]["href"] == "https://pagure.io/pagure"
    assert "Open issues" in html and "427+" in html and ">2</span>" in html
    assert "Markdown tables are not rendered in the README preview" in html
    assert not with_role(html, "empty")


def test_only_issues_asks_only_for_issues(app_context, session, team):
    widget = factories.widget(session, team, "pagure", project="pagure", what="issues", limit=3)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        replay(mock, "pagure", "pagure", per_page=3)
        data = registry["pagure"].compute(session, widget)
        assert [urlsplit(c.request.url).path for c in mock.calls] == ["/api/0/pagure/issues"]
    assert data["pull_requests"] is None and len(data["issues"]["entries"]) == 3
    html = draw(widget, data)
    assert with_role(html, "issues") and not with_role(html, "pull-requests")


def test_a_namespaced_project_with_nothing_open(app_context, session, team):
    widget = factories.widget(session, team, "pagure", project="fedora-infra/ansible")
    with responses.RequestsMock() as mock:
        replay(mock, "fedora-infra/ansible", "mdapi", per_page=5)
        data = registry["pagure"].compute(session, widget)
        queries = [parse_qs(urlsplit(c.request.url).query) for c in mock.calls]
    assert queries == [{"status": ["Open"], "per_page": ["5"]}] * 2
    assert data["issues"] == {
        "url": f"{PAGURE}fedora-infra/ansible/issues",
        "total": 0,
        "more": False,
        "entries": [],
    }
    assert data["pull_requests"]["entries"] == [] and data["pull_requests"]["total"] == 0
    html = draw(widget, data)
    assert len(with_role(html, "empty")) == 1 and not with_role(html, "issue")
    assert "Nothing is open in fedora-infra/ansible right now: no issues or pull requests." in html


def test_without_a_project_it_asks_for_one(app_context, session, team):
    widget = factories.widget(session, team, "pagure")
    with responses.RequestsMock() as mock:  # no request at all
        data = registry["pagure"].compute(session, widget)
        assert not mock.calls
    assert data == {"project": "", "issues": None, "pull_requests": None}
    html = draw(widget, data)
    assert with_role(html, "empty")
    assert "Set a pagure.io project in this widget's settings." in html


AN_ISSUE = {"id": 4, "title": "bug", "user": {"name": "pingou"}, "date_created": "1427442217"}


def test_a_minimal_issue_reads_fine(app_context, session, team):
    widget = factories.widget(session, team, "pagure", project="foo", what="issues")
    with responses.RequestsMock() as mock:
        mock.get(f"{PAGURE}api/0/foo/issues", json={"issues": [AN_ISSUE]})  # no pagination
        data = registry["pagure"].compute(session, widget)
    assert data["issues"]["entries"][0]["created"] == "2015-03-27T07:43:37+00:00"
    assert (data["issues"]["total"], data["issues"]["more"]) == (1, False)


@pytest.mark.parametrize(
    "answer",
    [
        {"json": {"issues": [{key: value for key, value in AN_ISSUE.items() if key != "title"}]}},
        {"json": {"issues": [{**AN_ISSUE, "id": "4"}]}},
        {"json": {"issues": [{**AN_ISSUE, "user": "pingou"}]}},
        {"json": {"issues": [{**AN_ISSUE, "date_created": None}]}},
        {"json": {"issues": [], "pagination": {"pages": "many", "per_page": 20}}},
        {"json": ["not", "an", "object"]},
        {"body": "<html>Bad gateway</html>", "status": 502},
        {"json": {"error": "Project not found", "error_code": "ENOPROJECT"}, "status": 404},
        {"body": requests.ConnectionError("no route to host")},
    ],
)
def test_bad_or_missing_answers_are_an_error_state(app_context, session, team, answer):
    widget = factories.widget(session, team, "pagure", project="pagure", what="issues")
    with responses.RequestsMock() as mock:
        mock.get(f"{PAGURE}api/0/pagure/issues", **answer)
        envelope = registry["pagure"].build(session, widget)
    assert envelope["ok"] is False
    assert envelope["public_error"] == "Could not reach pagure.io right now."
    assert widget_states(envelope["html"]) == {"pagure": "error"}
    reason = with_role(envelope["html"], "widget-error-reason")
    assert reason and "Could not reach pagure.io right now." in envelope["html"]


def test_a_dead_pagure_shows_on_the_hub_page(client, session, team):
    widget = factories.widget(session, team, "pagure", project="pagure")
    session.commit()
    panel = client.get(widget.url_path)  # the offline fixture: pagure.io cannot be reached
    assert panel.status_code == 200 and widget_states(panel.text) == {"pagure": "error"}
    page = client.get("/t/infra/")
    assert page.status_code == 200
    assert "Could not reach pagure.io right now." in page.text
    assert "tests do not reach the internet" not in page.text  # details stay in the log


def test_settings_are_validated():
    assert project_path(" fedora-infrastructure ") == "fedora-infrastructure"
    assert project_path("fedora-infra/ansible/") == "fedora-infra/ansible"
    assert project_path("python-fedora+extras") == "python-fedora+extras"
    assert project_path(None) == project_path("  ") == ""
    for bad in ("forks/pingou/pagure", "rpms//ipsilon", "my project", "-rf", "../etc", 42):
        with pytest.raises(ValueError, match="must be a project"):
            project_path(bad)
    assert [what_to_show(v) for v in ("issues", " Pull-Requests ", "", None)] == [
        "issues",
        "pull-requests",
        "both",
        "both",
    ]
    with pytest.raises(ValueError, match='"issues", "pull-requests" or "both"'):
        what_to_show("tickets")
    with pytest.raises(InvalidConfig) as refused:
        registry["pagure"].validate_config({"project": "a/b/c", "what": "all", "limit": 0})
    assert set(refused.value.errors) == {"project", "what", "limit"}
    assert registry["pagure"].validate_config({"project": "design"}) == {
        "project": "design",
        "what": "both",
        "limit": 5,
    }


def _concerns(entry: dict, project: str, kinds: tuple[str, ...]) -> bool:
    """fedmsg.meta's own reading of the message ("objects"), independent of the widget's."""
    objects = entry["expected"].get("objects", [])
    suffix = topic_suffix(entry["topic"])
    about_issue = suffix.startswith("pagure.issue.") and "issues" in kinds
    about_pull = suffix.startswith(("pagure.pull-request.", "pagure.request.")) and (
        "pull-requests" in kinds
    )
    return f"project/{project}" in objects and (about_issue or about_pull)


@pytest.mark.parametrize(
    ("project", "what", "count"),
    [
        ("test", "both", 6),  # comments, closes, flags and an update of pull requests
        ("test", "issues", 0),
        ("foo", "issues", 6),  # a ticket opened, commented, tagged, untagged, assigned...
        ("foo", "pull-requests", 0),
        ("pagure", "pull-requests", 1),  # "request.assigned.reset", pagure's older name
        ("pagure", "issues", 0),  # its git.receive is no issue
        ("design", "both", 1),
        ("docs-test", "issues", 1),
    ],
)
def test_reacts_to_issue_and_pull_request_messages_of_its_project(
    app_context, session, team, corpus, project, what, count
):
    widget = factories.widget(session, team, "pagure", project=project, what=what)
    check = registry["pagure"].should_invalidate
    kinds = ("issues", "pull-requests") if what == "both" else (what,)
    concerning = [e["msg"] for e in corpus if _concerns(e, project, kinds)]
    assert len(concerning) == count
    assert all(check(message, session, widget) for message in concerning)
    others = [e["msg"] for e in corpus if not _concerns(e, project, kinds)]
    assert not any(check(message, session, widget) for message in others)


def test_hints_name_only_issue_and_pull_request_topics(corpus):
    hints = registry["pagure"].hints
    assert not hints.categories and hints.usernames is None and hints.packages is None
    assert "pagure.issue.new" in hints.topics and "pagure.request.assigned.reset" in hints.topics
    hinted = {topic_suffix(e["topic"]) for e in corpus} & hints.topics
    assert not any(t.startswith(("pagure.project.", "pagure.git.")) for t in hints.topics)
    assert len(hinted) == 15  # every issue and pull request topic of the corpus


def test_an_unset_widget_reacts_to_nothing(app_context, session, team, corpus):
    widget = factories.widget(session, team, "pagure")
    check = registry["pagure"].should_invalidate
    assert not any(check(e["msg"], session, widget) for e in corpus)


def test_the_project_of_a_message(corpus):
    by_topic = {topic_suffix(e["topic"]): e["msg"] for e in corpus}
    edits = [e["msg"] for e in corpus if e["topic"].endswith("pagure.issue.comment.edited")]
    assert [message_project(m) for m in edits] == [None, "design"]  # the first names none
    assert message_project(by_topic["pagure.pull-request.updated"]) == "test"
    assert message_project(by_topic["pagure.request.assigned.reset"]) == "pagure"
    fork = next(e["msg"] for e in corpus if e["topic"].endswith("stg.pagure.project.forked"))
    assert message_project(fork) == "forks/puiterwijk/rpms/ipsilon"
    # Messages older than "fullname" name a fork by its owner, namespace and name.
    older = json.loads(json.dumps(fork))
    del older["msg"]["project"]["fullname"]
    assert message_project(older) == "forks/puiterwijk/rpms/ipsilon"
    assert message_project({"topic": "x", "msg": "not a dict"}) is None
