"""The github widget against recorded GitHub answers: the requests it makes (and the
token it sends, only when configured), its normal, empty, unset, error and rate-limited
states, its settings, and the bus messages it reacts to."""

import datetime as dt
import json
import pathlib
from urllib.parse import urlsplit

import pytest
import requests
import responses
from flask import current_app
from responses import matchers

from hubs.clients.github import GitHubClient, is_pull_request
from hubs.messages import topic_suffix
from hubs.rendering import render_panel
from hubs.widgets import registry
from hubs.widgets.base import InvalidConfig
from hubs.widgets.github import message_repository, repository
from tests import factories
from tests.html import role_texts, widget_states, with_role

RECORDED = pathlib.Path(__file__).resolve().parents[1] / "data" / "github"
API = "https://api.github.com/"
BODHI = f"{API}repos/fedora-infra/bodhi"
# GitHub's Link header for the first of 7 pages of 3 (it links by repository id).
PAGE = "https://api.github.com/repositories/28872389/pulls?state=open&per_page=3&page="
PULLS_LINK = f'<{PAGE}2>; rel="next", <{PAGE}7>; rel="last"'


def recorded(name: str):
    return json.loads((RECORDED / f"{name}.json").read_text())


def open_only(per_page: int, page: int | None = None) -> list:
    query = {"state": "open", "per_page": str(per_page)}
    return [matchers.query_param_matcher(query if page is None else {**query, "page": str(page)})]


def replay_bodhi(mock, per_page: int) -> None:
    mock.get(
        f"{BODHI}/pulls",
        json=recorded("pulls-bodhi"),
        headers={"Link": PULLS_LINK},
        match=open_only(per_page),
    )
    # The issues list mixes in pull requests: one full page, whatever the limit.
    mock.get(f"{BODHI}/issues", json=recorded("issues-bodhi"), match=open_only(100, 1))


def draw(widget, data) -> str:
    return render_panel(widget, registry["github"], {"ok": True, "data": data})


@pytest.fixture
def team(session):
    owner = factories.user(session, "mattia")
    hub = factories.hub(session, "bodhi")
    factories.role(session, hub, owner, factories.Role.owner)
    return hub


def test_newest_open_pull_requests_and_issues(app_context, session, team):
    widget = factories.widget(session, team, "github", repo="fedora-infra/bodhi", limit=3)
    with responses.RequestsMock() as mock:
        replay_bodhi(mock, per_page=3)
        data = registry["github"].compute(session, widget)
        paths = [urlsplit(call.request.url).path for call in mock.calls]
    assert paths == ["/repos/fedora-infra/bodhi/pulls", "/repos/fedora-infra/bodhi/issues"]
    assert data["repo_url"] == "https://github.com/fedora-infra/bodhi"

    pulls = data["pull_requests"]
    assert [p["number"] for p in pulls["entries"]] == [5690, 5687, 5681]
    assert [p["author"] for p in pulls["entries"]] == ["mattiaverga", "AdamWill", "ryanlerch"]
    assert [p["draft"] for p in pulls["entries"]] == [False, True, False]
    assert pulls["entries"][0]["url"] == "https://github.com/fedora-infra/bodhi/pull/5690"
    assert pulls["entries"][0]["created"] == "2024-06-04T08:12:45+00:00"
    # Seven pages of three: at least six full pages and one more.
    assert (pulls["total"], pulls["more"]) == (19, True)
    assert pulls["url"] == "https://github.com/fedora-infra/bodhi/pulls"

    issues = data["issues"]  # #5690 and #5687 are the pull requests above: dropped
    assert [i["number"] for i in issues["entries"]] == [5689, 5684, 5683]
    assert issues["entries"][0]["title"] == "No reminder for critical path updates stuck in testing"
    assert issues["entries"][0]["url"] == "https://github.com/fedora-infra/bodhi/issues/5689"
    assert (issues["total"], issues["more"]) == (3, False)

    html = draw(widget, data)
    assert [e["data-number"] for e in with_role(html, "pull-request")] == ["5690", "5687", "5681"]
    assert [e["href"] for e in with_role(html, "issue-link")] == [
        "https://github.com/fedora-infra/bodhi/issues/5689",
        "https://github.com/fedora-infra/bodhi/issues/5684",
        "https://github.com/fedora-infra/bodhi/issues/5683",
    ]
    assert len(with_role(html, "draft")) == 1
    opened = role_texts(html, "opened")
    assert len(opened) == 6 and all(text.endswith(" ago") for text in opened)
    assert with_role(html, "all-pull-requests")[0]["href"] == f"{pulls['url']}"
    assert "19+" in html and "Show the update&#39;s side tag in the web interface" in html
    assert not with_role(html, "empty")


def test_a_limit_below_the_issues_found(app_context, session, team):
    widget = factories.widget(
        session, team, "github", repo="fedora-infra/bodhi", what="issues", limit=2
    )
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        replay_bodhi(mock, per_page=2)
        data = registry["github"].compute(session, widget)
        assert [urlsplit(c.request.url).path for c in mock.calls] == [
            "/repos/fedora-infra/bodhi/issues"
        ]
    assert data["pull_requests"] is None
    assert [i["number"] for i in data["issues"]["entries"]] == [5689, 5684]
    assert data["issues"]["total"] == 3
    html = draw(widget, data)
    assert with_role(html, "issues") and not with_role(html, "pull-requests")


def test_headers_and_a_token_only_when_configured(app_context, session, team):
    widget = factories.widget(session, team, "github", repo="fedora-infra/github2fedmsg")
    for token in (None, "github_pat_11AAQ2XWA0example"):
        current_app.config["GITHUB_TOKEN"] = token
        with responses.RequestsMock() as mock:
            for kind in ("pulls", "issues"):
                mock.get(f"{API}repos/fedora-infra/github2fedmsg/{kind}", json=[])
            registry["github"].compute(session, widget)
            sent = [call.request.headers for call in mock.calls]
        assert len(sent) == 2
        for headers in sent:
            assert headers["Accept"] == "application/vnd.github+json"
            assert headers["User-Agent"] == "fedora-hubs"
            assert headers["X-GitHub-Api-Version"] == "2022-11-28"
            if token:
                assert headers["Authorization"] == f"Bearer {token}"
            else:
                assert "Authorization" not in headers


def test_nothing_open(app_context, session, team):
    widget = factories.widget(session, team, "github", repo="fedora-infra/github2fedmsg")
    with responses.RequestsMock() as mock:
        for kind, match in (("pulls", open_only(5)), ("issues", open_only(100, 1))):
            mock.get(
                f"{API}repos/fedora-infra/github2fedmsg/{kind}",
                json=recorded(f"{kind}-github2fedmsg"),
                match=match,
            )
        data = registry["github"].compute(session, widget)
    assert data["pull_requests"]["entries"] == data["issues"]["entries"] == []
    assert data["pull_requests"]["total"] == data["issues"]["total"] == 0
    html = draw(widget, data)
    assert len(with_role(html, "empty")) == 1 and not with_role(html, "pull-request")
    nothing = "Nothing is open in fedora-infra/github2fedmsg right now:"
    assert f"{nothing} no pull requests or issues." in html
    only_pulls = draw(widget, {**data, "issues": None})
    assert "right now: no pull requests." in only_pulls


def test_without_a_repository_it_asks_for_one(app_context, session, team):
    widget = factories.widget(session, team, "github")
    with responses.RequestsMock() as mock:
        data = registry["github"].compute(session, widget)
        assert not mock.calls
    assert data == {"repo": "", "pull_requests": None, "issues": None}
    html = draw(widget, data)
    assert with_role(html, "empty")
    assert 'Set a GitHub repository ("owner/name") in this widget\'s settings.' in html


A_PULL = {
    "number": 5690,
    "title": "Use the Koji tag inheritance when computing the release of an update",
    "user": {"login": "mattiaverga"},
    "created_at": "2024-06-04T08:12:45Z",
    "html_url": "https://github.com/fedora-infra/bodhi/pull/5690",
}


def test_a_minimal_pull_request_reads_fine(app_context, session, team):
    widget = factories.widget(
        session, team, "github", repo="fedora-infra/bodhi", what="pull-requests"
    )
    with responses.RequestsMock() as mock:
        mock.get(f"{BODHI}/pulls", json=[A_PULL])
        data = registry["github"].compute(session, widget)
    assert [p["number"] for p in data["pull_requests"]["entries"]] == [5690]


@pytest.mark.parametrize(
    "answer",
    [
        {"json": [{key: value for key, value in A_PULL.items() if key != "title"}]},
        {"json": [{**A_PULL, "user": None}]},
        {"json": [{**A_PULL, "number": "5690"}]},
        {"json": [{**A_PULL, "created_at": "yesterday"}]},
        {"json": [{**A_PULL, "html_url": "javascript:alert(1)"}]},
        {"json": {"message": "Not Found", "status": "404"}},
        {"body": "{not json"},
        {"json": {"message": "Not Found", "status": "404"}, "status": 404},
        {"json": {"message": "Must have admin rights to Repository."}, "status": 403},
        {"body": requests.ConnectTimeout("timed out")},
    ],
)
def test_bad_or_missing_answers_are_an_error_state(app_context, session, team, answer):
    widget = factories.widget(
        session, team, "github", repo="fedora-infra/bodhi", what="pull-requests"
    )
    with responses.RequestsMock() as mock:
        mock.get(f"{BODHI}/pulls", **answer)
        envelope = registry["github"].build(session, widget)
    assert envelope["ok"] is False
    assert envelope["public_error"] == "Could not reach api.github.com right now."
    assert widget_states(envelope["html"]) == {"github": "error"}
    assert with_role(envelope["html"], "widget-error-reason")


RESET = str(int(dt.datetime(2024, 6, 4, 9, 30, tzinfo=dt.UTC).timestamp()))


@pytest.mark.parametrize(
    ("status", "headers", "until"),
    [
        # The primary limit: no request left until the reset time.
        (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": RESET}, " until 09:30 UTC"),
        (429, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": RESET}, " until 09:30 UTC"),
        # A secondary limit: "retry after" some seconds.
        (403, {"retry-after": "60", "x-ratelimit-remaining": "4999"}, " until "),
        (429, {}, " for a while"),
    ],
)
def test_the_rate_limit_is_its_own_error(app_context, session, team, status, headers, until):
    widget = factories.widget(session, team, "github", repo="fedora-infra/bodhi")
    body = {
        "message": "API rate limit exceeded for 192.0.2.10.",
        "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
    }
    with responses.RequestsMock() as mock:
        mock.get(f"{BODHI}/pulls", json=body, status=status, headers=headers)
        envelope = registry["github"].build(session, widget)
        assert len(mock.calls) == 1  # no second request once the limit is hit
    assert envelope["ok"] is False
    public = envelope["public_error"]
    assert public.startswith("GitHub's rate limit was hit: api.github.com will not answer")
    assert until in public and "192.0.2.10" not in public
    assert "GitHub&#39;s rate limit was hit" in envelope["html"]


def test_a_dead_github_shows_on_the_hub_page(client, session, team):
    widget = factories.widget(session, team, "github", repo="fedora-infra/bodhi")
    session.commit()
    panel = client.get(widget.url_path)  # the offline fixture: api.github.com cannot be reached
    assert panel.status_code == 200 and widget_states(panel.text) == {"github": "error"}
    page = client.get("/t/bodhi/")
    assert page.status_code == 200
    assert "Could not reach api.github.com right now." in page.text
    assert "tests do not reach the internet" not in page.text  # details stay in the log


def test_web_pages_follow_the_api_host():
    timeout = (1.0, 1.0)
    assert GitHubClient(API, timeout).repo_url("a/b") == "https://github.com/a/b"
    enterprise = GitHubClient("https://git.example.com/api/v3/", timeout)
    assert enterprise.pulls_url("a/b") == "https://git.example.com/a/b/pulls"


def test_settings_are_validated():
    assert repository(" fedora-infra/bodhi ") == "fedora-infra/bodhi"
    assert repository("AdamWill/fedora_openqa.py") == "AdamWill/fedora_openqa.py"
    assert repository(None) == repository("") == ""
    bad_names = ["bodhi", "fedora-infra/bodhi/pulls", "-infra/bodhi", "fedora infra/bodhi"]
    bad_names += ["fedora-infra/..", "https://github.com/fedora-infra/bodhi", 7]
    for bad in bad_names:
        with pytest.raises(ValueError, match=r'as "owner/name"|repository name'):
            repository(bad)
    with pytest.raises(InvalidConfig) as refused:
        registry["github"].validate_config({"repo": "bodhi", "what": "prs", "limit": 101})
    assert set(refused.value.errors) == {"repo", "what", "limit"}
    assert registry["github"].validate_config({"repo": "fedora-infra/bodhi"}) == {
        "repo": "fedora-infra/bodhi",
        "what": "both",
        "limit": 5,
    }


def _concerns(entry: dict, repo: str, kinds: tuple[str, ...]) -> bool:
    """Whether a corpus message is about issues (or pull requests) of ``repo``."""
    suffix = topic_suffix(entry["topic"])
    payload = entry["msg"]["msg"]
    if suffix.startswith("github.pull_request"):
        kind = "pull-requests"
    elif suffix.startswith("github.issue."):
        kind = "pull-requests" if is_pull_request(payload["issue"]) else "issues"
    else:
        return False
    return kind in kinds and payload["repository"]["full_name"].lower() == repo.lower()


@pytest.mark.parametrize(
    ("repo", "what", "topics"),
    [
        (
            "fedora-infra/github2fedmsg",
            "both",
            ["github.issue.reopened", "github.issue.comment", "github.pull_request.closed"],
        ),
        ("fedora-infra/github2fedmsg", "issues", ["github.issue.reopened", "github.issue.comment"]),
        ("fedora-infra/github2fedmsg", "pull-requests", ["github.pull_request.closed"]),
        ("Fedora-Infra/Bodhi", "both", ["github.issue.labeled", "github.pull_request_review"]),
        ("fedora-infra/fedocal", "issues", []),
        ("fedora-infra/fedocal", "both", ["github.pull_request_review_comment"]),
        ("fedora-infra/mirrormanager2", "issues", ["github.issue.opened"]),
        ("fedora-infra/datanommer", "both", []),  # a commit status is neither
    ],
)
def test_reacts_to_issue_and_pull_request_messages_of_its_repository(
    app_context, session, team, corpus, repo, what, topics
):
    widget = factories.widget(session, team, "github", repo=repo, what=what)
    check = registry["github"].should_invalidate
    kinds = ("issues", "pull-requests") if what == "both" else (what,)
    concerning = [e for e in corpus if _concerns(e, repo, kinds)]
    assert [topic_suffix(e["topic"]) for e in concerning] == topics
    assert all(check(e["msg"], session, widget) for e in concerning)
    others = [e["msg"] for e in corpus if not _concerns(e, repo, kinds)]
    assert not any(check(message, session, widget) for message in others)


def test_hints_name_only_issue_and_pull_request_topics(corpus):
    hints = registry["github"].hints
    assert not hints.categories and hints.usernames is None and hints.packages is None
    hinted = sorted({topic_suffix(e["topic"]) for e in corpus} & hints.topics)
    assert hinted == [
        "github.issue.comment",
        "github.issue.labeled",
        "github.issue.opened",
        "github.issue.reopened",
        "github.pull_request.closed",
        "github.pull_request_review",
        "github.pull_request_review_comment",
    ]


def test_an_unset_widget_reacts_to_nothing(app_context, session, team, corpus):
    widget = factories.widget(session, team, "github")
    check = registry["github"].should_invalidate
    assert not any(check(e["msg"], session, widget) for e in corpus)


def test_the_repository_of_a_message(corpus):
    github = [e["msg"] for e in corpus if ".github." in e["topic"]]
    names = {message_repository(m) for m in github}
    assert "fedora-infra/bodhi" in names and "ralphbean/lightsaber" in names
    push = next(e["msg"] for e in corpus if e["topic"].endswith("github.push"))
    assert message_repository(push) is None  # a push names its repository without full_name
    assert message_repository({"msg": {"repository": "fedora-infra/bodhi"}}) is None


def test_issues_behind_a_page_of_pull_requests_are_found(app_context, session, team):
    """The issues list mixes in pull requests: with a hundred recent pull requests on
    the first page, the issues are on the next ones."""
    pulls = [
        {**A_PULL, "number": 6000 - n, "pull_request": {"url": f"{BODHI}/pulls/{6000 - n}"}}
        for n in range(100)
    ]
    issue = {
        **A_PULL,
        "number": 5001,
        "title": "Composes stall",
        "html_url": f"{A_PULL['html_url']}x",
    }
    widget = factories.widget(session, team, "github", repo="fedora-infra/bodhi", what="issues",
                              limit=2)  # fmt: skip
    link = '<https://api.github.com/repositories/1/issues?page={}>; rel="next"'
    with responses.RequestsMock() as mock:
        mock.get(f"{BODHI}/issues", json=pulls, headers={"Link": link.format(2)},
                 match=open_only(100, 1))  # fmt: skip
        mock.get(f"{BODHI}/issues", json=[*pulls[:50], issue], headers={"Link": link.format(3)},
                 match=open_only(100, 2))  # fmt: skip
        mock.get(f"{BODHI}/issues", json=[issue], match=open_only(100, 3))
        data = registry["github"].compute(session, widget)
        assert len(mock.calls) == 3  # and no more: the last page was reached
    assert [i["number"] for i in data["issues"]["entries"]] == [5001, 5001]
    assert data["issues"]["total"] == 2 and data["issues"]["more"] is False
