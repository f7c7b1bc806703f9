"""Every change publishes its hubs message with the fields DESIGN.md lists."""

import pytest

from hubs import changes
from hubs.models import Column, HubType, Membership, Role, Widget
from hubs.widgets.base import InvalidConfig
from tests import factories


@pytest.fixture
def team(session):
    owner = factories.user(session, "nirik")
    hub = factories.hub(session, "infrastructure")
    factories.role(session, hub, owner, Role.owner)
    session.commit()
    return hub


HUB = {"hub_name": "infrastructure", "hub_type": "team"}


def test_update_widget_config_stores_and_publishes(app_context, session, team, published):
    widget = changes.create_widget(session, team, "sticky", {"text": "a"}, agent="nirik")
    assert published[-1][0] == "widget.created"
    changed = changes.update_widget_config(session, widget, {"text": "b"}, agent="nirik")
    assert changed == ["text"]
    topic, fields = published[-1]
    assert topic == "widget.updated"
    assert fields == {
        **HUB,
        "hub_id": team.id,
        "hub_url": "http://localhost:5000/t/infrastructure/",
        "widget_id": widget.id,
        "widget_label": "Sticky note",
        "agent": "nirik",
        "changed_keys": ["text"],
    }
    assert session.get(Widget, widget.id).config == {"text": "b"}


def test_invalid_config_stores_and_publishes_nothing(app_context, session, team, published):
    widget = changes.create_widget(session, team, "avatar", {}, agent="nirik")
    assert widget.config == {"size": 160}
    count = len(published)
    with pytest.raises(InvalidConfig) as error:
        changes.update_widget_config(session, widget, {"size": 5000}, agent="nirik")
    assert error.value.errors == {"size": "must be between 32 and 512"}
    session.expire_all()
    assert session.get(Widget, widget.id).config == {"size": 160}
    assert len(published) == count


def test_unchanged_config_publishes_nothing(app_context, session, team, published):
    widget = changes.create_widget(session, team, "sticky", {"text": "a"}, agent="nirik")
    count = len(published)
    assert changes.update_widget_config(session, widget, {"text": "a"}, agent="nirik") == []
    assert len(published) == count


def test_widgets_go_to_the_bottom_of_their_column(app_context, session, team):
    first = changes.create_widget(session, team, "stats", {}, "nirik", column=Column.right)
    second = changes.create_widget(session, team, "about", {}, "nirik", column=Column.right)
    assert (first.position, second.position) == (0, 1)


def test_unknown_plugin_is_refused(app_context, session, team):
    with pytest.raises(changes.ChangeRefused, match="no widget named 'nope'"):
        changes.create_widget(session, team, "nope", {}, agent="nirik")


def test_delete_widget_publishes(app_context, session, team, published):
    widget = changes.create_widget(session, team, "stats", {}, agent="nirik")
    widget_id = widget.id
    changes.delete_widget(session, widget, agent="nirik")
    assert published[-1][0] == "widget.deleted"
    assert published[-1][1]["widget_id"] == widget_id
    assert session.get(Widget, widget_id) is None


def test_roles_added_changed_removed(app_context, session, team, published):
    ralph = factories.user(session, "ralph")
    assert changes.set_role(session, team, ralph, Role.member, agent="nirik")
    assert published[-1] == (
        "user.role.added",
        {**HUB, "hub_id": team.id, "hub_url": "http://localhost:5000/t/infrastructure/",
         "username": "ralph", "agent": "nirik", "role": "member"},
    )  # fmt: skip
    assert not changes.set_role(session, team, ralph, Role.member, agent="nirik")
    assert changes.set_role(session, team, ralph, Role.owner, agent="nirik")
    assert published[-1][0] == "user.role.changed"
    assert published[-1][1]["old_role"] == "member"
    assert changes.set_role(session, team, ralph, Role.subscriber, agent="ralph")
    roles = {m.role for m in session.query(Membership).filter_by(user_id=ralph.id)}
    assert roles == {Role.owner, Role.subscriber}
    assert changes.remove_role(session, team, ralph, Role.subscriber, agent="ralph")
    assert published[-1][0] == "user.role.removed"


def test_a_hub_keeps_one_owner(app_context, session, team):
    nirik = team.memberships[0].user
    with pytest.raises(changes.ChangeRefused, match="last owner"):
        changes.remove_role(session, team, nirik, Role.owner, agent="nirik")
    with pytest.raises(changes.ChangeRefused, match="last owner"):
        changes.set_role(session, team, nirik, Role.member, agent="nirik")


def test_hub_and_user_creation_and_settings(app_context, session, published):
    user = changes.create_user(session, "bex", "Brian Exelbierd", None)
    assert published[-1] == ("user.created", {"username": "bex", "agent": "bex"})
    hub = changes.create_hub(session, "bex", HubType.user, agent="bex")
    assert published[-1][0] == "hub.created"
    assert changes.update_hub(session, hub, {"summary": "Hi", "archived": False}, "bex") == [
        "summary"
    ]
    assert published[-1][1]["changed_keys"] == ["summary"]
    assert user.id is not None


def test_nothing_is_published_when_publishing_is_off(app, session, team, published):
    app.config["FEDMSG_PUBLISH"] = False
    with app.test_request_context():
        changes.create_widget(session, team, "stats", {}, agent="nirik")
    assert published == []


def test_moving_a_widget_where_it_is_changes_and_publishes_nothing(
    app_context, session, team, published
):
    top, middle, bottom = (
        changes.create_widget(session, team, "sticky", {"text": t}, agent="nirik") for t in "abc"
    )
    count = len(published)
    assert not changes.move_widget(session, top, Column.left, 0, agent="nirik")
    assert not changes.move_widget(session, bottom, Column.left, 3, agent="nirik")
    assert len(published) == count
    assert changes.move_widget(session, bottom, Column.left, 0, agent="nirik")
    assert [w.position for w in (bottom, top, middle)] == [0, 1, 2]


def test_removing_a_widget_closes_up_its_column(app_context, session, team):
    top, middle, bottom = (
        changes.create_widget(session, team, "sticky", {"text": t}, agent="nirik") for t in "abc"
    )
    changes.delete_widget(session, top, agent="nirik")
    session.expire_all()
    assert [(w.id, w.position) for w in (middle, bottom)] == [(middle.id, 0), (bottom.id, 1)]
    # the new bottom one, asked to go one lower, stays: it is at the bottom already
    assert not changes.move_widget(session, bottom, Column.left, 2, agent="nirik")
