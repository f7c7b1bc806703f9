"""Whose activity a hub shows: its user, or its team's owners and members."""

from __future__ import annotations

import sqlalchemy as sa

from hubs.bus import message_people_and_packages
from hubs.memo import memo, remember
from hubs.messages import ROLE_TOPICS, concerns_hub
from hubs.models import Hub, HubType, Membership, Role, User

_TEAM_PEOPLE = (Role.owner, Role.member)


def hub_people(session, hub) -> frozenset[str]:
    """The user of a user hub; the owners and members of a team hub."""
    if hub.type is HubType.user:
        return frozenset([hub.name])
    return memo(
        session,
        ("team-people", hub.id),
        lambda: frozenset(
            session.scalars(
                sa.select(User.username)
                .join(Membership.user)
                .where(Membership.hub_id == hub.id, Membership.role.in_(_TEAM_PEOPLE))
            )
        ),
    )


def read_every_teams_people(session) -> None:
    """Every team's people in one query, kept as hub_people() keeps them (for the hint
    index's build, which asks them all)."""
    teams = session.scalars(sa.select(Hub.id).where(Hub.type == HubType.team))
    people: dict[int, set[str]] = {hub_id: set() for hub_id in teams}
    rows = session.execute(
        sa.select(Membership.hub_id, User.username)
        .join(Membership.user)
        .join(Membership.hub)
        .where(Hub.type == HubType.team, Membership.role.in_(_TEAM_PEOPLE))
    )
    for hub_id, username in rows:
        people[hub_id].add(username)
    remember(session, {("team-people", hub): frozenset(names) for hub, names in people.items()})


def hub_owners(session, hub_id: int) -> list[str]:
    """The usernames of the owners of the hub ``hub_id``, by name."""
    return list(
        session.scalars(
            sa.select(User.username)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.hub_id == hub_id, Membership.role == Role.owner)
            .order_by(User.username)
        )
    )


def widget_people(session, widget) -> frozenset[str]:
    """For hints: the people whose messages concern ``widget``."""
    return hub_people(session, widget.hub)


def involves_hub_people(message, session, widget) -> bool:
    """A message by or about the hub's people, or a change of those people."""
    if concerns_hub(message, widget.hub_id, *ROLE_TOPICS):
        return True
    usernames, _packages = message_people_and_packages(message)
    return not usernames.isdisjoint(hub_people(session, widget.hub))


def widget_user(widget) -> str:
    """The account a per-person widget shows: its "username" setting, else the user of
    its user hub; "" on a team hub with none set."""
    configured = (widget.config or {}).get("username")
    if configured:
        return configured
    return widget.hub.name if widget.hub.type is HubType.user else ""


def widget_user_list(session, widget) -> list[str]:
    """For hints: the widget's user, if it has one."""
    user = widget_user(widget)
    return [user] if user else []
