"""The hubs a person has a role in, by role: what their memberships widget and their
home page's sidebar list."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hubs.models import Hub, HubType, Membership, Role, User


def hubs_by_role(
    session: Session, username: str, leave_out: int | None = None
) -> dict[str, list[dict[str, Any]]]:
    """``{"owner": [{name, summary, url}, ...], "member": [...], ...}`` for every
    role, people's hubs before teams, then by name; ``leave_out``: a hub id not to list
    (their own)."""
    statement = (
        sa.select(Membership.role, Hub.name, Hub.type, Hub.summary)
        .join(Membership.hub)
        .join(Membership.user)
        .where(User.username == username)
        .order_by(Hub.type.desc(), Hub.name)
    )
    if leave_out is not None:
        statement = statement.where(Hub.id != leave_out)
    by_role: dict[str, list[dict[str, Any]]] = {role.value: [] for role in Role}
    for role, name, hub_type, summary in session.execute(statement):
        by_role[role.value].append(
            {"name": name, "summary": summary, "url": f"/{HubType(hub_type).url_prefix}/{name}/"}
        )
    return by_role
