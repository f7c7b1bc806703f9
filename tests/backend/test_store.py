import datetime as dt

import pytest
import sqlalchemy as sa

from hubs.backend.store import InvalidMessage, message_id, message_time, prune, store_message
from hubs.models import Message, MessagePackage, MessageUser, utcnow


def count(session, model) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def test_stores_corpus_messages_once_with_their_people(session, corpus):
    for entry in corpus:
        expected = entry["expected"]
        store_message(
            session, entry["msg"], expected.get("usernames", []), expected.get("packages", [])
        )
    session.commit()
    stored = count(session, Message)
    # The corpus repeats a few messages (same msg_id): each is kept once.
    distinct = {message_id(entry["msg"]) for entry in corpus}
    assert stored == len(distinct)
    for entry in corpus[:50]:
        assert store_message(session, entry["msg"], [], []) is None
    assert count(session, Message) == stored

    badge = next(e for e in corpus if e["topic"].endswith("fedbadges.person.rank.advance"))
    row = session.scalar(sa.select(Message).where(Message.msg_id == message_id(badge["msg"])))
    assert row.category == "fedbadges"
    assert row.usernames == badge["expected"]["usernames"]
    assert {u.username for u in row.users} == set(badge["expected"]["usernames"])
    assert row.body == badge["msg"]


def test_latest_messages_for_users_come_from_the_index(session, corpus):
    for entry in corpus:
        store_message(session, entry["msg"], entry["expected"].get("usernames", []), [])
    session.commit()
    rows = session.scalars(
        sa.select(MessageUser.message_id)
        .where(MessageUser.username == "ralph")
        .order_by(MessageUser.timestamp.desc())
    ).all()
    first = {}  # the store keeps the first of messages sharing a msg_id
    for entry in corpus:
        first.setdefault(message_id(entry["msg"]), entry)
    expected = [i for i, e in first.items() if "ralph" in e["expected"].get("usernames", [])]
    assert len(rows) == len(expected) > 10


@pytest.mark.parametrize(
    "message", [{}, {"topic": "a.b"}, {"topic": "", "msg": {}}, {"topic": "x", "msg": [1]}]
)
def test_invalid_messages_are_refused(session, message):
    with pytest.raises(InvalidMessage):
        store_message(session, message, [], [])


def test_message_time_and_id_fallbacks():
    assert message_time({"timestamp": 0}) == dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    # Some old fedmsg messages have no timestamp: they happened as they arrive.
    assert abs((message_time({}) - utcnow()).total_seconds()) < 5
    assert abs((message_time({"timestamp": None}) - utcnow()).total_seconds()) < 5
    for broken in ("yesterday", "1700000000", 1e20, -5, float("nan"), True, [1]):
        with pytest.raises(InvalidMessage, match="is not a time"):
            message_time({"timestamp": broken})
    assert message_id({"msg_id": "2026-abc"}) == "2026-abc"
    assert message_id({"topic": "t", "msg": {}}).startswith("sha1-")
    assert message_id({"topic": "t", "msg": {}}) == message_id({"msg": {}, "topic": "t"})


def _message(n: int, when: dt.datetime, users=(), packages=()) -> dict:
    return {
        "topic": "org.fedoraproject.prod.bodhi.update.comment",
        "msg": {"n": n},
        "msg_id": f"m-{n}",
        "timestamp": when.timestamp(),
        "users": users,
        "packages": packages,
    }


def test_prune_by_age_and_by_cap(session):
    now = utcnow()
    old = _message(1, now - dt.timedelta(days=100), users=["ralph"])
    fresh = [_message(n, now - dt.timedelta(minutes=n), users=["ralph"]) for n in range(2, 8)]
    shared = _message(20, now - dt.timedelta(hours=5), users=["ralph", "mizmo"])
    package = _message(30, now - dt.timedelta(hours=6), packages=["guake"])
    for message in [old, *fresh, shared, package]:
        store_message(session, message, message["users"], message["packages"])
    session.commit()

    deleted = prune(session, days=90, cap=3)
    kept = set(session.scalars(sa.select(Message.msg_id)))
    # ralph keeps his 3 newest; mizmo's only message survives through her; guake's too.
    assert kept == {"m-2", "m-3", "m-4", "m-20", "m-30"}
    assert deleted == 4
    assert count(session, MessageUser) == 5  # m-2, m-3, m-4 for ralph; m-20 for ralph+mizmo
    assert count(session, MessagePackage) == 1


def test_prune_keeps_fresh_messages_of_nobody_until_they_age(session):
    now = utcnow()
    minute_old = _message(1, now - dt.timedelta(minutes=1))
    month_old = _message(2, now - dt.timedelta(days=30))
    too_old = _message(3, now - dt.timedelta(days=91))
    for message in (minute_old, month_old, too_old):
        store_message(session, message, [], [])
    session.commit()

    assert prune(session, days=90, cap=1) == 1
    assert set(session.scalars(sa.select(Message.msg_id))) == {"m-1", "m-2"}


def test_prune_leaves_the_corpus_alone_under_the_default_retention(session, corpus):
    from hubs.demo import FEDMSG_CORPUS
    from hubs.seed import load_messages

    stored = load_messages(session, str(FEDMSG_CORPUS), say=lambda line: None)
    unique = {message_id(entry["msg"]) for entry in corpus}  # a few examples share an id
    assert stored == len(unique) == count(session, Message)
    assert prune(session, days=90, cap=500) == 0
    assert count(session, Message) == len(unique)


def test_a_broken_timestamp_or_an_oversized_body_is_invalid_and_not_stored(session, corpus):
    real = next(entry["msg"] for entry in corpus if entry["msg"].get("msg_id"))
    yesterday = {**real, "msg_id": "broken-time", "timestamp": "yesterday"}
    with pytest.raises(InvalidMessage, match="'yesterday' is not a time"):
        store_message(session, yesterday, ["ralph"], [])
    huge = {**real, "msg_id": "huge", "msg": {**real["msg"], "pad": "x" * 300_000}}
    with pytest.raises(InvalidMessage, match=r"bytes, more than the 262144 allowed"):
        store_message(session, huge, ["ralph"], [], max_bytes=256 * 1024)
    assert store_message(session, {**real, "msg_id": "fits"}, ["ralph"], [], 256 * 1024)
    session.commit()
    assert set(session.scalars(sa.select(Message.msg_id))) == {"fits"}
