"""My Stream: the bus messages that matter to one person — their own, and those of the
people of every hub they own, belong to or subscribe to — and who must see a new one."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from hubs import page_cache
from hubs.bus import conglomerate
from hubs.database import writing_now
from hubs.entries import entry, group_edits, messages_involving
from hubs.models import (
    Hub,
    HubType,
    Membership,
    Message,
    MessageUser,
    Role,
    StreamRead,
    StreamUnread,
    User,
)
from hubs.people import hub_people

log = logging.getLogger(__name__)

# A fedmsg.meta processor that breaks on a message breaks the grouping of every stream
# showing it: warned about once in this many seconds, the traceback at DEBUG each time.
CONGLOMERATE_WARNING_INTERVAL = 60.0
_warned_at = {"conglomerate": float("-inf")}

FOLLOWING = (Role.owner, Role.member, Role.subscriber)  # stargazers only bookmark
PEOPLE = (Role.owner, Role.member)  # whose activity a team hub shows


def stream_people(session: Session, username: str) -> set[str]:
    """``username`` and the people of the hubs they own, belong to or subscribe to."""
    mine = aliased(Membership)
    theirs = aliased(Membership)
    hubs = (
        sa.select(Hub.id, Hub.type, Hub.name)
        .join(mine, mine.hub_id == Hub.id)
        .join(User, User.id == mine.user_id)
        .where(User.username == username, mine.role.in_(FOLLOWING))
        .subquery()
    )
    team_people = (
        sa.select(User.username)
        .join(theirs, theirs.user_id == User.id)
        .join(hubs, hubs.c.id == theirs.hub_id)
        .where(hubs.c.type == HubType.team, theirs.role.in_(PEOPLE))
    )
    user_hubs = sa.select(hubs.c.name).where(hubs.c.type == HubType.user)
    return {username, *session.scalars(team_people.union(user_hubs))}


@dataclass(frozen=True)
class StreamFilter:
    """What a reader narrows their stream to: one hub's people, one service (a
    message category), one person, or only what involves themselves."""

    hub: Hub | None = None
    category: str | None = None
    person: str | None = None
    mine: bool = False

    @property
    def active(self) -> bool:
        return bool(self.hub or self.category or self.person or self.mine)


NO_FILTER = StreamFilter()


def filtered_people(session: Session, username: str, narrowed: StreamFilter) -> set[str]:
    """The people whose messages the stream shows through ``narrowed``."""
    people = stream_people(session, username)
    if narrowed.hub is not None:
        people &= hub_people(session, narrowed.hub)
    if narrowed.person is not None:
        people &= {narrowed.person}
    if narrowed.mine:
        people &= {username}
    return people


def stream_messages(
    session: Session,
    username: str,
    limit: int,
    before: tuple[dt.datetime, int] | None = None,
    narrowed: StreamFilter = NO_FILTER,
) -> list[Message]:
    """The newest messages of ``username``'s stream, after the ``before`` cursor."""
    people = filtered_people(session, username, narrowed)
    if not people:
        return []
    return messages_involving(session, people, limit, before, category=narrowed.category)


def followed_hubs(session: Session, username: str) -> list[Hub]:
    """The hubs whose people fill ``username``'s stream, by kind then name."""
    return list(
        session.scalars(
            sa.select(Hub)
            .join(Membership, Membership.hub_id == Hub.id)
            .join(User, User.id == Membership.user_id)
            .where(User.username == username, Membership.role.in_(FOLLOWING))
            .distinct()
            .order_by(Hub.type.desc(), Hub.name)
        )
    )


# -- read and unread ------------------------------------------------------------------

# A count beyond this reads "99+": counting further costs and tells nothing more.
UNREAD_CAP = 99


def last_read_id(session: Session, user: User) -> int:
    marker = session.get(StreamRead, user.id)
    return marker.last_read_id if marker is not None else 0


def unread_count(session: Session, user: User) -> int:
    """How many messages of the user's stream came since they last opened it, plus those
    they marked unread again; at most UNREAD_CAP + 1. Two queries: the people, the counts."""
    read_up_to = sa.func.coalesce(
        sa.select(StreamRead.last_read_id).where(StreamRead.user_id == user.id).scalar_subquery(),
        0,
    )
    people = sorted(stream_people(session, user.username))
    newer = (
        sa.select(MessageUser.message_id)
        .where(MessageUser.username.in_(people), MessageUser.message_id > read_up_to)
        .distinct()
        .limit(UNREAD_CAP + 1)
        .subquery()
    )
    marked_again = (
        sa.select(sa.func.count())
        .select_from(StreamUnread)
        .join(Message, Message.msg_id == StreamUnread.msg_id)
        .where(StreamUnread.user_id == user.id, Message.id <= read_up_to)
        .scalar_subquery()
    )
    newer_count = sa.select(sa.func.count()).select_from(newer).scalar_subquery()
    return min(session.scalar(sa.select(newer_count + marked_again)), UNREAD_CAP + 1)


def _newest_and_marker(
    session: Session, user: User, again: bool = False
) -> tuple[int, StreamRead | None]:
    """The newest message's id, and how far ``user`` read (``again``: from the database,
    not as loaded before)."""
    newest = session.scalar(sa.select(sa.func.max(Message.id))) or 0
    return newest, session.get(StreamRead, user.id, populate_existing=again)


def mark_stream_read(session: Session, user: User) -> int:
    """Opening My Stream: everything stored so far is read (but what was marked unread
    again). Returns the marker before, so the page can show what was new."""
    newest, marker = _newest_and_marker(session, user)
    if marker is not None and newest <= marker.last_read_id:
        return marker.last_read_id  # nothing new since: nothing to write
    with writing_now(session):  # a GET, begun as a reader: write as a writer, read again
        newest, marker = _newest_and_marker(session, user, again=True)
        before = marker.last_read_id if marker is not None else 0
        if marker is None:
            session.add(StreamRead(user_id=user.id, last_read_id=newest))
        elif newest > marker.last_read_id:
            marker.last_read_id = newest
        session.commit()
    if newest > before:  # (a GET) the navbar's unread count changed
        page_cache.reader_changed(user.username)
    return before


def marked_unread(session: Session, user: User, msg_ids: Iterable[str]) -> set[str]:
    """Those of ``msg_ids`` that ``user`` marked unread again."""
    return set(
        session.scalars(
            sa.select(StreamUnread.msg_id).where(
                StreamUnread.user_id == user.id, StreamUnread.msg_id.in_(sorted(set(msg_ids)))
            )
        )
    )


def set_unread(session: Session, user: User, msg_id: str, unread: bool) -> None:
    """Mark the entry keyed by ``msg_id`` unread again, or read."""
    mark = session.get(StreamUnread, (user.id, msg_id))
    if unread and mark is None:
        session.add(StreamUnread(user_id=user.id, msg_id=msg_id))
    elif not unread and mark is not None:
        session.delete(mark)
    session.commit()


def grouped(messages: list[Message], username: str) -> list[dict[str, Any]]:
    """Stream entries, newest first: each run of one person's changes to one hub as one
    entry (keyed by its oldest msg_id), and the other messages grouped where
    fedmsg.meta.conglomerate does so (keyed by their first msg_id), or one by one if that
    fails. A group keeps every msg_id it holds."""
    runs = group_edits(entry(message) for message in messages)
    entries = [run for run in runs if len(run["msg_ids"]) > 1]
    single_ids = {run["msg_id"] for run in runs if len(run["msg_ids"]) == 1}
    others = [message for message in messages if message.msg_id in single_ids]
    entries += _conglomerated(others, username)
    for shown in entries:
        shown.setdefault("key", shown["msg_id"])
    entries.sort(key=lambda shown: (shown["time"], shown["id"]), reverse=True)
    return entries


def _conglomerate_failed(error: Exception) -> None:
    now = time.monotonic()
    if now - _warned_at["conglomerate"] >= CONGLOMERATE_WARNING_INTERVAL:
        _warned_at["conglomerate"] = now
        log.warning(
            "fedmsg.meta could not group stream messages (%s: %s): showing them one by "
            "one; a processor may be broken",
            type(error).__name__,
            error,
        )
    log.debug("conglomerate failed", exc_info=True)


def _conglomerated(messages: list[Message], username: str) -> list[dict[str, Any]]:
    singles = {message.msg_id: entry(message) for message in messages}
    bodies = [
        {**message.body, "msg_id": message.msg_id, "timestamp": message.timestamp.timestamp()}
        for message in messages
    ]
    try:
        groups = conglomerate(bodies, username)
    except Exception as error:
        _conglomerate_failed(error)
        return list(singles.values())
    entries = []
    for group in groups:
        msg_ids = [m for m in (group.get("msg_ids") or {}) if m in singles]
        if not msg_ids:
            continue
        first = singles[msg_ids[0]]
        if len(msg_ids) == 1:
            entries.append(first)
            continue
        newest = max(msg_ids, key=lambda m: (singles[m]["time"], singles[m]["id"]))
        entries.append(
            {
                **singles[newest],
                "subtitle": group.get("subtitle") or first["subtitle"],
                "hubs_message": None,  # the group's subtitle tells it, not its newest message
                "link": group.get("link") or None,
                "msg_ids": msg_ids,
                "key": msg_ids[0],
            }
        )
    return entries


def followers_of(session: Session, usernames: Iterable[str]) -> set[str]:
    """Whose stream a message involving ``usernames`` belongs to: those people, and the
    owners, members and subscribers of the hubs showing their activity."""
    usernames = sorted(set(usernames))
    if not usernames:
        return set()
    person = aliased(User)
    follower = aliased(User)
    people_role = aliased(Membership)
    follow_role = aliased(Membership)
    team_hubs = (
        sa.select(people_role.hub_id)
        .join(person, person.id == people_role.user_id)
        .join(Hub, Hub.id == people_role.hub_id)
        .where(
            person.username.in_(usernames),
            people_role.role.in_(PEOPLE),
            Hub.type == HubType.team,
        )
    )
    user_hubs = sa.select(Hub.id).where(Hub.type == HubType.user, Hub.name.in_(usernames))
    followers = (
        sa.select(follower.username)
        .join(follow_role, follow_role.user_id == follower.id)
        .where(
            follow_role.role.in_(FOLLOWING),
            sa.or_(follow_role.hub_id.in_(team_hubs), follow_role.hub_id.in_(user_hubs)),
        )
    )
    existing = sa.select(User.username).where(User.username.in_(usernames))
    return set(session.scalars(followers.union(existing)))


__all__ = [
    "NO_FILTER",
    "StreamFilter",
    "filtered_people",
    "followed_hubs",
    "followers_of",
    "grouped",
    "last_read_id",
    "mark_stream_read",
    "marked_unread",
    "set_unread",
    "stream_messages",
    "stream_people",
    "unread_count",
]
