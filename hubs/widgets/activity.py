"""Activity: when the hub's people were last active on the bus; an archived notice;
cobwebs when the hub has been idle for long."""

import datetime as dt

import sqlalchemy as sa

from hubs.i18n import _l, ago_changes_at
from hubs.messages import ROLE_TOPICS, concerns_hub
from hubs.models import Message, MessageUser, utcnow
from hubs.people import hub_people, involves_hub_people, widget_people
from hubs.widgets import validators
from hubs.widgets.base import ANY, Argument, Chrome, WidgetData, hints

TITLE = _l("Activity")
DESCRIPTION = _l("When the hub was last active; cobwebs when it has been quiet for long.")
ARGUMENTS = [
    Argument(
        "idle_days",
        default=60,
        validator=validators.integer(7, 365),
        help=_l("Days without activity after which the hub shows cobwebs."),
        label=_l("Idle days"),
    ),
]

template = "activity.html"
chrome = Chrome(title=_l("Last active"))


def data(session, widget, idle_days: int) -> WidgetData:
    hub = widget.hub
    last = session.scalar(
        sa.select(sa.func.max(Message.timestamp)).where(
            Message.id.in_(
                sa.select(MessageUser.message_id).where(
                    MessageUser.username.in_(sorted(hub_people(session, hub)))
                )
            )
        )
    )
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=dt.UTC)  # SQLite's max() loses the type
    last = max(filter(None, [last, hub.last_activity]), default=None)
    now = utcnow()
    idle = last is None or now - last > dt.timedelta(days=idle_days)
    shown = {
        "last": last.isoformat() if last else None,
        "archived": hub.archived,
        "idle": idle,
        "idle_days": idle_days,
    }
    if last is None:
        return WidgetData(shown)
    # The panel says "3 hours ago": it is rendered again when that would read otherwise.
    changes = [ago_changes_at(last, now)] + ([] if idle else [last + dt.timedelta(days=idle_days)])
    return WidgetData(shown, fresh_until=min(changes).timestamp())


@hints(categories=[ANY], topics=[*ROLE_TOPICS, "hubs.hub.updated"], usernames=widget_people)
def should_invalidate(message, session, widget) -> bool:
    return concerns_hub(message, widget.hub_id, "hubs.hub.updated") or involves_hub_people(
        message, session, widget
    )
