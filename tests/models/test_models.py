import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from hubs.models import Hub, HubType, Membership, Role, Widget
from tests import factories


def test_hub_names_are_unique_per_type(session):
    factories.hub(session, "design", HubType.team)
    factories.hub(session, "design", HubType.user)  # a user may share a team's name
    with pytest.raises(IntegrityError):
        factories.hub(session, "design", HubType.team)


def test_left_width_is_bounded(session):
    with pytest.raises(IntegrityError):
        factories.hub(session, left_width=12)


def test_deleting_a_hub_deletes_its_widgets_and_memberships(session):
    hub = factories.hub(session)
    factories.widget(session, hub, "stats")
    factories.role(session, hub, factories.user(session), Role.owner)
    session.delete(hub)
    session.flush()
    assert session.scalar(sa.select(sa.func.count()).select_from(Widget)) == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(Membership)) == 0


def test_timestamps_come_back_as_aware_utc(session):
    hub = factories.hub(session, last_activity=dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC))
    hub_id = hub.id
    session.expunge_all()
    loaded = session.get(Hub, hub_id)
    assert loaded.created.tzinfo is not None
    assert loaded.last_activity == dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC)


def test_widgets_come_ordered_by_column_and_position(session):
    hub = factories.hub(session)
    second = factories.widget(session, hub, "stats")
    first = Widget(hub=hub, plugin="about", position=-1, config={})
    session.add(first)
    session.flush()
    session.expire(hub)
    assert [w.id for w in hub.widgets] == [first.id, second.id]


def test_user_hub_url_and_role_lookup(session):
    user = factories.user(session, "ralph")
    hub = factories.hub(session, "ralph", HubType.user)
    factories.role(session, hub, user, Role.owner)
    assert hub.url_path == "/u/ralph/"
    assert hub.users_with(Role.owner) == [user]
    assert hub.users_with(Role.member) == []
