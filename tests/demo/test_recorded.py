"""Demo mode's transport: each service's clients read the recordings of
hubs/demo/services/ through it, never the network, with dates kept recent."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import requests

from hubs import default_config
from hubs.clients import ServiceUnavailable
from hubs.clients.badges import BadgesClient
from hubs.clients.bodhi import BodhiClient
from hubs.clients.bugzilla import BugzillaClient
from hubs.clients.datagrepper import DatagrepperClient
from hubs.clients.fedocal import FedocalClient
from hubs.clients.github import GitHubClient
from hubs.clients.pagure import PagureClient
from hubs.default_config import SERVICE_TIMEOUT
from hubs.demo.recorded import SERVICES, RecordedService, demo_session, replay_shift, routes
from hubs.seed import DEMO_TEAMS, DEMO_USERS
from hubs.widgets import registry

RECORDED = dt.datetime.fromisoformat(routes()["recorded"])
CLIENTS = [BadgesClient, BodhiClient, BugzillaClient, FedocalClient, GitHubClient, PagureClient]
DEFAULTS = {"DEMO_MODE": True, "SERVICE_TIMEOUT": SERVICE_TIMEOUT}
HUBS_REPO = "fedora-infra/fedora-hubs"
PRODUCTS = ["Fedora", "Fedora EPEL"]
INFRA_PACKAGES = ["python-fedora", "fedmsg", "datanommer"]  # the infrastructure hub's


def client(client_class, now: dt.datetime | None = None, base_url: str | None = None):
    """``client_class`` on Fedora's real address, answered by the demo transport at ``now``."""
    url = base_url or getattr(default_config, client_class.URL_SETTING)
    http = requests.Session()
    transport = RecordedService(client_class.URL_SETTING, url, now=now)
    http.mount("https://", transport)
    http.mount("http://", transport)
    return client_class(url, SERVICE_TIMEOUT, http=http)


def test_every_external_widget_has_recordings_and_every_route_its_file():
    clients = {c for widget_type in registry.values() for c in widget_type.clients}
    assert clients == set(CLIENTS)
    # And datagrepper, for the history of each person (hubs/backfill.py).
    services = {c.URL_SETTING for c in [*CLIENTS, DatagrepperClient]}
    assert set(routes()["services"]) == services
    for service in routes()["services"].values():
        for answer in service["answers"]:
            json.loads((SERVICES / answer["file"]).read_text())


def test_the_demo_session_never_reaches_the_network():
    # Fedora's real address: the tests' _offline guard fails any request that leaves.
    http = demo_session("BADGES_URL", default_config.BADGES_URL)
    badges = BadgesClient(default_config.BADGES_URL, SERVICE_TIMEOUT, http=http)
    assert [b.id for b in badges.user_badges("ralph")][:1] == ["paranoid-panda"]


def test_from_config_uses_the_recordings_only_in_demo_mode():
    dead = "http://127.0.0.1:9/"
    config = {**DEFAULTS, "BADGES_URL": dead}
    assert BadgesClient.from_config(config).user_badges("nirik")
    with pytest.raises(ServiceUnavailable, match=r"127\.0\.0\.1:9"):
        BadgesClient.from_config({**config, "DEMO_MODE": False}).user_badges("nirik")
    github = GitHubClient.from_config({**DEFAULTS, "GITHUB_URL": dead}, token="t")
    assert github.headers["Authorization"] == "Bearer t"


@pytest.mark.parametrize("username", [name for name, _fullname in DEMO_USERS])
def test_each_demo_user_has_badges_and_the_packagers_updates(username):
    assert client(BadgesClient).user_badges(username)
    updates = client(BodhiClient).updates_in_testing(username)
    assert all(update.submitter == username for update in updates)


def test_the_packagers_have_updates_ready_for_stable():
    ready = {
        name: [u for u in client(BodhiClient).updates_in_testing(name) if u.can_be_pushed_to_stable]
        for name in ("ralph", "nirik", "pingou")
    }
    assert all(ready.values()), ready
    # Each also has one that is not ready: the widget has something to leave out.
    for name in ready:
        assert len(client(BodhiClient).updates_in_testing(name)) > len(ready[name])


@pytest.mark.parametrize("days", [0, 3, 6, 7, 13, 100, 1000])
@pytest.mark.parametrize("team", [team.name for team in DEMO_TEAMS])
def test_each_team_calendar_has_meetings_ahead_whenever_it_is_replayed(team, days):
    now = RECORDED + dt.timedelta(days=days, hours=5)
    fedocal = client(FedocalClient, now=now)
    meetings = fedocal.meetings(team, now.date(), now.date() + dt.timedelta(days=30))
    ahead = [m for m in meetings if now < m.start < now + dt.timedelta(days=30)]
    assert len(ahead) >= 2, (team, days)
    assert all(m.calendar == team for m in meetings)


def test_dates_move_by_whole_weeks_in_every_format():
    now = RECORDED + dt.timedelta(days=17)  # two weeks and three days later
    assert replay_shift(now) == dt.timedelta(weeks=2)
    assert replay_shift(RECORDED - dt.timedelta(days=30)) == dt.timedelta(0)  # never back
    weeks = dt.timedelta(weeks=2)

    then = client(FedocalClient, now=RECORDED).meetings(
        "infrastructure", RECORDED.date(), RECORDED.date()
    )
    later = client(FedocalClient, now=now).meetings("infrastructure", now.date(), now.date())
    assert [m.start + weeks for m in then] == [m.start for m in later]  # "YYYY-MM-DD"
    assert {m.start.weekday() for m in later if "weekly" in m.name} == {3}  # still Thursdays

    # Each format: seconds, "YYYY-MM-DD HH:MM:SS", seconds as text, ISO 8601 (two kinds).
    reads = [
        (BadgesClient, lambda c: c.user_badges("ralph"), "issued"),
        (BodhiClient, lambda c: c.updates_in_testing("ralph"), "date_testing"),
        (PagureClient, lambda c: c.open_issues("design", 5).items, "created"),
        (GitHubClient, lambda c: c.open_pull_requests(HUBS_REPO, 5).items, "created"),
        (BugzillaClient, lambda c: c.open_bugs(PRODUCTS, INFRA_PACKAGES, 10).bugs, "changed"),
    ]
    for client_class, read, field in reads:
        before, after = read(client(client_class, RECORDED)), read(client(client_class, now))
        assert before, client_class
        assert [getattr(x, field) + weeks for x in before] == [getattr(x, field) for x in after]


def test_requests_without_a_recording_of_their_own_get_a_real_shaped_empty_answer():
    assert client(BadgesClient).user_badges("somebody-new") == []
    assert client(BodhiClient).updates_in_testing("somebody-new") == []
    assert client(FedocalClient).meetings("no-such-team", RECORDED.date(), RECORDED.date()) == []
    bugs = client(BugzillaClient).open_bugs(["Fedora"], ["vim"], 10)
    assert (bugs.bugs, bugs.total) == ([], 0)
    assert client(PagureClient).open_issues("elsewhere", 5).items == []
    assert client(GitHubClient).open_issues("someone/else", 5).items == []
    page = client(DatagrepperClient).search(users=["somebody-new"], start=0, end=1e9)
    assert (page.messages, page.total, page.pages) == ([], 0, 0)


def test_a_request_no_route_answers_is_a_404_the_client_reports():
    fedocal = client(FedocalClient)
    http = fedocal.http
    assert http.get(f"{fedocal.base_url}api/calendars/").status_code == 404
    assert http.post(f"{fedocal.base_url}api/meetings/", data={}).status_code == 404
    # Badges' request, answered by fedocal's recordings: no route, a 404, an error state.
    stray = BadgesClient(fedocal.base_url, SERVICE_TIMEOUT, http=http)
    with pytest.raises(ServiceUnavailable, match=r"Could not reach apps\.fedoraproject\.org"):
        stray.user_badges("ralph")


def test_the_bugzilla_recording_answers_the_infrastructure_hubs_packages_in_any_order():
    bugzilla = client(BugzillaClient)
    products = ["Fedora", "Fedora EPEL"]
    one = bugzilla.open_bugs(products, ["python-fedora", "fedmsg", "datanommer"], 10)
    other = bugzilla.open_bugs(products, ["datanommer", "python-fedora", "fedmsg"], 10)
    assert one == other and one.total == len(one.bugs) >= 5
    assert {bug.component for bug in one.bugs} == {"python-fedora", "fedmsg", "datanommer"}
