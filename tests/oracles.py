"""What the tests compare the code against, read independently of it: which widgets a
message concerns, what the cache and the message store hold, what the backend wrote."""

from __future__ import annotations

import json
import os

import sqlalchemy as sa

from hubs import cache
from hubs.backend.triage import stats_path
from hubs.database import db
from hubs.models import Hub, HubType, Membership, Message, Role, User, Widget
from hubs.widgets import registry

ACTIVITY = ("activity", "fedmsgstats", "feed")


def activity_widgets_of(app, usernames: set[str]) -> set[int]:
    """Independently of the widgets' checks: the activity widgets (last active, stats and
    feed) of the user hubs of ``usernames`` and of the team hubs they own or belong to."""
    with app.app_context():
        session = db.session
        user_hubs = sa.select(Hub.id).where(Hub.type == HubType.user, Hub.name.in_(usernames))
        team_hubs = (
            sa.select(Membership.hub_id)
            .join(User)
            .where(User.username.in_(usernames), Membership.role.in_([Role.owner, Role.member]))
        )
        found = set(
            session.scalars(
                sa.select(Widget.id).where(
                    Widget.plugin.in_(ACTIVITY),
                    sa.or_(Widget.hub_id.in_(user_hubs), Widget.hub_id.in_(team_hubs)),
                )
            )
        )
        db.session.remove()
        return found


def versions(app) -> dict[int, int | None]:
    """Each widget's cached version, as the cache holds it now (None: nothing cached)."""
    with app.app_context():
        widgets = db.session.scalars(sa.select(Widget)).all()
        keys = [registry[w.plugin].cache_key(w) for w in widgets]
        found = {
            w.id: (envelope or {}).get("version")
            for w, envelope in zip(widgets, cache.get_cached(keys), strict=True)
        }
        db.session.remove()
        return found


def stored(app, msg_id: str) -> bool:
    """Whether the message store holds ``msg_id``."""
    with app.app_context():
        found = db.session.scalar(sa.select(Message.id).where(Message.msg_id == msg_id))
        db.session.remove()
    return found is not None


def backend_stats(app) -> dict | None:
    """The counters the backend last wrote for `fedora-hubs backend-stats`, if any."""
    path = stats_path(app.config)
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return json.load(handle)
