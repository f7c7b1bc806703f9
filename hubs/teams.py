"""Team hubs from Fedora's account system: one hub per FASJSON group, its sponsors as
owners and its members as members. Running it again changes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hubs import changes
from hubs.clients.fasjson import FasjsonClient, Group
from hubs.models import Hub, HubType, Membership, Role, User
from hubs.rendering import plural


@dataclass
class SyncReport:
    hubs_created: int = 0
    roles_added: int = 0
    roles_removed: int = 0
    users_created: int = 0

    def __str__(self) -> str:
        return (
            f"{self.hubs_created} team hubs created, {self.users_created} users created, "
            f"{self.roles_added} roles added, {self.roles_removed} roles removed"
        )


def create_team(
    session: Session, name: str, owner: User, agent: str, summary: str = "", like: Hub | None = None
) -> Hub:
    """A team hub with its first owner, and the default widgets or ``like``'s layout."""
    return changes.create_hub(
        session, name, HubType.team, agent=agent, owner=owner, like=like, summary=summary
    )


def _user(session: Session, username: str, report: SyncReport) -> User:
    user = session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        user = changes.sign_up(session, username, username, None)
        report.users_created += 1
    return user


def _sync_group(session: Session, group: Group, owners: list[str], members: list[str],
                agent: str, report: SyncReport) -> None:  # fmt: skip
    hub = session.scalar(sa.select(Hub).where(Hub.type == HubType.team, Hub.name == group.name))
    if hub is None:
        hub = changes.create_hub(
            session, group.name, HubType.team, agent=agent,
            summary=group.description[:256], description=group.description,
        )  # fmt: skip
        report.hubs_created += 1
    wanted = dict.fromkeys(members, Role.member)
    wanted.update(dict.fromkeys(owners, Role.owner))
    # Owners first, so a hub never lacks one while its roles change.
    for name, role in sorted(wanted.items(), key=lambda item: item[1] is not Role.owner):
        if (name, role) not in _roles(session, hub):
            changes.set_role(session, hub, _user(session, name, report), role, agent=agent)
            report.roles_added += 1
    for name, role in sorted(_roles(session, hub)):
        if wanted.get(name) == role or (role is Role.owner and not owners):
            continue  # wanted; or a group without sponsors keeps the owners Hubs has
        try:
            changes.remove_role(session, hub, _user(session, name, report), role, agent=agent)
            report.roles_removed += 1
        except changes.ChangeRefused:
            session.rollback()


def _roles(session: Session, hub: Hub) -> set[tuple[str, Role]]:
    return {
        (username, role)
        for username, role in session.execute(
            sa.select(User.username, Membership.role)
            .join(Membership.user)
            .where(Membership.hub_id == hub.id, Membership.role.in_([Role.owner, Role.member]))
        )
    }


def sync_teams(
    session: Session,
    client: FasjsonClient,
    names: Iterable[str] | None,
    agent: str = "fedora-hubs",
    say: Callable[[str], None] = print,
) -> SyncReport:
    report = SyncReport()
    names = list(names) if names else client.group_names()
    for number, name in enumerate(names, start=1):
        group = client.group(name)
        owners, members = client.sponsors(name), client.members(name)
        _sync_group(session, group, owners, members, agent, report)
        people = f"{len(owners)} {plural('sponsor', len(owners))}, " + (
            f"{len(members)} {plural('member', len(members))}"
        )
        say(f"[{number}/{len(names)}] {name}: {people}")
    return report
