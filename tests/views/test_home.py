"""The front page: a person's home when logged in, the hubs of the site for visitors;
the navbar's counts; the team roster; the activity widget of the demo hubs."""

import sqlalchemy as sa

from hubs.default_widgets import TEAM_WIDGETS
from hubs.i18n import format_ago
from hubs.models import Hub, JoinRequest, User
from hubs.seed import populate
from hubs.widgets import registry
from tests import factories
from tests.conftest import log_in
from tests.html import with_role


def test_a_member_gets_their_hubs_stream_and_the_requests_to_answer(client, session, team):
    log_in(client, "nirik")
    page = client.get("/").text
    assert with_role(page, "home") and not with_role(page, "team-hubs")
    owned = [h["data-hub-name"] for h in with_role(page, "my-hub")]
    assert owned == ["nirik", "infrastructure"]  # his own, then the teams
    (request,) = with_role(page, "join-request")
    assert (request["data-username"], request["data-hub-name"]) == ("bex", "infrastructure")
    assert (
        with_role(page, "requests-count") and "hidden" not in with_role(page, "requests-notice")[0]
    )
    # Approving from home comes back home, and the count goes.
    approve = client.post(
        "/t/infrastructure/requests/bex/approve", data={"next": "/"}, follow_redirects=True
    )
    assert not with_role(approve.text, "join-request")
    assert "hidden" in with_role(approve.text, "requests-notice")[0]


def test_a_member_sees_their_roles_by_kind(client, session, team):
    log_in(client, "ralph")
    page = client.get("/").text
    member = with_role(page, "my-hubs-member")
    assert member and not with_role(page, "join-requests")
    assert [h["data-hub-name"] for h in with_role(page, "my-hub")] == ["ralph", "infrastructure"]


def test_visitors_get_the_hubs_with_search_and_paging(client, session, team):
    page = client.get("/").text
    assert not with_role(page, "home") and not with_role(page, "unread-notice")
    assert with_role(page, "home-search")[0]["action"] == "/hubs/"
    assert [
        h["data-hub-name"] for h in with_role(page, "team-hubs") and with_role(page, "hub-card")
    ][:2] == [
        "infrastructure",
        "marketing",
    ]


def test_a_team_page_lists_its_people_with_avatars_and_names(client, session, team):
    nirik = session.scalar(sa.select(User).where(User.username == "nirik"))
    nirik.fullname = "Kevin Fenzi"
    hub = session.scalar(sa.select(Hub).where(Hub.name == "infrastructure"))
    widget = factories.widget(session, hub, "roster")
    session.commit()
    html = client.get(f"/t/infrastructure/w/{widget.id}/").text
    roster = [(p["data-username"], p["data-member-role"]) for p in with_role(html, "roster-person")]
    assert roster == [("nirik", "owner"), ("puiterwijk", "owner"), ("ralph", "member")]
    assert '<a href="/u/nirik/">Kevin Fenzi</a>' in html and 'src="/avatar/ralph.svg"' in html
    # A new team hub starts with it; a person's hub is not offered it.
    assert "roster" in [plugin for plugin, _column, _config in TEAM_WIDGETS]
    log_in(client, "ralph")
    assert "roster" not in client.get("/u/ralph/edit/widgets/new?column=right").text


def test_the_rules_widget_names_the_owners(client, session, team, app):
    hub = session.scalar(sa.select(Hub).where(Hub.name == "infrastructure"))
    widget = factories.widget(session, hub, "rules")
    session.commit()
    html = client.get(f"/t/infrastructure/w/{widget.id}/").text
    owners = with_role(html, "rules-owner")
    assert [o["data-username"] for o in owners] == ["nirik", "puiterwijk"]
    nirik = session.scalar(sa.select(User).where(User.username == "nirik"))
    assert f'<a href="/u/nirik/">{nirik.fullname}</a>' in html  # a name, not initials alone
    assert "title=" not in html.split('data-role="rules-owners"')[1]


def test_a_join_request_shows_in_the_owners_navbar_count(client, session, team):
    log_in(client, "puiterwijk")
    assert with_role(client.get("/hubs/").text, "requests-count")
    assert client.get("/u/puiterwijk/notifications").get_json()["requests"] == 1
    session.execute(sa.delete(JoinRequest))
    session.commit()
    assert client.get("/u/puiterwijk/notifications").get_json()["requests"] == 0


def test_demo_hubs_are_not_active_just_now_from_their_creation(app_context, session):
    """Defect 9: every demo hub read "Last active just now", archived ones too, however
    long ago its people were last active: its creation counted as activity."""
    populate(session, say=lambda line: None)
    hubs = session.scalars(sa.select(Hub)).all()
    assert hubs and all(hub.last_activity is None for hub in hubs)
    activity = registry["activity"]
    for hub in hubs:
        for widget in [w for w in hub.widgets if w.plugin == "activity"]:
            data = activity.compute(session, widget)
            assert data["last"] is None or format_ago(data["last"]) != "just now", hub.name
