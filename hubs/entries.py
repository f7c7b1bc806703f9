"""Activity entries from the message store, as people read them (fedmsg.meta)."""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from flask import current_app

from hubs.avatars import user_avatar
from hubs.bus import render
from hubs.i18n import DEFAULT_LOCALE, force_locale
from hubs.messages import body, topic_category, topic_suffix
from hubs.meta import describe, describe_edits, sentence_fields
from hubs.models import Message, MessageUser, SavedNotification

log = logging.getLogger(__name__)


def entry(message: Message) -> dict[str, Any]:
    try:
        shown = render(message.body)
    except Exception as error:  # a message its processor cannot read still shows its topic
        log.warning("Cannot read %s %s: %s: %s", message.topic, message.msg_id,
                    type(error).__name__, str(error)[:200])  # fmt: skip
        shown = {"subtitle": message.topic, "link": None, "icon": None, "secondary_icon": None}
    if current_app.config["AVATARS"] != "libravatar":
        # Offline (the embedded default): no icons from Fedora's servers, local avatars.
        shown["icon"] = None
        shown["secondary_icon"] = user_avatar(message.usernames[0]) if message.usernames else None
    time = message.timestamp.isoformat()
    ours = topic_suffix(message.topic).startswith("hubs.")
    return {
        "id": message.id,
        "msg_id": message.msg_id,  # a group of entries: its oldest message's (it stays)
        "time": time,  # a group: its newest message's, like "ago"
        "category": message.category,
        # fedmsg.meta's sentence; for hubs' own messages the English one, told again in
        # the reader's language by sentence() from "hubs_message" or "edit".
        "subtitle": shown.get("subtitle") or message.topic,
        "hubs_message": {"topic": message.topic, "fields": sentence_fields(body(message.body))}
        if ours
        else None,
        "link": shown.get("link") or None,
        "icon": shown.get("icon") or None,
        "secondary_icon": shown.get("secondary_icon") or None,
        "msg_ids": [message.msg_id],  # newest first
        "oldest_time": time,  # where the next page starts
        "oldest_id": message.id,
        "edit": hub_edit(message),
    }


def saved_entry(saved: SavedNotification) -> dict[str, Any]:
    """A kept stream entry as the stream showed it, from its own copy of the message
    (the store may have forgotten it since)."""
    copy = Message(
        msg_id=saved.msg_id,
        topic=saved.topic,
        category=topic_category(saved.topic),
        timestamp=saved.timestamp,
        usernames=saved.usernames or [],
        packages=[],
        body=saved.body,
    )
    return entry(copy)


def hub_edit(message: Message) -> dict[str, Any] | None:
    """For a hubs change, what groups it with its neighbours: who made it to which hub,
    and its event; None for any other message."""
    suffix = topic_suffix(message.topic)
    fields = body(message.body if isinstance(message.body, dict) else {})
    agent, hub_id = fields.get("agent"), fields.get("hub_id")
    if not suffix.startswith("hubs.") or not isinstance(agent, str) or not isinstance(hub_id, int):
        return None
    return {
        "agent": agent,
        "hub_id": hub_id,
        "hub_name": str(fields.get("hub_name") or "?"),
        "hub_type": fields.get("hub_type"),
        "hub_url": fields.get("hub_url") if isinstance(fields.get("hub_url"), str) else None,
        "events": {suffix.removeprefix("hubs."): 1},
        "widget_ids": [fields["widget_id"]] if isinstance(fields.get("widget_id"), int) else [],
    }


def _same_editing(newer: dict[str, Any], older: dict[str, Any]) -> bool:
    a, b = newer.get("edit"), older.get("edit")
    return bool(a and b) and (a["agent"], a["hub_id"]) == (b["agent"], b["hub_id"])


def _merged(newer: dict[str, Any], older: dict[str, Any]) -> dict[str, Any]:
    events = dict(older["edit"]["events"])
    for event, count in newer["edit"]["events"].items():
        events[event] = events.get(event, 0) + count
    widget_ids = list(dict.fromkeys(newer["edit"]["widget_ids"] + older["edit"]["widget_ids"]))
    edit = {**newer["edit"], "events": events, "widget_ids": widget_ids}
    return {
        **newer,
        "msg_id": older["msg_id"],
        "msg_ids": newer.get("msg_ids", [newer["msg_id"]])
        + older.get("msg_ids", [older["msg_id"]]),
        "oldest_time": older.get("oldest_time", older["time"]),
        "oldest_id": older.get("oldest_id", older["id"]),
        "subtitle": _english_edits(edit),
        "link": edit["hub_url"] or newer.get("link"),
        "edit": edit,
    }


def _edits_sentence(edit: dict[str, Any]) -> str:
    return describe_edits(edit["agent"], edit, edit["events"], len(edit["widget_ids"]))


def _english_edits(edit: dict[str, Any]) -> str:
    with force_locale(DEFAULT_LOCALE):
        return _edits_sentence(edit)


def sentence(shown: dict[str, Any]) -> str:
    """What an entry says, in the reader's language for hubs' own messages (a run of
    changes, or one message); other apps' as fedmsg.meta told them."""
    edit = shown.get("edit")
    if edit and sum(edit["events"].values()) > 1:
        return _edits_sentence(edit)
    ours = shown.get("hubs_message")
    if ours:
        return describe(ours["topic"], ours["fields"])
    return shown.get("subtitle") or ""


def group_edits(entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entries, newest first, with each run of consecutive hubs changes by one person
    to one hub made one entry ("nirik changed 9 widgets of the infrastructure team
    hub"), keyed by the run's oldest msg_id so that it keeps its place as it grows."""
    grouped: list[dict[str, Any]] = []
    for shown in entries:
        if grouped and _same_editing(grouped[-1], shown):
            grouped[-1] = _merged(grouped[-1], shown)
        else:
            grouped.append(shown)
    return grouped


Cursor = tuple[dt.datetime, int]  # a message's time and id: where a page ends


def messages_involving(
    session,
    usernames: Iterable[str],
    limit: int,
    before: Cursor | None = None,
    newer_than: int | None = None,
    category: str | None = None,
) -> list[Message]:
    """The newest messages involving ``usernames``, older than ``before`` (the cursor of
    the last message of the previous page) if given; with ``newer_than``, only those
    stored after the message of that id; with ``category``, only that service's."""
    usernames = sorted(set(usernames))
    values: dict[str, Any] = {}
    if category is None and newer_than is None and 0 < len(usernames) <= PER_PERSON_MAX:
        involved, values = _newest_of_each(usernames, limit, before)
    else:
        involved = sa.select(MessageUser.message_id).where(MessageUser.username.in_(usernames))
        # The bounds on the users' rows too, so that the (username, timestamp) index
        # narrows the messages to look at, not just their order.
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
    if category is not None:
        query = query.where(Message.category == category)
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
    return list(session.scalars(query, values))


# Up to this many people, the newest messages of a group of people are looked for among
# the newest of each of them (one short walk down the (username, timestamp) index per
# person) rather than among all of theirs: the time does not grow with the store. (What
# came since a message is a range of ids, short already: a feed's refresh reads it so.)
PER_PERSON_MAX = 100


def _newest_of_each(usernames: list[str], limit: int, before: Cursor | None):
    """The ids of the ``limit`` newest messages of each of ``usernames`` (older than
    ``before``), and the values of its parameters: the ``limit`` newest of them all are
    among these, since each involves one of the people and at most ``limit`` - 1 of that
    person's are newer."""
    values = {f"person_{n}": name for n, name in enumerate(usernames)} | {"each": limit}
    if before is not None:
        values |= {"before_time": before[0], "before_id": before[1]}
    return _newest_of_each_query(len(usernames), before is not None), values


@functools.lru_cache(maxsize=256)
def _newest_of_each_query(people: int, bounded: bool) -> sa.CompoundSelect:
    """The query of _newest_of_each for so many people, built once (building a union of
    dozens of selects costs more than running it)."""
    before_time = sa.bindparam("before_time", type_=MessageUser.timestamp.type)
    before_id = sa.bindparam("before_id", type_=sa.Integer)
    same_time_older = sa.and_(
        MessageUser.timestamp == before_time, MessageUser.message_id < before_id
    )
    parts = []
    for number in range(people):
        rows = sa.select(MessageUser.message_id).where(
            MessageUser.username == sa.bindparam(f"person_{number}", type_=sa.String)
        )
        if bounded:
            rows = rows.where(sa.or_(MessageUser.timestamp < before_time, same_time_older))
        newest = rows.order_by(MessageUser.timestamp.desc(), MessageUser.message_id.desc())
        each = newest.limit(sa.bindparam("each", type_=sa.Integer))
        parts.append(sa.select(each.subquery().c.message_id))
    return sa.union_all(*parts)


# A page of grouped entries reads at most this many messages per entry it shows: a
# long run of one person's changes is shown whole up to that, then continues on "More".
MESSAGES_PER_ENTRY = 10


def latest(
    session,
    usernames: Iterable[str],
    count: int,
    before: Cursor | None = None,
) -> tuple[list[dict[str, Any]], bool]:
    """``count`` feed entries of the newest messages involving ``usernames`` (after the
    ``before`` cursor), runs of hubs changes grouped; and whether more follow."""
    singles: list[dict[str, Any]] = []
    while True:
        batch = messages_involving(session, usernames, count + 1, before)
        singles += [entry(message) for message in batch]
        entries = group_edits(singles)
        if len(entries) > count:  # the last one shown is whole: another follows it
            return entries[:count], True
        if len(batch) <= count:
            return entries, False
        if len(singles) >= count * MESSAGES_PER_ENTRY:
            return entries, True
        before = (batch[-1].timestamp, batch[-1].id)


def last_stored(session) -> int:
    """The id of the latest message stored: what a feed has seen when it reads now."""
    return session.scalar(sa.select(sa.func.max(Message.id))) or 0


def cursor(shown: dict[str, Any]) -> Cursor:
    """The cursor of a feed entry's newest message."""
    return dt.datetime.fromisoformat(shown["time"]), int(shown["id"])
