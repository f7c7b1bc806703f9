"""The message store: bus messages kept for feeds, stats and activity widgets."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import logging
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hubs.bus import message_people_and_packages
from hubs.messages import topic_category
from hubs.models import Message, MessagePackage, MessageUser, utcnow

log = logging.getLogger(__name__)

MAX_NAME = 64  # usernames longer than a Fedora account name cannot be one
MAX_PACKAGE = 256


class InvalidMessage(ValueError):
    """A bus message missing what the store needs (a topic, a body)."""


def message_time(message: dict[str, Any]) -> dt.datetime:
    """The message's timestamp as an aware datetime: now when it has none (some old
    fedmsg messages), InvalidMessage when it has one that is not a time."""
    stamp = message.get("timestamp")
    if stamp is None:
        return utcnow()
    if isinstance(stamp, (int, float)) and not isinstance(stamp, bool) and stamp >= 0:
        with contextlib.suppress(OverflowError, OSError, ValueError):  # out of range, NaN
            return dt.datetime.fromtimestamp(stamp, dt.UTC)
    raise InvalidMessage(f"timestamp {str(stamp)[:40]!r} is not a time")


def message_id(message: dict[str, Any]) -> str:
    """The message's msg_id, or one derived from its content for old messages."""
    msg_id = message.get("msg_id")
    if isinstance(msg_id, str) and 0 < len(msg_id) <= 128:
        return msg_id
    import hashlib

    digest = hashlib.sha1(json.dumps(message, sort_keys=True, default=str).encode()).hexdigest()
    return f"sha1-{digest}"


def check_message(message: dict[str, Any], max_bytes: int | None = None) -> dt.datetime:
    """What the store needs of a message, checked: a topic, a body, a real time and a
    size within ``max_bytes`` (as JSON). Returns its time; raises InvalidMessage."""
    topic = message.get("topic")
    if not isinstance(topic, str) or not topic or not isinstance(message.get("msg"), dict):
        raise InvalidMessage("a bus message needs a topic and a msg object")
    when = message_time(message)
    if max_bytes is not None:
        size = len(json.dumps(message, default=str).encode())
        if size > max_bytes:
            raise InvalidMessage(f"{topic}: {size} bytes, more than the {max_bytes} allowed")
    return when


def store_message(
    session: Session,
    message: dict[str, Any],
    usernames: Iterable[str],
    packages: Iterable[str],
    max_bytes: int | None = None,
) -> Message | None:
    """Keep ``message`` with its users and packages; None if it was stored before."""
    when = check_message(message, max_bytes)
    msg_id = message_id(message)
    if session.scalar(sa.select(Message.id).where(Message.msg_id == msg_id)) is not None:
        return None
    row = _row(message, msg_id, when, usernames, packages)
    session.add(row)
    session.flush()
    return row


@dataclasses.dataclass(frozen=True)
class StoredMessage:
    """A message just stored, with what the bus's reader found in it."""

    msg_id: str
    message: dict[str, Any]
    usernames: frozenset[str]
    packages: frozenset[str]


@dataclasses.dataclass
class StoredPage:
    """What store_page() did with a page of messages."""

    stored: list[StoredMessage]  # those stored now, in order
    duplicates: int  # stored before (or twice in the page)
    invalid: int  # refused at the door (InvalidMessage)
    newest: dt.datetime | None  # the latest time of a message kept or already there


def store_page(
    session: Session, messages: list[dict[str, Any]], max_bytes: int | None = None
) -> StoredPage:
    """Keep each of ``messages`` (bus values) not stored yet, with the users and
    packages the bus's reader finds in it: a page of history in one transaction, its
    duplicates found with one query. Not committed."""
    checked: dict[str, tuple[dict[str, Any], dt.datetime]] = {}
    invalid = duplicates = 0
    for message in messages:
        try:
            when = check_message(message, max_bytes)
        except InvalidMessage as error:
            invalid += 1
            log.info("Ignored an invalid message: %s", error)
            continue
        msg_id = message_id(message)
        if msg_id in checked:
            duplicates += 1
        checked[msg_id] = (message, when)
    there = set()
    if checked:
        there = set(session.scalars(sa.select(Message.msg_id).where(Message.msg_id.in_(checked))))
    stored = []
    for msg_id, (message, when) in checked.items():
        if msg_id in there:
            duplicates += 1
            continue
        usernames, packages = message_people_and_packages(message)
        session.add(_row(message, msg_id, when, usernames, packages))
        stored.append(StoredMessage(msg_id, message, frozenset(usernames), frozenset(packages)))
    session.flush()
    newest = max((when for _, when in checked.values()), default=None)
    return StoredPage(stored=stored, duplicates=duplicates, invalid=invalid, newest=newest)


def _row(
    message: dict[str, Any],
    msg_id: str,
    when: dt.datetime,
    usernames: Iterable[str],
    packages: Iterable[str],
) -> Message:
    topic = message["topic"]
    users = sorted({u for u in usernames if 0 < len(u) <= MAX_NAME})
    names = sorted({p for p in packages if 0 < len(p) <= MAX_PACKAGE})
    row = Message(
        msg_id=msg_id,
        topic=topic[:256],
        category=topic_category(topic),
        timestamp=when,
        usernames=users,
        packages=names,
        body=message,
    )
    row.users = [MessageUser(username=u, timestamp=when) for u in users]
    row.package_rows = [MessagePackage(package=p, timestamp=when) for p in names]
    return row


def _within_cap(table, column, cap: int):
    ranked = sa.select(
        table.message_id,
        sa.func.row_number()
        .over(partition_by=column, order_by=table.timestamp.desc())
        .label("rank"),
    ).subquery()
    return sa.select(ranked.c.message_id).where(ranked.c.rank <= cap)


def prune(session: Session, days: int, cap: int) -> int:
    """Delete messages older than ``days``, and those of some user or package that are
    not among the ``cap`` newest of any of their users or packages. A message of nobody
    and no package only goes with age. Returns how many were deleted."""
    cutoff = utcnow() - dt.timedelta(days=days)
    has_people_or_packages = sa.or_(
        Message.id.in_(sa.select(MessageUser.message_id)),
        Message.id.in_(sa.select(MessagePackage.message_id)),
    )
    doomed = sa.or_(
        Message.timestamp < cutoff,
        sa.and_(
            has_people_or_packages,
            Message.id.not_in(_within_cap(MessageUser, MessageUser.username, cap)),
            Message.id.not_in(_within_cap(MessagePackage, MessagePackage.package, cap)),
        ),
    )
    ids = list(session.scalars(sa.select(Message.id).where(doomed)))
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        session.execute(sa.delete(MessageUser).where(MessageUser.message_id.in_(chunk)))
        session.execute(sa.delete(MessagePackage).where(MessagePackage.message_id.in_(chunk)))
        session.execute(sa.delete(Message).where(Message.id.in_(chunk)))
    session.commit()
    return len(ids)
