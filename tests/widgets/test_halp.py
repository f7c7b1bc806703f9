"""Help wanted: meetbot #help calls from the message store, by channel and meeting,
hidden once a member marks them resolved; what it reacts to."""

import json

import pytest
import sqlalchemy as sa

from hubs.bus import render
from hubs.demo import HELP_CALLS as DEMO_HELP_CALLS
from hubs.models import Hub, HubType, ResolvedHelpRequest, Role, User
from hubs.rendering import render_panel
from hubs.seed import load_messages
from hubs.widgets import registry
from tests import factories
from tests.conftest import log_in
from tests.html import elements, with_role

HALP = registry["halp"]
INFRA = "#fedora-meeting-1"


def demo_calls() -> list[dict]:
    with open(DEMO_HELP_CALLS) as handle:
        return [json.loads(line)["msg"] for line in handle]


@pytest.fixture
def calls(session, corpus, tmp_path):
    """The corpus (whose meetbot messages include a link item in #fedora-meeting-1, and
    no help call) and the demo help calls, in the store."""
    lines = tmp_path / "corpus.jsonl"
    lines.write_text("".join(json.dumps({"msg": e["msg"]}) + "\n" for e in corpus))
    load_messages(session, str(lines), say=lambda _: None)
    load_messages(session, str(DEMO_HELP_CALLS), say=lambda _: None, days=21)
    return demo_calls()


@pytest.fixture
def team(session):
    """infrastructure meets in #fedora-meeting-1; ralph is a member, nirik the owner."""
    hub = factories.hub(session, "infrastructure")
    for name, role in [("nirik", Role.owner), ("ralph", Role.member), ("mizmo", Role.subscriber)]:
        user = factories.user(session, name)
        factories.role(session, hub, user, role)
        user_hub = factories.hub(session, name, HubType.user)
        factories.role(session, user_hub, user, Role.owner)
    factories.widget(session, hub, "halp", channels=[INFRA])
    session.commit()
    return hub


def user_hub(session, name: str) -> Hub:
    return session.scalars(sa.select(Hub).where(Hub.name == name, Hub.type == HubType.user)).one()


def halp_of(hub):
    return next(w for w in hub.widgets if w.plugin == "halp")


def test_calls_of_the_team_channels_newest_first(app_context, session, team, calls):
    data = HALP.compute(session, halp_of(team))
    expected = [m["msg_id"] for m in reversed(calls) if m["msg"]["channel"] == INFRA]
    assert [c["msg_id"] for c in data["calls"]] == expected[:5] and len(expected) == 3
    first = data["calls"][0]
    assert first["who"] == "cverna" and "openshift" in first["text"]
    assert first["meeting"] == "Infrastructure (2026-11-19)" and first["channel"] == INFRA
    assert first["link"] == (
        "https://meetbot.fedoraproject.org/fedora-meeting-1/2026-11-19/"
        "fedora-meeting-1.2026-11-19-16.00.log.html#l-63"
    )
    html = render_panel(halp_of(team), HALP, {"ok": True, "data": data})
    assert len(with_role(html, "help-call")) == 3
    assert "cverna" in html and "openshift" in html


def test_meeting_filter_and_per_page(app_context, session, team, calls):
    widget = factories.widget(session, team, "halp", channels=[INFRA, "#fedora-design"],
                              meeting="design team", per_page=1)  # fmt: skip
    data = HALP.compute(session, widget)
    assert data["total"] == 2 and [c["who"] for c in data["calls"]] == ["ryanlerch"]
    html = render_panel(widget, HALP, {"ok": True, "data": data})
    assert "All 2 open calls for help" in html


def test_empty_states(app_context, session, team, calls):
    quiet = factories.widget(session, team, "halp", channels=["#fedora-i18n"])
    html = render_panel(quiet, HALP, {"ok": True, "data": HALP.compute(session, quiet)})
    assert with_role(html, "empty") and "No open calls for help in #fedora-i18n" in html
    unset = factories.widget(session, team, "halp")
    html = render_panel(unset, HALP, {"ok": True, "data": HALP.compute(session, unset)})
    assert "Set the team's meeting channels" in html
    mizmo = factories.widget(session, user_hub(session, "mizmo"), "halp")
    html = render_panel(mizmo, HALP, {"ok": True, "data": HALP.compute(session, mizmo)})
    assert "None of mizmo's teams lists its meeting channels" in html


def test_error_state(app_context, session, team, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(HALP, "_data", broken)
    envelope = HALP.build(session, halp_of(team))
    assert envelope["ok"] is False
    html = envelope["html"]
    assert with_role(html, "widget-error") and "database went away" not in html


def test_a_user_hub_shows_the_calls_of_its_teams(app_context, session, team, calls):
    mine = factories.widget(session, user_hub(session, "ralph"), "halp")
    data = HALP.compute(session, mine)
    assert data["channels"] == [INFRA] and data["total"] == 3
    # A subscriber is not on the team: no channels for mizmo.
    mizmo = factories.widget(session, user_hub(session, "mizmo"), "halp")
    assert HALP.compute(session, mizmo) == {
        "channels": [], "meeting": "", "calls": [], "total": 0, "own_channels": False
    }  # fmt: skip


def test_a_member_resolves_a_call_and_it_is_gone(client, session, team, calls, published):
    widget = halp_of(team)
    target = next(m for m in calls if m["msg"]["details"]["nick"] == "abompard")
    api_url = f"/api/t/infrastructure/w/{widget.id}/halp/resolve"
    log_in(client, "ralph")
    page = client.get(f"/t/infrastructure/w/{widget.id}/halp")
    assert len(with_role(page.text, "help-resolve")) == 3
    response = client.post(api_url, json={"msg_id": target["msg_id"]})
    assert response.status_code == 200 and "abompard's call" in response.get_json()["message"]
    row = session.scalars(sa.select(ResolvedHelpRequest)).one()
    assert row.msg_id == target["msg_id"] and row.hub_id == team.id
    topic, fields = published[-1]
    assert topic == "help.resolved" and fields["channel"] == INFRA
    assert fields["msg_id"] == target["msg_id"] and fields["agent"] == "ralph"
    shown = [c["msg_id"] for c in HALP.compute(session, widget)["calls"]]
    assert target["msg_id"] not in shown and len(shown) == 2
    # Resolving it again, or a message that is no call of this widget, is refused.
    again = client.post(api_url, json={"msg_id": target["msg_id"]})
    assert again.status_code == 400 and "not an open call" in again.get_json()["message"]
    design = next(m for m in calls if m["msg"]["channel"] == "#fedora-design")
    assert client.post(api_url, json={"msg_id": design["msg_id"]}).status_code == 400
    assert client.post(api_url, json={"msg_id": ["x"]}).status_code == 400
    assert session.scalar(sa.select(sa.func.count()).select_from(ResolvedHelpRequest)) == 1


def test_only_members_resolve(client, session, team, calls, published):
    widget = halp_of(team)
    target = next(m for m in calls if m["msg"]["channel"] == INFRA)
    api_url = f"/api/t/infrastructure/w/{widget.id}/halp/resolve"
    assert client.post(api_url, json={"msg_id": target["msg_id"]}).status_code == 401
    log_in(client, "mizmo")
    page = client.get(f"/t/infrastructure/w/{widget.id}/halp")
    assert page.status_code == 200 and not with_role(page.text, "help-resolve")
    assert "Members of infrastructure can mark" in page.text
    assert client.post(api_url, json={"msg_id": target["msg_id"]}).status_code == 403
    assert session.scalar(sa.select(sa.func.count()).select_from(ResolvedHelpRequest)) == 0
    assert published == []


def test_reacts_to_calls_in_its_channels_only(app_context, session, team, corpus):
    widget = halp_of(team)
    check = HALP.should_invalidate
    mine = [m for m in demo_calls() if m["msg"]["channel"] == INFRA]
    assert len(mine) == 3 and all(check(m, session, widget) for m in mine)
    others = [m for m in demo_calls() if m not in mine]
    assert len(others) == 5 and not any(check(m, session, widget) for m in others)
    # No corpus message is a call for help, not even the link item in the same channel.
    link = [e for e in corpus if e["topic"].endswith("meetbot.meeting.item.link")]
    assert link and link[0]["msg"]["msg"]["channel"] == INFRA
    assert not any(check(e["msg"], session, widget) for e in corpus)


def test_reacts_to_resolutions_config_and_memberships(app_context, session, team):
    widget = halp_of(team)
    check = HALP.should_invalidate
    resolved = factories.hubs_message("hubs.help.resolved", channel=INFRA, msg_id="x")
    assert check(resolved, session, widget)
    elsewhere = factories.hubs_message("hubs.help.resolved", channel="#fedora-design")
    assert not check(elsewhere, session, widget)
    assert check(factories.hubs_message("hubs.widget.updated", widget_id=widget.id), session,
                 widget)  # fmt: skip
    assert not check(factories.hubs_message("hubs.widget.updated", widget_id=-1), session, widget)
    mine = factories.widget(session, user_hub(session, "ralph"), "halp")
    joined = factories.hubs_message("hubs.user.role.added", username="ralph", role="member")
    assert check(joined, session, mine) and not check(joined, session, widget)
    assert check(resolved, session, mine)  # ralph's teams meet in #fedora-meeting-1
    someone = factories.hubs_message("hubs.user.role.added", username="bex", role="member")
    assert not check(someone, session, mine)


def test_the_resolution_reads_well_in_feeds(app_context):
    message = factories.hubs_message(
        "hubs.help.resolved", agent="ralph", channel=INFRA, hub_name="infrastructure",
        hub_type="team", hub_url="http://localhost:5000/t/infrastructure/", msg_id="x",
    )  # fmt: skip
    shown = render(message)
    assert shown["subtitle"] == (
        "ralph marked a call for help in #fedora-meeting-1 as resolved on the "
        "infrastructure team hub"
    )


def test_only_a_team_meeting_in_the_channel_resolves_its_calls(client, session, team, calls):
    target = next(m for m in calls if m["msg"]["channel"] == INFRA)
    # mizmo is no member of infrastructure: pointing her own hub at its channel is no key.
    hers = factories.widget(session, user_hub(session, "mizmo"), "halp", channels=[INFRA])
    session.commit()
    log_in(client, "mizmo")
    refused = client.post(
        f"/api/u/mizmo/w/{hers.id}/halp/resolve", json={"msg_id": target["msg_id"]}
    )
    assert refused.status_code == 403
    assert "Only the team that held the meeting 'Infrastructure (" in refused.text
    assert session.scalar(sa.select(sa.func.count()).select_from(ResolvedHelpRequest)) == 0
    # ralph is: from his own hub, which shows his teams' calls, he may.
    his = factories.widget(session, user_hub(session, "ralph"), "halp")
    session.commit()
    log_in(client, "ralph")
    done = client.post(f"/api/u/ralph/w/{his.id}/halp/resolve", json={"msg_id": target["msg_id"]})
    assert done.status_code == 200
    assert target["msg_id"] not in [
        c["msg_id"] for c in HALP.compute(session, halp_of(team))["calls"]
    ]


def test_the_right_to_resolve_follows_who_ran_the_meeting_not_a_channel_setting(
    client, session, calls
):
    # Marketing and i18n both meet in #fedora-meeting-2. toshio owns i18n: pointing its
    # widget at that channel shows marketing's calls there, but resolving them is for
    # marketing's people, who ran that meeting (jflory7 chaired it).
    channel = "#fedora-meeting-2"
    hubs = {}
    for team, people in [("marketing", ["jflory7", "bex"]), ("i18n", ["toshio", "pingou"])]:
        hubs[team] = factories.hub(session, team)
        for number, name in enumerate(people):
            user = factories.user(session, name)
            factories.role(session, hubs[team], user, Role.member if number else Role.owner)
        factories.widget(session, hubs[team], "halp", channels=[channel])
    session.commit()

    def call_of(meeting):
        return next(m for m in calls if m["msg"]["meeting_topic"].startswith(meeting))

    def resolve(username, team, call):
        log_in(client, username)
        widget = halp_of(hubs[team])
        return client.post(
            f"/api/t/{team}/w/{widget.id}/halp/resolve", json={"msg_id": call["msg_id"]}
        )

    def resolved():
        return set(session.scalars(sa.select(ResolvedHelpRequest.msg_id)))

    marketing, i18n = call_of("Marketing"), call_of("i18n")
    # The page shows toshio a button for his team's call only.
    log_in(client, "toshio")
    page = client.get(f"/t/i18n/w/{halp_of(hubs['i18n']).id}/halp").text
    listed = {item["data-msg-id"] for item in with_role(page, "help-call")}
    assert {marketing["msg_id"], i18n["msg_id"]} <= listed
    buttons = [field["value"] for field in elements(page) if field.get("name") == "msg_id"]
    assert len(with_role(page, "help-resolve")) == 1 and buttons == [i18n["msg_id"]]
    # The owner of a third team watching that channel, who ran neither meeting, is told why.
    docs = factories.hub(session, "docs")
    factories.role(session, docs, factories.user(session, "pbokoc"), Role.owner)
    docs_halp = factories.widget(session, docs, "halp", channels=[channel])
    session.commit()
    log_in(client, "pbokoc")
    page = client.get(f"/t/docs/w/{docs_halp.id}/halp").text
    assert len(with_role(page, "help-call")) == 2 and not with_role(page, "help-resolve")
    assert "none of these meetings was your team's" in page
    refused = resolve("toshio", "i18n", marketing)
    assert refused.status_code == 403
    assert "Only the team that held the meeting 'Marketing (2026-11-17)'" in refused.text
    assert resolved() == set()
    assert resolve("toshio", "i18n", i18n).status_code == 200  # his team's own meeting
    assert resolve("bex", "marketing", marketing).status_code == 200  # a marketing member
    assert resolved() == {marketing["msg_id"], i18n["msg_id"]}


def test_two_resolving_at_once_is_no_error(app_context, session, team, calls, monkeypatch):
    from hubs import changes

    target = next(m for m in calls if m["msg"]["channel"] == INFRA)
    ralph = session.scalars(sa.select(User).where(User.username == "ralph")).one()
    nirik = session.scalars(sa.select(User).where(User.username == "nirik")).one()
    assert changes.resolve_help_request(session, halp_of(team), target["msg_id"], INFRA, ralph)
    # nirik's check ran before ralph's row was there: the insert collides.
    monkeypatch.setattr(session, "scalar", lambda *args, **kwargs: None)
    assert not changes.resolve_help_request(session, halp_of(team), target["msg_id"], INFRA, nirik)
    monkeypatch.undo()
    resolvers = session.scalars(sa.select(ResolvedHelpRequest.resolved_by)).all()
    assert resolvers == [ralph.id]


def test_a_user_hub_follows_its_teams_halp_settings(app_context, session, team):
    mine = factories.widget(session, user_hub(session, "ralph"), "halp")
    check = HALP.should_invalidate
    team_halp = halp_of(team).id
    changed = factories.hubs_message("hubs.widget.updated", hub_id=team.id, widget_id=team_halp)
    assert check(changed, session, mine)  # the halp widget of ralph's team
    sticky = factories.widget(session, team, "sticky")
    other = factories.hubs_message("hubs.widget.updated", hub_id=team.id, widget_id=sticky.id)
    assert not check(other, session, mine)  # another widget of the team
    elsewhere = factories.hubs_message("hubs.widget.updated", hub_id=-1, widget_id=team_halp)
    assert not check(elsewhere, session, mine)
    own = factories.widget(session, user_hub(session, "nirik"), "halp", channels=["#x-y"])
    assert not check(changed, session, own)  # it has channels of its own
