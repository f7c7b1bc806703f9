"""Owners shaping their hub with the page's forms and the JSON API."""

import pytest
import sqlalchemy as sa

from hubs.models import Column, Hub, Invitation, JoinRequest, Membership, Role, User, Widget
from hubs.rendering import render_panel
from hubs.widgets import registry
from tests import factories
from tests.conftest import log_in
from tests.html import elements, with_role
from tests.views.conftest import snapshot, sticky_id


def widgets(session):
    session.expire_all()
    return session.scalars(
        sa.select(Widget).order_by(Widget.column, Widget.position, Widget.id)
    ).all()


def test_owner_sees_the_controls_others_do_not(client, team):
    log_in(client, "nirik")
    page = client.get("/t/infrastructure/").text
    assert len(with_role(page, "widget-controls")) == 3
    assert with_role(page, "edit-settings") and with_role(page, "add-widget-left")
    for visitor in ("ralph", "lmacken", None):
        log_in(client, visitor)
        page = client.get("/t/infrastructure/").text
        assert with_role(page, "widget-controls") == []
        assert with_role(page, "edit-settings") == []


def test_add_a_widget_with_the_form(client, session, team, published):
    log_in(client, "nirik")
    form = client.get("/t/infrastructure/edit/widgets/new?plugin=rules&column=right").text
    assert with_role(form, "field-links") and "Title | https://address" in form
    response = client.post(
        "/t/infrastructure/widgets",
        data={"plugin": "rules", "column": "right", "text": "Be *kind*",
              "links": "Docs | https://docs.fedoraproject.org\n"},
    )  # fmt: skip
    assert response.status_code == 302
    rules = next(w for w in widgets(session) if w.plugin == "rules")
    assert rules.column is Column.right and rules.position == 2
    assert rules.config == {
        "text": "Be *kind*",
        "links": [{"title": "Docs", "url": "https://docs.fedoraproject.org"}],
    }
    assert published[-1][0] == "widget.created"


def test_invalid_config_reshows_the_form_and_stores_nothing(client, session, team, published):
    log_in(client, "nirik")
    before = snapshot(session)
    response = client.post(
        "/t/infrastructure/widgets",
        data={"plugin": "rules", "links": "Evil | javascript:alert(1)"},
    )
    assert response.status_code == 400
    errors = with_role(response.text, "error-links")
    assert errors and "link 1: must be an http" in response.text
    assert "Evil | javascript:alert(1)" in response.text  # what was typed is kept
    assert snapshot(session) == before and published == []

    response = client.post(
        f"/api/t/infrastructure/w/{sticky_id(session)}/config", json={"config": {"text": 5}}
    )
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "bad_request",
        "message": "Invalid widget config.",
        "errors": {"text": "must be text"},
    }
    assert snapshot(session) == before


def test_configure_move_and_remove(client, session, team):
    log_in(client, "nirik")
    sticky = sticky_id(session)
    page = client.get(f"/t/infrastructure/w/{sticky}/edit").text
    assert 'name="text"' in page and ">Hello</textarea>" in page
    assert (
        client.post(f"/t/infrastructure/w/{sticky}/config", data={"text": "Bye"}).status_code == 302
    )
    assert session.get(Widget, sticky).config == {"text": "Bye"}

    client.post(f"/t/infrastructure/w/{sticky}/move", data={"column": "right", "position": "0"})
    assert [(w.plugin, w.column.value, w.position) for w in widgets(session)] == [
        ("sticky", "right", 0),
        ("stats", "right", 1),
        ("halp", "right", 2),
    ]
    client.post(f"/api/t/infrastructure/w/{sticky}/move", json={"column": "right", "position": 9})
    assert [(w.plugin, w.position) for w in widgets(session)] == [
        ("stats", 0),
        ("halp", 1),
        ("sticky", 2),
    ]
    bad = client.post(f"/api/t/infrastructure/w/{sticky}/move", json={"position": "top"})
    assert bad.status_code == 400

    client.post(f"/t/infrastructure/w/{sticky}/delete")
    assert [w.plugin for w in widgets(session)] == ["stats", "halp"]


def test_moving_past_the_top_or_bottom_says_so_and_changes_nothing(client, session, team):
    log_in(client, "nirik")
    stats, halp = (w for w in widgets(session) if w.column is Column.right)
    before = snapshot(session)
    # The top one has no ↑, the bottom one no ↓; posted anyway, nothing moves.
    page = client.get("/t/infrastructure/").text
    ups = {f["action"] for f in with_role(page, "move-up")}
    downs = {f["action"] for f in with_role(page, "move-down")}
    assert f"/t/infrastructure/w/{stats.id}/move" not in ups
    assert f"/t/infrastructure/w/{halp.id}/move" in ups
    assert f"/t/infrastructure/w/{halp.id}/move" not in downs
    assert f"/t/infrastructure/w/{stats.id}/move" in downs
    top = client.post(
        f"/t/infrastructure/w/{stats.id}/move", data={"column": "right", "position": "0"}
    )
    assert "Already at the top." in client.get(top.location).text
    bottom = client.post(
        f"/api/t/infrastructure/w/{halp.id}/move", json={"column": "right", "position": 2}
    )
    assert bottom.get_json()["message"] == "Already at the bottom."
    assert snapshot(session) == before
    moved = client.post(f"/api/t/infrastructure/w/{halp.id}/move", json={"position": 0})
    assert moved.get_json()["message"] == "Widget moved."


def test_settings_form_validates(client, session, team):
    log_in(client, "nirik")
    response = client.post(
        "/t/infrastructure/settings",
        data={"summary": "Infra", "left_width": "12", "avatar": "javascript:x"},
    )
    assert response.status_code == 400
    assert with_role(response.text, "error-left_width") and with_role(response.text, "error-avatar")
    session.expire_all()
    hub = session.scalar(sa.select(Hub).where(Hub.name == "infrastructure"))
    assert hub.left_width == 8 and hub.summary == ""
    ok = client.post(
        "/t/infrastructure/settings",
        data={"summary": "Infra", "left_width": "6", "description": "We **run** it"},
    )
    assert ok.status_code == 302
    session.expire_all()
    assert (hub.summary, hub.left_width, hub.archived) == ("Infra", 6, False)


def test_the_settings_form_saves_as_it_is_shown(client, session, team):
    # A hub without its own avatar: the field is empty, not "None", and saving the form
    # untouched but for the summary stores just that.
    log_in(client, "nirik")
    form = client.get("/t/infrastructure/edit/settings").text
    inputs = {
        e["name"]: e.get("value", "")
        for e in elements(form)
        if e["<tag>"] == "input" and e.get("type") != "checkbox" and e.get("name")
    }
    assert inputs["avatar"] == ""
    response = client.post("/t/infrastructure/settings", data={**inputs, "summary": "Infra"})
    assert response.status_code == 302
    session.expire_all()
    hub = session.scalar(sa.select(Hub).where(Hub.name == "infrastructure"))
    assert (hub.summary, hub.avatar, hub.left_width) == ("Infra", None, 8)


def test_an_http_avatar_is_refused_with_the_reason(client, session, team):
    # The page's Content-Security-Policy loads pictures over https only: an http://
    # avatar would be stored and then never shown.
    log_in(client, "nirik")
    refused = client.post(
        "/t/infrastructure/settings", data={"avatar": "http://example.org/logo.png"}
    )
    assert refused.status_code == 400
    assert len(with_role(refused.text, "error-avatar")) == 1
    assert "Use an https:// address" in refused.text
    assert [e["value"] for e in elements(refused.text) if e.get("name") == "avatar"] == [
        "http://example.org/logo.png"
    ]
    api = client.post("/api/t/infrastructure/settings", json={"avatar": "http://x.org/a.png"})
    assert api.status_code == 400 and "https://" in api.get_json()["errors"]["avatar"]
    session.expire_all()
    hub = session.scalar(sa.select(Hub).where(Hub.name == "infrastructure"))
    assert hub.avatar is None
    ok = client.post("/t/infrastructure/settings", data={"avatar": "https://pagure.io/logo.png"})
    assert ok.status_code == 302
    session.expire_all()
    assert hub.avatar == "https://pagure.io/logo.png"


def _roles(session, username):
    session.expire_all()
    user = session.scalar(sa.select(User).where(User.username == username))
    memberships = session.scalars(sa.select(Membership).where(Membership.user_id == user.id))
    return {m.role for m in memberships if m.hub.name == "infrastructure"}


def test_join_request_approved(client, session, team):
    log_in(client, "lmacken")
    assert client.post("/api/t/infrastructure/join", json={}).get_json()["ok"]
    assert "Join requested" in client.get("/t/infrastructure/").text
    log_in(client, "nirik")
    page = client.get("/t/infrastructure/edit/members").text
    assert {r["data-username"] for r in with_role(page, "join-request")} == {"bex", "lmacken"}
    client.post("/t/infrastructure/requests/lmacken/approve", data={})
    assert _roles(session, "lmacken") == {Role.member}
    assert session.scalar(sa.select(sa.func.count()).select_from(JoinRequest)) == 1  # bex's


def test_join_request_declined(client, session, team):
    log_in(client, "nirik")
    client.post("/api/t/infrastructure/requests/bex/decline", json={})
    assert _roles(session, "bex") == set()
    assert session.scalar(sa.select(sa.func.count()).select_from(JoinRequest)) == 0
    again = client.post("/api/t/infrastructure/requests/bex/approve", json={})
    assert again.status_code == 400


def test_the_last_owner_cannot_leave(client, session, team):
    log_in(client, "puiterwijk")
    assert client.post("/api/t/infrastructure/leave", json={}).status_code == 200
    log_in(client, "nirik")
    refused = client.post("/api/t/infrastructure/leave", json={})
    assert refused.status_code == 400
    assert "last owner" in refused.get_json()["message"]
    assert _roles(session, "nirik") == {Role.owner}
    demote = client.post(
        "/api/t/infrastructure/members", json={"username": "nirik", "role": "member"}
    )
    assert demote.status_code == 400


def test_members_page_invites_and_removes(client, session, team, published):
    log_in(client, "nirik")
    invited = client.post(
        "/api/t/infrastructure/members", json={"username": "lmacken", "role": "owner"}
    )
    assert "lmacken is invited to be owner" in invited.get_json()["message"]
    assert _roles(session, "lmacken") == set()  # not before they say yes
    page = client.get("/t/infrastructure/edit/members").text
    assert [i["data-username"] for i in with_role(page, "invitation")] == ["lmacken"]
    log_in(client, "lmacken")
    shown = client.get("/t/infrastructure/").text
    assert with_role(shown, "invitation") and with_role(shown, "accept-invitation")
    accepted = client.post("/t/infrastructure/invitation/accept", data={})
    assert accepted.status_code == 302
    assert _roles(session, "lmacken") == {Role.owner}
    assert published[-1][0] == "user.role.added" and published[-1][1]["agent"] == "lmacken"
    assert session.scalar(sa.select(sa.func.count()).select_from(Invitation)) == 0
    log_in(client, "nirik")
    client.post("/t/infrastructure/members/lmacken/remove", data={"role": "owner"})
    assert _roles(session, "lmacken") == set()
    unknown = client.post("/api/t/infrastructure/members", json={"username": "nobody"})
    assert unknown.status_code == 400
    bad_role = client.post(
        "/api/t/infrastructure/members", json={"username": "bex", "role": "king"}
    )
    assert bad_role.status_code == 400


def test_add_member_offers_member_first(client, team):
    log_in(client, "nirik")
    page = client.get("/t/infrastructure/edit/members").text
    selected = [e for e in elements(page) if e["<tag>"] == "option" and "selected" in e]
    assert len(selected) == 1
    assert "selected>member</option>" in page


def _confirmation(page):
    """The action, hidden fields and button of a confirmation page's form."""
    [form] = with_role(page, "confirm-form")
    fields = {
        e["name"]: e["value"]
        for e in elements(page)
        if e["<tag>"] == "input" and e.get("type") == "hidden" and e["name"] != "csrf_token"
    }
    assert with_role(page, "confirm-button") and with_role(page, "cancel")
    return form["action"], fields


def test_removing_a_widget_asks_first(client, session, team):
    log_in(client, "nirik")
    sticky = sticky_id(session)
    page = client.get("/t/infrastructure/").text
    links = {e["href"] for e in with_role(page, "remove")}
    assert f"/t/infrastructure/w/{sticky}/remove" in links
    before = snapshot(session)
    asked = client.get(f"/t/infrastructure/w/{sticky}/remove")
    assert asked.status_code == 200 and "Remove the Sticky note widget?" in asked.text
    assert snapshot(session) == before  # asking changes nothing
    action, fields = _confirmation(asked.text)
    editing = "/t/infrastructure/?edit=1"
    assert (action, fields) == (f"/t/infrastructure/w/{sticky}/delete", {"next": editing})
    done = client.post(action, data=fields)
    assert done.status_code == 302 and done.location == editing  # back in edit mode
    assert sticky not in [w.id for w in widgets(session)]
    log_in(client, "ralph")
    other = widgets(session)[0].id
    assert client.get(f"/t/infrastructure/w/{other}/remove").status_code == 403


def test_removing_a_member_asks_first(client, session, team):
    log_in(client, "nirik")
    page = client.get("/t/infrastructure/edit/members").text
    [link] = [e["href"] for e in with_role(page, "remove-member") if "ralph" in e["href"]]
    before = snapshot(session)
    asked = client.get(link)
    assert asked.status_code == 200 and "Remove ralph as member of infrastructure?" in asked.text
    assert snapshot(session) == before
    action, fields = _confirmation(asked.text)
    assert action == "/t/infrastructure/members/ralph/remove"
    assert fields == {"role": "member", "next": "/t/infrastructure/edit/members"}
    client.post(action, data=fields)
    assert _roles(session, "ralph") == set()
    unknown = client.get("/t/infrastructure/edit/members/nobody/remove?role=member")
    assert unknown.status_code == 400
    log_in(client, "ralph")
    assert client.get(link).status_code == 403


def test_members_page_errors_show_on_its_form(client, session, team):
    log_in(client, "nirik")
    unknown = client.post(
        "/t/infrastructure/members", data={"username": " nobody ", "role": "owner"}
    )
    assert unknown.status_code == 400
    assert with_role(unknown.text, "add-member")  # the page again, not an error page
    assert len(with_role(unknown.text, "error-username")) == 1
    assert "There is no user named &#39;nobody&#39;." in unknown.text
    typed = {e["name"]: e.get("value") for e in elements(unknown.text) if e.get("id") == "username"}
    assert typed == {"username": " nobody "}
    assert "selected>owner</option>" in unknown.text  # the role chosen, kept
    last = client.post(
        "/t/infrastructure/members/puiterwijk/remove",
        data={"role": "owner", "next": "/t/infrastructure/edit/members"},
    )
    assert last.status_code == 302
    refused = client.post("/t/infrastructure/members/nirik/remove", data={"role": "owner"})
    assert refused.status_code == 400
    assert len(with_role(refused.text, "members-error")) == 1
    assert "nirik is the last owner of infrastructure" in refused.text
    assert _roles(session, "nirik") == {Role.owner}
    declined = client.post("/t/infrastructure/requests/ralph/decline", data={})
    assert declined.status_code == 400 and "ralph has not asked to join." in declined.text
    assert with_role(declined.text, "members-error")


def test_member_names_are_trimmed_and_matched_whatever_their_case(client, session, team):
    log_in(client, "nirik")
    done = client.post("/t/infrastructure/members", data={"username": "  BEX ", "role": "member"})
    assert done.status_code == 302
    assert _roles(session, "bex") == {Role.member}
    api = client.post("/api/t/infrastructure/members", json={"username": "Ralph\t"})
    assert api.get_json()["message"] == "ralph is member already."
    unknown = client.post("/api/t/infrastructure/members", json={"username": "nobody"})
    assert unknown.get_json()["errors"] == {"username": "There is no user named 'nobody'."}


def test_an_invitation_declined_gives_nothing(client, session, team):
    log_in(client, "lmacken")  # invited by nirik to be a member
    assert client.post("/api/t/infrastructure/invitation/decline", json={}).status_code == 200
    assert _roles(session, "lmacken") == set()
    again = client.post("/api/t/infrastructure/invitation/accept", json={})
    assert again.status_code == 403  # no invitation any more
    assert _roles(session, "lmacken") == set()


def test_someone_who_asked_to_join_is_made_a_member_at_once(client, session, team):
    log_in(client, "nirik")
    done = client.post("/api/t/infrastructure/members", json={"username": "bex", "role": "member"})
    assert done.get_json()["message"] == "bex is now member."
    assert _roles(session, "bex") == {Role.member}
    assert session.scalar(sa.select(sa.func.count()).select_from(JoinRequest)) == 0


def test_an_owner_made_a_member_needs_no_consent(client, session, team):
    log_in(client, "nirik")
    client.post("/api/t/infrastructure/members", json={"username": "puiterwijk", "role": "member"})
    assert _roles(session, "puiterwijk") == {Role.member}


@pytest.mark.parametrize("role", ["subscriber", "stargazer"])
def test_owners_cannot_make_others_follow_a_hub(client, session, team, role):
    log_in(client, "nirik")
    before = snapshot(session)
    refused = client.post(
        "/api/t/infrastructure/members", json={"username": "lmacken", "role": role}
    )
    assert refused.status_code == 400
    assert "Only lmacken may subscribe to or star a hub" in refused.get_json()["message"]
    assert snapshot(session) == before


def test_follow_buttons(client, session, team):
    log_in(client, "lmacken")
    page = client.get("/t/infrastructure/").text
    assert with_role(page, "subscribe") and with_role(page, "star")
    client.post("/t/infrastructure/subscribe", data={})
    client.post("/t/infrastructure/star", data={})
    page = client.get("/t/infrastructure/").text
    assert with_role(page, "unsubscribe") and with_role(page, "unstar")
    assert _roles(session, "lmacken") == {Role.subscriber, Role.stargazer}


def test_redirects_stay_on_this_site(client, team):
    log_in(client, "nirik")
    response = client.post(
        "/t/infrastructure/star", data={"next": "https://evil.example/"}, follow_redirects=False
    )
    assert response.location == "/"
    response = client.post("/t/infrastructure/unstar", data={"next": "/t/infrastructure/"})
    assert response.location == "/t/infrastructure/"


def test_a_hub_holds_a_bounded_number_of_widgets(app, client, session, team, published):
    log_in(client, "nirik")
    limit = app.config["MAX_WIDGETS_PER_HUB"] = len(team.widgets) + 2
    github = {"plugin": "github", "config": {"repo": "a/b"}}
    for _ in range(2):
        made = client.post("/api/t/infrastructure/widgets", json=github)
        assert made.status_code == 200, made.text
    before = snapshot(session)
    refused = client.post("/api/t/infrastructure/widgets", json=github)
    assert refused.status_code == 400
    assert refused.get_json()["message"] == f"a hub holds at most {limit} widgets: remove one first"
    form = client.post("/t/infrastructure/widgets", data={"plugin": "sticky", "text": "x"})
    assert form.status_code == 400 and "remove one first" in form.text
    assert snapshot(session) == before


def test_each_address_takes_one_kind_of_body_and_says_which(client, session, team):
    log_in(client, "nirik")
    before = snapshot(session)
    json_to_form = client.post("/t/infrastructure/settings", json={"summary": "Scripted"})
    assert json_to_form.status_code == 415
    assert "send JSON to /api/t/infrastructure/settings" in json_to_form.get_json()["message"]
    form_to_api = client.post("/api/t/infrastructure/settings", data={"summary": "Formed"})
    assert form_to_api.status_code == 415
    assert "Content-Type: application/json" in form_to_api.get_json()["message"]
    assert snapshot(session) == before
    # Each way, the same change with the same sentence.
    by_form = client.post("/t/infrastructure/settings", data={"summary": "One"})
    assert by_form.status_code == 302
    assert "Settings saved." in client.get(by_form.location).text
    by_api = client.post("/api/t/infrastructure/settings", json={"summary": "Two"})
    assert by_api.get_json() == {"ok": True, "message": "Settings saved.", "changed": ["summary"]}


def test_ones_own_hub_offers_no_subscribe_or_star(client, session, team):
    log_in(client, "ralph")
    own = client.get("/u/ralph/").text
    assert with_role(own, "hub-actions")
    assert not any(with_role(own, role) for role in ("subscribe", "star"))
    refused = client.post("/api/u/ralph/subscribe", json={})
    assert refused.status_code == 400
    assert refused.get_json()["message"] == (
        "This is your own hub: there is no need to subscribe to or star it."
    )
    assert client.post("/u/ralph/star", data={}).status_code == 400
    listed = client.get("/hubs/?q=ralph").text
    [mine] = [h for h in with_role(listed, "directory-hub") if h["data-hub-name"] == "ralph"]
    assert mine and "/u/ralph/subscribe" not in listed
    others = client.get("/u/nirik/").text
    assert with_role(others, "subscribe") and with_role(others, "star")
    assert client.post("/api/u/nirik/star", json={}).status_code == 200


def test_a_refusal_says_in_words_who_may(client, team):
    log_in(client, "ralph")
    refused = client.get("/t/infrastructure/edit/settings")
    assert refused.status_code == 403
    assert "Only the owners of infrastructure may edit it." in refused.text
    assert "hub.edit" not in refused.text
    members = client.post("/api/t/infrastructure/members", json={"username": "bex"})
    message = members.get_json()["message"]
    assert message == "Only the owners of infrastructure may manage its members."


def test_a_visitor_reads_the_hub_users_teams_not_yours(app_context, session, team):
    hub = session.scalar(sa.select(Hub).where(Hub.name == "lmacken"))
    widget = factories.widget(session, hub, "halp")
    html = render_panel(widget, registry["halp"], registry["halp"].build(session, widget))
    assert "None of lmacken's teams lists its meeting channels yet." in html
    assert "your teams" not in html
