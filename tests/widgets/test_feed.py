"""The activity feed: real corpus messages from the store, newest first, paginated,
rendered with fedmsg.meta; the activity stats beside it."""

import datetime as dt

import pytest
import sqlalchemy as sa

from hubs.backend.store import store_message
from hubs.bus import message_people_and_packages
from hubs.entries import MESSAGES_PER_ENTRY
from hubs.memo import forget
from hubs.models import HubType, Message, MessageUser, Role, User, utcnow
from hubs.rendering import render_panel
from hubs.seed import load_messages
from hubs.widgets import registry
from tests import factories
from tests.conftest import CORPUS
from tests.html import role_texts, with_role
from tests.translations import french_catalog


@pytest.fixture
def app_config(app_config, tmp_path):
    with french_catalog(tmp_path / "translations") as directory:
        yield {**app_config, "BABEL_TRANSLATION_DIRECTORIES": directory}


@pytest.fixture
def stored(session, corpus):
    """The corpus in the store, one message a minute up to now (newest last)."""
    now = utcnow()
    for number, entry in enumerate(corpus):
        message = {**entry["msg"], "msg_id": f"corpus-{number}"}
        message["timestamp"] = (now - dt.timedelta(minutes=len(corpus) - number)).timestamp()
        usernames, packages = message_people_and_packages(message)
        store_message(session, message, usernames, packages)
    session.commit()


def expected_ids(session, usernames) -> list[str]:
    """Written apart from hubs.entries: msg_ids involving ``usernames``, newest first."""
    rows = session.execute(
        sa.select(Message.msg_id, Message.timestamp, Message.id)
        .join(MessageUser, MessageUser.message_id == Message.id)
        .where(MessageUser.username.in_(usernames))
        .distinct()
    ).all()
    return [row[0] for row in sorted(rows, key=lambda r: (r[1], r[2]), reverse=True)]


def test_feed_pages_through_everything_without_gaps_or_repeats(
    app_context, client, session, stored, ralph_hub
):
    widget = factories.widget(session, ralph_hub, "feed", per_page=7)
    session.commit()
    data = registry["feed"].compute(session, widget)
    assert data["more"] is True and len(data["entries"]) == 7
    assert data["entries"][0]["subtitle"].startswith("ralph")
    seen = [entry["msg_id"] for entry in data["entries"]]
    html = render_panel(widget, registry["feed"], {"ok": True, "data": data})
    link = with_role(html, "feed-more")[0]["href"]
    while link:
        page = client.get(link)
        assert page.status_code == 200
        seen += [e["data-msg-id"] for e in with_role(page.text, "feed-entry")]
        more = with_role(page.text, "feed-more")
        link = more[0]["href"] if more else None
    assert seen == expected_ids(session, ["ralph"])
    assert len(seen) > 20


def test_team_feed_covers_its_owners_and_members_only(app_context, session, stored):
    team = factories.hub(session, "infra")
    for name, role in [("ralph", Role.owner), ("pingou", Role.member), ("toshio", Role.subscriber)]:
        factories.role(session, team, factories.user(session, name), role)
    widget = factories.widget(session, team, "feed", per_page=50)
    entries = registry["feed"].compute(session, widget)["entries"]
    assert [e["msg_id"] for e in entries] == expected_ids(session, ["ralph", "pingou"])[:50]


def test_feed_rendering_normal_and_empty(app_context, session, stored, ralph_hub):
    widget = factories.widget(session, ralph_hub, "feed", per_page=3)
    data = registry["feed"].compute(session, widget)
    html = render_panel(widget, registry["feed"], {"ok": True, "data": data})
    entries = with_role(html, "feed-entry")
    assert len(entries) == 3 and "minutes ago" in html
    assert "/avatar/ralph.svg" in html  # offline: local avatars, no remote icons
    lonely = factories.hub(session, "nobody", HubType.user)
    empty = registry["feed"].compute(session, factories.widget(session, lonely, "feed"))
    assert empty["entries"] == [] and empty["more"] is False and empty["per_page"] == 10
    assert with_role(render_panel(widget, registry["feed"], {"ok": True, "data": empty}), "empty")


def test_hubs_own_entries_are_told_in_the_readers_language(app, session, stored, ralph_hub):
    fields = {"hub_id": ralph_hub.id, "hub_name": "design", "hub_type": "team",
              "agent": "ralph", "widget_label": "Badges"}  # fmt: skip
    message = {**factories.hubs_message("hubs.widget.created", **fields)}
    message["timestamp"] = utcnow().timestamp()
    store_message(session, message, *message_people_and_packages(message))
    session.commit()
    widget = factories.widget(session, ralph_hub, "feed", per_page=3)
    with app.test_request_context():
        data = registry["feed"].compute(session, widget)
    app.config["LANGUAGES"] = ["en", "fr"]
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        html = render_panel(widget, registry["feed"], {"ok": True, "data": data})
    told = [text.strip() for text in role_texts(html, "feed-entry")]
    assert told[0].startswith("ralph a ajouté Badges au hub d'équipe design")
    # Other services' sentences stay as fedmsg.meta wrote them.
    assert told[1].startswith(data["entries"][1]["subtitle"])


def store_new(session, corpus, username: str, count: int) -> list[str]:
    """Store ``count`` corpus messages involving ``username`` again, as new (now)."""
    mine = [e["msg"] for e in corpus if username in message_people_and_packages(e["msg"])[0]]
    ids = []
    for number, original in enumerate(mine[:count]):
        message = {
            **original,
            "msg_id": f"new-{username}-{number}",
            "timestamp": utcnow().timestamp(),
        }
        store_message(session, message, *message_people_and_packages(message))
        ids.append(message["msg_id"])
    session.commit()
    return ids


def test_refresh_puts_new_messages_on_top_without_reading_the_feed_again(
    app_context, session, stored, ralph_hub, corpus
):
    widget = factories.widget(session, ralph_hub, "feed", per_page=5)
    feed = registry["feed"]
    before = feed.data(session, widget)  # cached
    new = store_new(session, corpus, "ralph", 2)
    refreshed = feed.refresh(session, widget)
    prepend = refreshed["prepend"]
    shown = [e["msg_id"] for e in refreshed["data"]["entries"]]
    assert shown == list(reversed(new)) + [e["msg_id"] for e in before["data"]["entries"][:3]]
    assert refreshed["data"]["more"] is True and prepend["role"] == "feed"
    assert [e["data-msg-id"] for e in with_role(prepend["html"], "feed-entry")] == shown[:2]
    assert prepend["after"] == before["version"] < refreshed["version"]
    # Every entry's age is told when drawn, from its time, not kept from when it was read.
    ages = role_texts(refreshed["html"], "entry-time")
    assert len(ages) == len(shown) and ages[:2] == ["just now", "just now"]
    # A new entry keeps its time, not its age in words: the page tells it in its reader's language.
    assert not any("ago" in e for e in refreshed["data"]["entries"][:2])
    # What was cached is what a full read gives.
    assert feed.data(session, widget) == refreshed
    assert shown == [e["msg_id"] for e in feed.compute(session, widget)["entries"]]


def test_refresh_declines_when_a_full_read_is_needed(
    app_context, session, stored, ralph_hub, corpus
):
    feed = registry["feed"]
    widget = factories.widget(session, ralph_hub, "feed", per_page=3)
    assert feed.refresh(session, widget) is None  # nothing cached yet
    feed.data(session, widget)
    assert feed.refresh(session, widget) is None  # nothing new
    store_new(session, corpus, "ralph", 4)
    assert feed.refresh(session, widget) is None  # more than a page is new
    # A message that arrives late (its time is older than the top entry) goes below it:
    # only a full read puts it in its place.
    feed.rebuild(session, widget)
    late = {**corpus[0]["msg"], "msg_id": "late", "timestamp": utcnow().timestamp() - 7200}
    store_message(session, late, ["ralph"], [])
    session.commit()
    assert feed.refresh(session, widget) is None
    team = factories.hub(session, "infrastructure")
    team_feed = factories.widget(session, team, "feed")
    factories.role(session, team, factories.user(session, "nirik"), Role.owner)
    feed.data(session, team_feed)
    factories.role(
        session,
        team,
        session.scalars(sa.select(User).where(User.username == "ralph")).one(),
        Role.member,
    )
    forget(session)
    store_new(session, corpus, "ralph", 1)
    assert feed.refresh(session, team_feed) is None  # ralph joined: the people changed


def test_feed_more_refuses_bad_cursors(client, session, ralph_hub):
    widget = factories.widget(session, ralph_hub, "feed")
    sticky = factories.widget(session, ralph_hub, "sticky")
    session.commit()
    base = f"/u/ralph/w/{widget.id}/more"
    assert client.get(base).status_code == 400
    assert client.get(base + "?before=yesterday&id=1").status_code == 400
    assert client.get(base + "?before=2026-01-01T00:00:00&id=1").status_code == 400
    assert client.get(f"/u/ralph/w/{sticky.id}/more").status_code == 404


def test_feed_and_stats_react_to_their_people_only(app_context, session, ralph_hub, corpus):
    feed = factories.widget(session, ralph_hub, "feed")
    stats = factories.widget(session, ralph_hub, "fedmsgstats")
    concerning = [e["msg"] for e in corpus if "ralph" in message_people_and_packages(e["msg"])[0]]
    others = [e["msg"] for e in corpus if "ralph" not in message_people_and_packages(e["msg"])[0]]
    assert len(concerning) > 20 and len(others) > 100
    for widget in (feed, stats):
        check = registry[widget.plugin].should_invalidate
        assert all(check(message, session, widget) for message in concerning)
        assert not any(check(message, session, widget) for message in others)


def test_populate_loads_the_corpus_recently_and_once(session):
    first = load_messages(session, str(CORPUS), say=lambda line: None)
    again = load_messages(session, str(CORPUS), say=lambda line: None)
    assert first > 250 and again == 0
    oldest = session.scalar(sa.select(sa.func.min(Message.timestamp)))
    assert utcnow() - oldest <= dt.timedelta(days=31)


# -- runs of one person's hub changes, grouped -------------------------------------------


@pytest.fixture
def infra(session):
    """The infra team: nirik owns it, ralph is a member; two sticky notes."""
    team = factories.hub(session, "infra")
    factories.role(session, team, factories.user(session, "nirik"), Role.owner)
    factories.role(session, team, factories.user(session, "ralph"), Role.member)
    notes = [factories.widget(session, team, "sticky", text=f"note {n}") for n in (1, 2)]
    session.commit()
    return team, notes


class Bus:
    """What the code under test publishes, stored as the backend stores it, each a
    second after the last one (after the corpus, which ends a minute ago)."""

    def __init__(self, session, published):
        self.session, self.published, self.count = session, published, 0
        self.start = utcnow()

    def deliver(self) -> list[str]:
        ids = []
        for topic, fields in self.published:
            message = {
                "topic": f"org.fedoraproject.dev.hubs.{topic}",
                "msg": fields,
                "msg_id": f"hubs-{self.count}",
                "timestamp": (self.start + dt.timedelta(seconds=self.count)).timestamp(),
            }
            self.count += 1
            store_message(self.session, message, *message_people_and_packages(message))
            ids.append(message["msg_id"])
        self.published.clear()
        self.session.commit()
        return ids

    def store_corpus_message(self, corpus, username: str) -> str:
        original = next(
            e["msg"] for e in corpus if username in message_people_and_packages(e["msg"])[0]
        )
        message = {
            **original,
            "msg_id": f"between-{self.count}",
            "timestamp": (self.start + dt.timedelta(seconds=self.count)).timestamp(),
        }
        self.count += 1
        store_message(self.session, message, *message_people_and_packages(message))
        self.session.commit()
        return message["msg_id"]


def edit_notes(session, notes, times: int, agent: str = "nirik") -> None:
    from hubs import changes

    for number in range(times):
        note = notes[number % len(notes)]
        changes.update_widget_config(session, note, {"text": f"{agent} edit {number}"}, agent)


def test_a_run_of_one_persons_changes_is_one_feed_entry_and_the_page_stays_full(
    app_context, session, stored, infra, published
):
    team, notes = infra
    bus = Bus(session, published)
    edit_notes(session, notes, 9)
    run = bus.deliver()
    widget = factories.widget(session, team, "feed", per_page=5)
    published.clear()
    entries = registry["feed"].compute(session, widget)["entries"]
    top = entries[0]
    assert top["subtitle"] == "nirik changed 2 widgets of the infra team hub (9 changes)"
    assert top["msg_ids"] == list(reversed(run)) and top["msg_id"] == run[0]
    assert top["link"] == "http://localhost:5000/t/infra/"
    # The page still shows 5 entries: the other 4 are the older messages, one each.
    older = [i for i in expected_ids(session, ["nirik", "ralph"]) if i not in run]
    assert [e["msg_id"] for e in entries[1:]] == older[:4]
    html = render_panel(widget, registry["feed"], {"ok": True, "data": {"entries": entries}})
    shown = with_role(html, "feed-entry")[0]
    assert (shown["data-msg-id"], shown["data-count"]) == (run[0], "9")


def test_runs_break_at_another_persons_message_and_at_another_hub(
    app_context, session, stored, infra, published, corpus
):
    team, notes = infra
    design = factories.hub(session, "design")
    factories.role(
        session, design, session.scalar(sa.select(User).filter_by(username="nirik")), Role.owner
    )
    other_note = factories.widget(session, design, "sticky", text="design note")
    session.commit()
    bus = Bus(session, published)
    edit_notes(session, notes, 3)
    first = bus.deliver()
    between = bus.store_corpus_message(corpus, "ralph")
    edit_notes(session, notes, 2)
    second = bus.deliver()
    edit_notes(session, [other_note], 2)
    elsewhere = bus.deliver()
    widget = factories.widget(session, team, "feed", per_page=10)
    entries = registry["feed"].compute(session, widget)["entries"]
    # The design hub's changes are nirik's too (the infra feed shows its people's
    # activity everywhere), but of another hub: a run of their own.
    assert [e["msg_ids"] for e in entries[:4]] == [
        list(reversed(elsewhere)),
        list(reversed(second)),
        [between],
        list(reversed(first)),
    ]
    assert entries[0]["subtitle"] == "nirik changed 1 widget of the design team hub (2 changes)"


def test_a_new_change_joins_the_run_on_top_in_place(app_context, session, stored, infra, published):
    team, notes = infra
    bus = Bus(session, published)
    edit_notes(session, notes, 3)
    run = bus.deliver()
    widget = factories.widget(session, team, "feed", per_page=5)
    feed = registry["feed"]
    before = feed.data(session, widget)  # cached, the run of 3 on top
    published.clear()
    edit_notes(session, notes, 1)
    (new,) = bus.deliver()
    refreshed = feed.refresh(session, widget)
    top = refreshed["data"]["entries"][0]
    assert top["msg_ids"] == [new, *reversed(run)] and top["msg_id"] == run[0]
    assert top["subtitle"] == "nirik changed 2 widgets of the infra team hub (4 changes)"
    # What is pushed: the grown run alone, with the msg_id the page shows, one more message.
    pushed = with_role(refreshed["prepend"]["html"], "feed-entry")
    assert [(e["data-msg-id"], e["data-count"]) for e in pushed] == [(run[0], "4")]
    assert refreshed["prepend"]["after"] == before["version"]
    # And the cache holds what a full read gives.
    assert feed.compute(session, widget)["entries"][:1] == [top]


def test_paging_through_grouped_entries_shows_every_message_once(
    app_context, client, session, stored, infra, published, corpus
):
    team, notes = infra
    bus = Bus(session, published)
    edit_notes(session, notes, 40)  # longer than a page reads: it goes on with "More"
    bus.deliver()
    bus.store_corpus_message(corpus, "ralph")
    edit_notes(session, notes, 4)
    bus.deliver()
    widget = factories.widget(session, team, "feed", per_page=3)
    session.commit()
    data = registry["feed"].compute(session, widget)
    html = render_panel(widget, registry["feed"], {"ok": True, "data": data})
    counts = [(e["data-msg-id"], int(e["data-count"])) for e in with_role(html, "feed-entry")]
    link = with_role(html, "feed-more")[0]["href"]
    while link:
        page = client.get(link)
        assert page.status_code == 200
        counts += [
            (e["data-msg-id"], int(e["data-count"])) for e in with_role(page.text, "feed-entry")
        ]
        more = with_role(page.text, "feed-more")
        link = more[0]["href"] if more else None
    everything = expected_ids(session, ["nirik", "ralph"])
    assert sum(count for _key, count in counts) == len(everything)
    assert len({key for key, _count in counts}) == len(counts)
    # A page reads at most 10 messages an entry: the run of 40 went on over pages.
    assert 1 < max(count for _key, count in counts) <= 3 * MESSAGES_PER_ENTRY < 40


def test_a_message_stored_while_the_feed_was_read_is_not_shown_twice(
    app_context, session, stored, ralph_hub, corpus, monkeypatch
):
    # data() reads "seen", then the entries; a message committed in between (another
    # backend storing) is on the page but newer than "seen". The next refresh finds it
    # again: it must not go on top a second time (nor count twice in a run of edits).
    from hubs.widgets import feed as feed_module

    feed = registry["feed"]
    widget = factories.widget(session, ralph_hub, "feed", per_page=5)
    new = store_new(session, corpus, "ralph", 1)
    read_before_it = feed_module.last_stored(session) - 1
    monkeypatch.setattr(feed_module, "last_stored", lambda session: read_before_it)
    shown = feed.data(session, widget)["data"]
    assert shown["entries"][0]["msg_id"] == new[0] and shown["seen"] == read_before_it
    monkeypatch.undo()
    refreshed = feed.refresh(session, widget)
    if refreshed is not None:
        ids = [e["msg_id"] for e in refreshed["data"]["entries"]]
        assert ids.count(new[0]) == 1, ids
    rebuilt = feed.compute(session, widget)
    now = feed.data(session, widget)["data"]
    assert [e["msg_id"] for e in now["entries"]] == [e["msg_id"] for e in rebuilt["entries"]]


def test_the_newest_messages_of_people_are_those_of_a_walk_through_all_of_theirs(
    app_context, session, corpus
):
    """messages_involving looks among the newest of each person: it finds what sorting
    every message of theirs would, with ties of time, cursors, "stored since" bounds
    and people beyond the per-person way alike."""
    import random

    from hubs import entries

    rng = random.Random(21)
    people = [f"person{n}" for n in range(8)]
    start = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    bodies = [e["msg"] for e in corpus]
    for number in range(300):
        involved = set(rng.sample(people, rng.choice([1, 1, 2, 3])))
        # Few distinct times: many messages share one, and the id breaks the tie.
        when = start + dt.timedelta(minutes=rng.randrange(60))
        message = {
            **rng.choice(bodies),
            "msg_id": f"oracle-{number}",
            "timestamp": when.timestamp(),
        }
        store_message(session, message, involved, set())
    session.commit()
    rows = session.execute(sa.select(MessageUser.username, Message.id, Message.timestamp).join(
        Message, Message.id == MessageUser.message_id)).all()  # fmt: skip

    def utc(stamp: dt.datetime) -> dt.datetime:  # SQLite gives naive UTC, PostgreSQL aware
        return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)

    def walk(names, limit, before=None, newer_than=None):
        found = {(utc(stamp), id_) for name, id_, stamp in rows if name in names}
        if before is not None:
            found = {(s, i) for s, i in found if (s, i) < (utc(before[0]), before[1])}
        if newer_than is not None:
            found = {(s, i) for s, i in found if i > newer_than}
        return [i for _s, i in sorted(found, reverse=True)[:limit]]

    ids = sorted(i for _n, i, _s in rows)
    for limit_of_people in (entries.PER_PERSON_MAX, 0):  # the per-person way, and the other
        entries.PER_PERSON_MAX, kept = limit_of_people, entries.PER_PERSON_MAX
        try:
            for _round in range(40):
                names = set(rng.sample(people, rng.randint(1, len(people))))
                limit = rng.choice([1, 5, 21, 400])
                anchor = session.get(Message, rng.choice(ids))
                before = rng.choice([None, (anchor.timestamp, anchor.id)])
                newer_than = rng.choice([None, None, rng.choice(ids)])
                got = entries.messages_involving(session, names, limit, before, newer_than)
                assert [m.id for m in got] == walk(names, limit, before, newer_than)
        finally:
            entries.PER_PERSON_MAX = kept
