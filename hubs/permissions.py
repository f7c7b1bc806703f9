"""Who may do what to which hub: the one place that decides. Views and the JSON API
call ``require()``; nothing else grants or refuses a change."""

from __future__ import annotations

import enum

import sqlalchemy as sa
from flask import abort

from hubs.database import db
from hubs.help_calls import HelpCall, teammates
from hubs.i18n import _, _l
from hubs.models import Hub, HubType, Invitation, Membership, Role, User


class Action(enum.StrEnum):
    EDIT_HUB = "hub.edit"  # settings, widgets, restoring a revision, importing a layout
    READ_HISTORY = "history.read"  # a hub's revisions and their diffs: its owners
    MANAGE_MEMBERS = "members.manage"  # add, remove, change roles, answer join requests
    FOLLOW = "hub.follow"  # subscribe, star (and undo)
    JOIN = "hub.join"  # ask to join a team hub
    LEAVE = "hub.leave"  # give up one's own membership
    READ_STREAM = "stream.read"  # My Stream and saved notifications: their owner only
    # Mark a call for help answered: on a hub, its owners and members; a HelpCall (which
    # is hidden on every hub once resolved), those of them who belong to a team whose own
    # people ran the meeting it was raised in. The channels a widget watches are a
    # setting any owner types (two teams may even meet in one channel): they give no right.
    RESOLVE_HELP = "help.resolve"
    ANSWER_INVITATION = "invitation.answer"  # accept or decline: the invited user only
    EDIT_ACCOUNT = "account.edit"  # one's own account settings (its language): its user only


def roles_of(user: User, hub: Hub) -> set[Role]:
    return set(
        db.session.scalars(
            sa.select(Membership.role).where(
                Membership.hub_id == hub.id, Membership.user_id == user.id
            )
        )
    )


def allowed(user: User | None, action: Action, subject: Hub | HelpCall) -> bool:
    """Whether ``user`` may do ``action`` to ``subject``: a hub, or for RESOLVE_HELP a
    call for help as one of a hub's widgets shows it."""
    if user is None:
        return False
    if isinstance(subject, HelpCall):
        return action is Action.RESOLVE_HELP and _may_resolve(user, subject)
    hub = subject
    if action in (Action.READ_STREAM, Action.EDIT_ACCOUNT):
        return hub.type is HubType.user and hub.name == user.username
    if action is Action.ANSWER_INVITATION:
        return db.session.get(Invitation, (hub.id, user.id)) is not None
    roles = roles_of(user, hub)
    if action in (Action.EDIT_HUB, Action.MANAGE_MEMBERS, Action.READ_HISTORY):
        return Role.owner in roles
    if action is Action.FOLLOW:
        return True
    if action is Action.JOIN:
        return hub.type is HubType.team and not roles & {Role.owner, Role.member}
    if action in (Action.LEAVE, Action.RESOLVE_HELP):
        return bool(roles & {Role.owner, Role.member})
    return False


def _may_resolve(user: User, call: HelpCall) -> bool:
    return call.msg_id in resolvable(user, [call])


def resolvable(user: User | None, calls: list[HelpCall]) -> set[str]:
    """The msg_ids of those ``calls`` that ``user`` may resolve (``RESOLVE_HELP``), in
    a query per hub and one for the user's teammates, however many calls a page lists."""
    if user is None or not calls:
        return set()
    on_hub: dict[int, bool] = {}
    for call in calls:
        if call.hub.id not in on_hub:
            on_hub[call.hub.id] = allowed(user, Action.RESOLVE_HELP, call.hub)
    if not any(on_hub.values()):
        return set()
    mine = teammates(db.session, user.username)
    return {call.msg_id for call in calls if on_hub[call.hub.id] and call.runners() & mine}


# Why an action is refused, for its page or JSON error; %(hub)s is the hub's name.
REFUSALS = {
    Action.EDIT_HUB: _l("Only the owners of %(hub)s may edit it."),
    Action.MANAGE_MEMBERS: _l("Only the owners of %(hub)s may manage its members."),
    Action.READ_HISTORY: _l("Only the owners of %(hub)s may read its history."),
    Action.JOIN: _l(
        "You can't ask to join %(hub)s: only team hubs take requests, from those not in them yet."
    ),
    Action.LEAVE: _l("You are not a member of %(hub)s."),
    Action.READ_STREAM: _l("Only %(hub)s may read this stream."),
    Action.RESOLVE_HELP: _l("Only the owners and members of %(hub)s may resolve its calls."),
    Action.ANSWER_INVITATION: _l("You have no invitation to %(hub)s."),
    Action.EDIT_ACCOUNT: _l("Only %(hub)s may change their account's settings."),
}
OTHER_REFUSAL = _l("You may not do that on %(hub)s.")


def _refusal(user: User, action: Action, subject: Hub | HelpCall) -> str:
    if isinstance(subject, HelpCall):
        if action is Action.RESOLVE_HELP and allowed(user, action, subject.hub):
            return _(
                "Only the team that held the meeting %(meeting)s can resolve its calls.",
                meeting=repr(subject.meeting),
            )
        subject = subject.hub
    return str(REFUSALS.get(action, OTHER_REFUSAL)) % {"hub": subject.name}


def require(user: User | None, action: Action, subject: Hub | HelpCall) -> None:
    """401 for the anonymous, 403 for those without the right."""
    if user is None:
        abort(401, _("Log in first."))
    if not allowed(user, action, subject):
        abort(403, _refusal(user, action, subject))
