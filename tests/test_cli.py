import json
import os
import pathlib
import re
import time

import pytest
import responses
import sqlalchemy as sa

from hubs.backend.store import store_message
from hubs.backend.triage import stats_path
from hubs.cli import cli
from hubs.models import Hub, HubType, Membership, Message, Role, User
from hubs.widgets import registry
from tests import factories


def run(app, *args):
    return app.test_cli_runner().invoke(cli, list(args), catch_exceptions=False)


def test_backend_stats_prints_the_counters(app):
    path = stats_path(app.config)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        json.dump({"time": time.time() - 30, "pid": 42, "seen": 7, "queue_depth": 0}, handle)
    result = run(app, "backend-stats")
    assert result.exit_code == 0
    assert "backend pid 42, counters as of 30 s ago" in result.output
    assert "seen" in result.output and "7" in result.output


def test_backend_stats_without_a_backend(app):
    result = app.test_cli_runner().invoke(cli, ["backend-stats"])
    assert result.exit_code == 1
    assert "is fedmsg-hub" in result.output


def test_prune_messages(app, session):
    store_message(
        session,
        {"topic": "org.fedoraproject.prod.wiki.article.edit", "msg": {}, "msg_id": "old",
         "timestamp": 1_000_000},
        ["ralph"], [],
    )  # fmt: skip
    session.commit()
    result = run(app, "prune-messages", "--days", "30")
    assert "deleted 1 messages" in result.output
    assert session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0


# -- cache, teams ------------------------------------------------------------------------

FASJSON = "https://fasjson.example.test/"
RECORDED = pathlib.Path(__file__).parent / "data" / "fasjson"


def test_cache_coverage_counts_cached_widgets(app, session, client):
    hub = factories.hub(session, "infrastructure")
    widgets = [
        factories.widget(session, hub, plugin) for plugin in ("about", "stats", "sticky", "avatar")
    ]
    session.commit()
    assert "0 of 4 widgets cached: 0.0%" in run(app, "cache", "coverage").output
    with app.test_request_context():
        for widget in widgets[:3]:
            registry[widget.plugin].data(session, widget)
    assert "3 of 4 widgets cached: 75.0%" in run(app, "cache", "coverage").output
    listing = run(app, "cache", "list").output.splitlines()
    assert listing[0].split() == ["widget", "plugin", "data"]
    assert sum(line.endswith("cached") for line in listing) == 3
    # Every column starts at the same place on every line.
    starts = {tuple(m.start() for m in re.finditer(r"(?<=  )\S", line)) for line in listing}
    assert len(starts) == 1, listing
    cleaned = run(app, "cache", "clean").output
    assert "dropped the cached data of 4 widgets" in cleaned
    assert "0 of 4 widgets cached: 0.0%" in run(app, "cache", "coverage").output


def test_create_team(app, session, published):
    factories.user(session, "ralph")
    session.commit()
    result = run(app, "create-team", "badges", "--owner", "ralph", "--summary", "Badges!")
    assert "created /t/badges/ owned by ralph" in result.output
    hub = session.scalar(sa.select(Hub).where(Hub.name == "badges", Hub.type == HubType.team))
    assert hub.summary == "Badges!" and len(hub.widgets) >= 4
    assert [m.user.username for m in hub.memberships if m.role is Role.owner] == ["ralph"]
    again = app.test_cli_runner().invoke(cli, ["create-team", "badges", "--owner", "ralph"])
    assert again.exit_code != 0 and "exists already" in again.output


def _hubs_and_users(session):
    return (
        session.scalar(sa.select(sa.func.count()).select_from(Hub)),
        session.scalar(sa.select(sa.func.count()).select_from(User)),
    )


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "like a Fedora group name"),
        ("Bad Name/<x>", "like a Fedora group name"),
        ("design/../x", "like a Fedora group name"),
        ("-flag", "like a Fedora group name"),
        (".hidden", "like a Fedora group name"),
        ("x" * 65, "like a Fedora group name"),
    ],
)
def test_create_team_refuses_names_that_make_no_hub_url(app, session, name, reason):
    factories.user(session, "ralph")
    session.commit()
    before = _hubs_and_users(session)
    result = app.test_cli_runner().invoke(cli, ["create-team", "--owner", "ralph", "--", name])
    assert result.exit_code == 2, result.output
    assert "Invalid value for team name" in result.output and reason in result.output
    assert _hubs_and_users(session) == before


def test_create_team_refuses_an_unknown_owner_unless_asked(app, session, published):
    before = _hubs_and_users(session)
    refused = app.test_cli_runner().invoke(cli, ["create-team", "qa", "--owner", "nobody-here"])
    assert refused.exit_code == 1
    assert "Hubs has no account 'nobody-here'" in refused.output
    assert "--create-owner" in refused.output
    assert _hubs_and_users(session) == before and published == []

    bad = app.test_cli_runner().invoke(cli, ["create-team", "qa", "--owner", "no body"])
    assert bad.exit_code == 2 and "Invalid value for --owner" in bad.output

    made = run(app, "create-team", "qa", "--owner", "nobody-here", "--create-owner")
    assert "created /t/qa/ owned by nobody-here" in made.output
    assert session.scalar(sa.select(User).where(User.username == "nobody-here")) is not None


@pytest.fixture
def fasjson(app):
    app.config["FASJSON_URL"] = FASJSON
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:

        def answer(path, name, **params):
            mock.get(
                FASJSON + path,
                json=json.loads((RECORDED / name).read_text()),
                match=[responses.matchers.query_param_matcher(params, strict_match=False)],
            )

        answer("v1/groups/", "groups-page-1.json", page_number="1")
        answer("v1/groups/", "groups-page-2.json", page_number="2")
        for group in ("design-team", "i18n", "websites"):
            answer(f"v1/groups/{group}/", f"group-{group}.json")
            answer(f"v1/groups/{group}/members/", f"members-{group}.json")
            answer(f"v1/groups/{group}/sponsors/", f"sponsors-{group}.json")
        yield mock


def memberships(session) -> set[tuple[str, str, str]]:
    session.expire_all()
    return {
        (m.hub.name, m.user.username, m.role.value)
        for m in session.scalars(
            sa.select(Membership).join(Membership.hub).where(Hub.type == HubType.team)
        )
    }


def row_counts(session) -> dict[str, int]:
    return {
        model.__tablename__: session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Hub, User, Membership)
    }


def test_sync_teams_from_recorded_fasjson_twice(app, session, fasjson, published):
    first = run(app, "sync-teams")
    assert "[3/3] websites: 1 sponsor, 2 members" in first.output
    assert "3 team hubs created" in first.output
    assert memberships(session) == {
        ("design-team", "mizmo", "owner"), ("design-team", "ryanlerch", "member"),
        ("design-team", "duffy", "member"), ("design-team", "riecatnor", "member"),
        ("i18n", "tagoh", "member"), ("i18n", "pingou", "member"),
        ("websites", "ryanlerch", "owner"), ("websites", "abompard", "member"),
    }  # fmt: skip
    design = session.scalar(sa.select(Hub).where(Hub.name == "design-team"))
    assert design.summary == "The Fedora Design Team"
    rows = row_counts(session)
    count = len(published)

    second = run(app, "sync-teams")
    assert "0 team hubs created, 0 users created, 0 roles added, 0 roles removed" in second.output
    assert row_counts(session) == rows
    assert len(published) == count  # nothing changed, nothing announced


def test_sync_teams_follows_people_leaving(app, session, fasjson):
    run(app, "sync-teams", "--group", "websites")
    fasjson.replace(
        responses.GET, FASJSON + "v1/groups/websites/members/",
        json={"result": [{"username": "ryanlerch"}], "page": {"total_pages": 1}},
    )  # fmt: skip
    result = run(app, "sync-teams", "--group", "websites")
    assert "1 roles removed" in result.output
    assert memberships(session) == {("websites", "ryanlerch", "owner")}


def test_sync_teams_says_when_fasjson_is_unreachable(app):
    app.config["FASJSON_URL"] = "http://127.0.0.1:9/"
    result = app.test_cli_runner().invoke(cli, ["sync-teams"])
    assert result.exit_code == 1
    assert "FASJSON at http://127.0.0.1:9/" in result.output


def test_cache_list_lines_up_hubs_of_every_name_length(app, session):
    for name in ("qa", "infrastructure"):
        hub = factories.hub(session, name)
        for plugin in ("about", "fedmsgstats"):
            factories.widget(session, hub, plugin)
    session.commit()
    listing = run(app, "cache", "list").output.splitlines()
    assert len(listing) == 5
    plugin_at = {line.index(plugin) for line in listing for plugin in ("plugin", "about ", "fedm")
                 if plugin in line}  # fmt: skip
    data_at = {len(line) - len(line.split()[-1]) for line in listing}
    assert len(plugin_at) == 1 and len(data_at) == 1, listing


def _layout(session, hub_name: str) -> dict:
    from hubs import changes, revisions

    session.expire_all()
    hub = session.scalar(sa.select(Hub).where(Hub.name == hub_name, Hub.type == HubType.team))
    return revisions.layout_document(changes.hub_state(session, hub))


def test_export_then_import_into_another_hub(app, session, published, tmp_path):
    factories.user(session, "ralph")
    session.commit()
    run(app, "create-team", "design", "--owner", "ralph")
    run(app, "create-team", "websites", "--owner", "ralph")
    design = session.scalar(sa.select(Hub).where(Hub.name == "design"))
    factories.widget(session, design, "library")
    session.commit()
    exported = run(app, "export", "t/design").output
    assert json.loads(exported) == _layout(session, "design") != _layout(session, "websites")
    path = tmp_path / "design.json"
    path.write_text(exported)
    result = run(app, "import", "/t/websites/", str(path))
    assert result.output == "imported into /t/websites/\n"
    assert _layout(session, "websites") == json.loads(exported)
    assert json.loads(run(app, "export", "websites").output) == json.loads(exported)
    assert "has this layout already" in run(app, "import", "t/websites", str(path)).output


def test_import_refuses_a_bad_document_listing_its_problems(app, session, tmp_path):
    factories.user(session, "ralph")
    session.commit()
    run(app, "create-team", "design", "--owner", "ralph")
    before = _layout(session, "design")
    path = tmp_path / "bad.json"
    document = {**before, "left_width": 0, "columns": {"left": [{"plugin": "nope"}]}}
    path.write_text(json.dumps(document))
    result = app.test_cli_runner().invoke(cli, ["import", "t/design", str(path)])
    assert result.exit_code == 1
    assert "left_width: must be a whole number from 1 to 11" in result.output
    assert "columns.left[0].plugin: there is no widget named 'nope'" in result.output
    assert "/t/design/ is unchanged" in result.output
    path.write_text("{not json")
    assert app.test_cli_runner().invoke(cli, ["import", "t/design", str(path)]).exit_code == 1
    nowhere = app.test_cli_runner().invoke(cli, ["export", "u/nobody"])
    assert nowhere.exit_code == 2 and "there is no user hub named 'nobody'" in nowhere.output
    assert _layout(session, "design") == before


def test_create_team_like_another(app, session, published):
    factories.user(session, "ralph")
    session.commit()
    run(app, "create-team", "design", "--owner", "ralph")
    design = session.scalar(sa.select(Hub).where(Hub.name == "design"))
    factories.widget(session, design, "library")
    session.commit()
    result = run(app, "create-team", "websites", "--owner", "ralph", "--like", "t/design")
    assert "created /t/websites/ owned by ralph, like t/design" in result.output
    assert _layout(session, "websites") == _layout(session, "design")
    refused = app.test_cli_runner().invoke(cli, ["create-team", "qa", "--owner", "ralph",
                                                 "--like", "t/nothing"])  # fmt: skip
    assert refused.exit_code == 2 and "there is no team hub named 'nothing'" in refused.output
