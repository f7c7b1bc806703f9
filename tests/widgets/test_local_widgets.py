"""The first local widgets: data(), their normal and empty rendering, and which
messages make them stale."""

import pytest

from hubs.messages import topic_suffix
from hubs.models import Column, HubType, Role
from hubs.rendering import render_panel
from hubs.widgets import registry
from tests import factories
from tests.html import with_role


@pytest.fixture
def team(session):
    owner = factories.user(session, "nirik", fullname="Kevin Fenzi")
    member = factories.user(session, "ralph")
    hub = factories.hub(session, "infrastructure", summary="Infra", description="We *run* it.")
    factories.role(session, hub, owner, Role.owner)
    factories.role(session, hub, member, Role.member)
    factories.role(session, hub, member, Role.subscriber)
    return hub


def build(session, hub, plugin, **config):
    widget = factories.widget(session, hub, plugin, **config)
    return widget, registry[plugin].compute(session, widget)


def draw(widget, data) -> str:
    return render_panel(widget, registry[widget.plugin], {"ok": True, "data": data})


def test_about(app_context, session, team):
    widget, data = build(session, team, "about")
    assert data == {"summary": "Infra", "html": "<p>We <em>run</em> it.</p>"}
    assert with_role(draw(widget, data), "about-description")
    empty = draw(widget, {"summary": "", "html": ""})
    assert with_role(empty, "empty")


def test_roster(app_context, session, team):
    widget, data = build(session, team, "roster")
    people = [(p["username"], p["role"]) for p in data["people"]]
    assert people[0] == ("nirik", "owner") and all(role == "member" for _, role in people[1:])
    html = draw(widget, data)
    names = [p["data-username"] for p in with_role(html, "roster-person")]
    assert names == [username for username, _role in people]
    check = registry["roster"].should_invalidate
    role_added = factories.hubs_message("hubs.user.role.added", hub_id=team.id, username="x")
    elsewhere = factories.hubs_message("hubs.user.role.added", hub_id=team.id + 1, username="x")
    assert check(role_added, session, widget) and not check(elsewhere, session, widget)


def test_sticky(app_context, session, team):
    widget, data = build(session, team, "sticky", text="Meeting **today**")
    assert data == {"html": "<p>Meeting <strong>today</strong></p>"}
    assert with_role(draw(widget, data), "sticky-text")
    assert with_role(draw(widget, {"html": ""}), "empty")


def test_rules(app_context, session, team):
    links = [{"title": "SOPs", "url": "https://docs.fedoraproject.org/en-US/infra/"}]
    widget, data = build(session, team, "rules", text="Be kind.", links=links)
    assert data["html"] == "<p>Be kind.</p>"
    assert data["links"] == links
    assert [owner["username"] for owner in data["owners"]] == ["nirik"]
    assert data["owners"][0]["avatar"] == "/avatar/nirik.svg"
    html = draw(widget, data)
    assert with_role(html, "rules-links") and with_role(html, "rules-owners")
    assert with_role(draw(widget, {"html": "", "links": [], "owners": []}), "empty")


def test_stats_counts_owners_as_members(app_context, session, team):
    widget, data = build(session, team, "stats")
    assert data == {"members": 2, "subscribers": 1, "stargazers": 0}
    assert 'data-role="stat-members">2<' in draw(widget, data)


def test_memberships_lists_the_users_other_hubs(app_context, session, team):
    ralph = session.get(type(team.memberships[0].user), team.memberships[1].user_id)
    own = factories.hub(session, "ralph", HubType.user)
    factories.role(session, own, ralph, Role.owner)
    widget, data = build(session, own, "memberships")
    assert data["member"] == [
        {"name": "infrastructure", "summary": "Infra", "url": "/t/infrastructure/"}
    ]
    assert data["subscriber"] == data["member"]
    assert data["owner"] == []  # its own hub is not listed
    html = draw(widget, data)
    assert with_role(html, "memberships-member")
    assert with_role(html, "widget")[0]["class"].find("d-none") == -1


def test_memberships_panel_hides_when_empty(app_context, session):
    lonely = factories.hub(session, "lonely", HubType.user)
    widget, data = build(session, lonely, "memberships")
    assert data == {"owner": [], "member": [], "subscriber": [], "stargazer": []}
    assert "d-none" in with_role(draw(widget, data), "widget")[0]["class"]


def test_avatar(app_context, session, team):
    widget, data = build(session, team, "avatar", size=64)
    assert data == {"url": "/avatar/infrastructure.svg", "size": 64, "name": "infrastructure"}
    team.avatar = "https://example.org/logo.png"
    assert registry["avatar"].compute(session, widget)["url"] == "https://example.org/logo.png"
    assert with_role(draw(widget, data), "avatar")


# Which hubs messages make each widget stale. Message fields are those hubs publishes.
def test_should_invalidate_on_own_hub_messages(app_context, session, team):
    other = factories.hub(session, "design")
    ralph_hub = factories.hub(session, "ralph", HubType.user)
    widgets = {
        plugin: factories.widget(session, team, plugin, column=Column.right)
        for plugin in ("about", "sticky", "rules", "stats", "avatar")
    }
    widgets["memberships"] = factories.widget(session, ralph_hub, "memberships")
    ralph_in = {"hub_id": team.id, "username": "ralph", "role": "member"}
    summary = {"changed_keys": ["summary"]}
    cases = {
        "about": [("hubs.hub.updated", {"hub_id": team.id}, True),
                  ("hubs.hub.updated", {"hub_id": other.id}, False)],
        "sticky": [("hubs.widget.updated", {"widget_id": widgets["sticky"].id}, True),
                   ("hubs.widget.updated", {"widget_id": widgets["about"].id}, False)],
        "rules": [("hubs.user.role.added", {"hub_id": team.id, "username": "x"}, True),
                  ("hubs.user.role.added", {"hub_id": other.id, "username": "x"}, False),
                  ("hubs.widget.updated", {"widget_id": widgets["rules"].id}, True)],
        "stats": [("hubs.user.role.removed", {"hub_id": team.id}, True),
                  ("hubs.hub.updated", {"hub_id": team.id}, False)],
        "avatar": [("hubs.hub.updated", {"hub_id": team.id}, True),
                   ("hubs.user.role.added", {"hub_id": team.id}, False)],
        "memberships": [("hubs.user.role.added", ralph_in, True),
                        ("hubs.user.role.added", {**ralph_in, "username": "nirik"}, False),
                        ("hubs.user.role.added", {**ralph_in, "hub_id": ralph_hub.id}, False),
                        # A hub ralph is in has a new summary (his list shows it); not
                        # another setting, nor a hub he is not in.
                        ("hubs.hub.updated", {**summary, "hub_id": team.id}, True),
                        ("hubs.hub.updated", {"hub_id": team.id, "changed_keys": ["x"]}, False),
                        ("hubs.hub.updated", {**summary, "hub_id": other.id}, False)],
    }  # fmt: skip
    for plugin, messages in cases.items():
        widget_type = registry[plugin]
        for suffix, fields, expected in messages:
            if expected:  # a widget must hint at every topic it reacts to
                assert suffix in widget_type.hints.topics, (plugin, suffix)
            message = factories.hubs_message(suffix, **fields)
            got = widget_type.should_invalidate(message, session, widgets[plugin])
            assert got is expected, (plugin, suffix, fields)


HUBS_ONLY = ["about", "avatar", "memberships", "rules", "stats", "sticky"]


def test_no_corpus_message_invalidates_hubs_only_widgets(app_context, session, team, corpus):
    """Fedora service messages never concern these widgets, and their hints say so."""
    widget = factories.widget(session, team, "stats")
    for plugin in HUBS_ONLY:
        widget_type = registry[plugin]
        for entry in corpus:
            message = entry["msg"]
            assert topic_suffix(message["topic"]) not in widget_type.hints.topics
            assert not widget_type.should_invalidate(message, session, widget), (plugin, entry)


@pytest.mark.parametrize(
    ("topic", "suffix"),
    [
        ("org.fedoraproject.prod.bodhi.update.comment", "bodhi.update.comment"),
        ("org.fedoraproject.stg.wiki.article.edit", "wiki.article.edit"),
        ("io.pagure.prod.pagure.issue.new", "pagure.issue.new"),
        ("org.centos.stage.ci.pipeline.complete", "ci.pipeline.complete"),
        ("org.release-monitoring.prod.anitya.project.add", "anitya.project.add"),
        ("fedoracollege.media.upload", "fedoracollege.media.upload"),
    ],
)
def test_topic_suffix(topic, suffix):
    assert topic_suffix(topic) == suffix
