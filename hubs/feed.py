"""Activity entries from the message store, as people read them (fedmsg.meta)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from flask import current_app

from hubs.avatars import user_avatar
from hubs.bus import render
from hubs.models import Message, MessageUser, utcnow


def ago(when: dt.datetime, now: dt.datetime | None = None) -> str:
    """ "just now", "5 minutes ago", "3 days ago"..."""
    seconds = int(((now or utcnow()) - when).total_seconds())
    for unit, size in (("year", 365 * 86400), ("month", 30 * 86400), ("week", 7 * 86400),
                       ("day", 86400), ("hour", 3600), ("minute", 60)):  # fmt: skip
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count > 1 else ''} ago"
    return "just now"


def entry(message: Message) -> dict[str, Any]:
    try:
        shown = render(message.body)
    except Exception:  # a message its processor cannot read still shows its topic
        shown = {"subtitle": message.topic, "link": None, "icon": None, "secondary_icon": None}
    if current_app.config["AVATARS"] != "libravatar":
        # Offline (the embedded default): no icons from Fedora's servers, local avatars.
        shown["icon"] = None
        shown["secondary_icon"] = user_avatar(message.usernames[0]) if message.usernames else None
    return {
        "id": message.id,
        "msg_id": message.msg_id,
        "time": message.timestamp.isoformat(),
        "ago": ago(message.timestamp),
        "category": message.category,
        "subtitle": shown.get("subtitle") or message.topic,
        "link": shown.get("link") or None,
        "icon": shown.get("icon") or None,
        "secondary_icon": shown.get("secondary_icon") or None,
    }


Cursor = tuple[dt.datetime, int]  # a message's time and id: where a page ends


def messages_involving(
    session,
    usernames: Iterable[str],
    limit: int,
    before: Cursor | None = None,
    newer_than: int | None = None,
) -> list[Message]:
    """The newest messages involving ``usernames``, older than ``before`` (the cursor of
    the last message of the previous page) if given; with ``newer_than``, only those
    stored after the message of that id."""
    involved = sa.select(MessageUser.message_id).where(MessageUser.username.in_(sorted(usernames)))
    # The bounds on the users' rows too, so that the (username, timestamp) index narrows
    # the messages to look at, not just their order.
    if before is not None:
        involved = involved.where(MessageUser.timestamp <= before[0])
    if newer_than is not None:
        involved = involved.where(MessageUser.message_id > newer_than)
    query = (
        sa.select(Message)
        .where(Message.id.in_(involved))
        .order_by(Message.timestamp.desc(), Message.id.desc())
        .limit(limit)
    )
    if newer_than is not None:
        # On the messages too: a range of their primary key, not a walk down their times.
        query = query.where(Message.id > newer_than)
    if before is not None:
        stamp, message_id = before
        query = query.where(
            sa.or_(
                Message.timestamp < stamp,
                sa.and_(Message.timestamp == stamp, Message.id < message_id),
            )
        )
    return list(session.scalars(query))


def latest(
    session,
    usernames: Iterable[str],
    limit: int,
    before: Cursor | None = None,
) -> list[dict[str, Any]]:
    """Feed entries of the newest messages involving ``usernames``."""
    return [entry(message) for message in messages_involving(session, usernames, limit, before)]


def last_stored(session) -> int:
    """The id of the latest message stored: what a feed has seen when it reads now."""
    return session.scalar(sa.select(sa.func.max(Message.id))) or 0


def cursor(shown: dict[str, Any]) -> Cursor:
    """The cursor of a feed entry."""
    return dt.datetime.fromisoformat(shown["time"]), int(shown["id"])
