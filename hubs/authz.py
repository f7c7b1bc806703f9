"""Who may do what to which hub: the one place that decides. Views and the JSON API
call ``require()``; nothing else grants or refuses a change."""

from __future__ import annotations

import enum

import sqlalchemy as sa
from flask import abort

from hubs.database import db
from hubs.models import Hub, HubType, Invitation, Membership, Role, User


class Action(enum.StrEnum):
    EDIT_HUB = "hub.edit"  # settings, widgets
    MANAGE_MEMBERS = "members.manage"  # add, remove, change roles, answer join requests
    FOLLOW = "hub.follow"  # subscribe, star (and undo)
    JOIN = "hub.join"  # ask to join a team hub
    LEAVE = "hub.leave"  # give up one's own membership
    READ_STREAM = "stream.read"  # My Stream and saved notifications: their owner only
    RESOLVE_HELP = "help.resolve"  # mark a call for help answered: the hub's owners, members
    ANSWER_INVITATION = "invitation.answer"  # accept or decline: the invited user only


def roles_of(user: User, hub: Hub) -> set[Role]:
    return set(
        db.session.scalars(
            sa.select(Membership.role).where(
                Membership.hub_id == hub.id, Membership.user_id == user.id
            )
        )
    )


def allowed(user: User | None, action: Action, hub: Hub) -> bool:
    if user is None:
        return False
    if action is Action.READ_STREAM:
        return hub.type is HubType.user and hub.name == user.username
    if action is Action.ANSWER_INVITATION:
        return db.session.get(Invitation, (hub.id, user.id)) is not None
    roles = roles_of(user, hub)
    if action in (Action.EDIT_HUB, Action.MANAGE_MEMBERS):
        return Role.owner in roles
    if action is Action.FOLLOW:
        return True
    if action is Action.JOIN:
        return hub.type is HubType.team and not roles & {Role.owner, Role.member}
    if action in (Action.LEAVE, Action.RESOLVE_HELP):
        return bool(roles & {Role.owner, Role.member})
    return False


def require(user: User | None, action: Action, hub: Hub) -> None:
    """401 for the anonymous, 403 for those without the right."""
    if user is None:
        abort(401, "Log in first.")
    if not allowed(user, action, hub):
        abort(403, f"You may not do that ({action.value}) on {hub.name}.")


def require_help_resolver(user: User, meeting: str, ran_by_their_team: bool) -> None:
    """A call for help is resolved for every hub showing it, so besides RESOLVE_HELP on
    the hub, the user must own or belong to a team whose people ran the meeting it was
    raised in (``ran_by_their_team``, hubs.widgets.halp.may_resolve): 403 otherwise."""
    if not ran_by_their_team:
        abort(403, f"Only the team that held the meeting {meeting!r} can resolve its calls.")
