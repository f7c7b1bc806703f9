"""Activity stats: how many bus messages involve this user or team, and of what kind."""

import datetime as dt

import sqlalchemy as sa

from hubs.i18n import _l
from hubs.messages import ROLE_TOPICS
from hubs.models import Message, MessageUser, utcnow
from hubs.people import hub_people, involves_hub_people, widget_people
from hubs.widgets.base import ANY, Chrome, hints

TITLE = _l("Activity stats")
DESCRIPTION = _l("Counts of bus messages involving the user or the team's members.")
ARGUMENTS: list = []

template = "fedmsgstats.html"
chrome = Chrome(title=_l("Activity"))

WEEK, MONTH = dt.timedelta(days=7), dt.timedelta(days=30)


def data(session, widget) -> dict:
    involved = (
        sa.select(MessageUser.message_id)
        .where(MessageUser.username.in_(sorted(hub_people(session, widget.hub))))
        .distinct()
    )
    now = utcnow()
    rows = session.execute(
        sa.select(
            Message.category,
            sa.func.count(),
            sa.func.sum(sa.case((Message.timestamp >= now - WEEK, 1), else_=0)),
            sa.func.sum(sa.case((Message.timestamp >= now - MONTH, 1), else_=0)),
        )
        .where(Message.id.in_(involved))
        .group_by(Message.category)
    ).all()
    categories = sorted(
        ({"name": name, "count": count} for name, count, _week, _month in rows),
        key=lambda item: (-item["count"], item["name"]),
    )
    return {
        "week": sum(int(week or 0) for _n, _c, week, _m in rows),
        "month": sum(int(month or 0) for _n, _c, _w, month in rows),
        "total": sum(item["count"] for item in categories),
        "categories": categories,
    }


@hints(categories=[ANY], topics=ROLE_TOPICS, usernames=widget_people)
def should_invalidate(message, session, widget) -> bool:
    return involves_hub_people(message, session, widget)
