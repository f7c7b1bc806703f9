"""My Stream, saved notifications and the hubs directory."""

import datetime as dt

import pytest
import sqlalchemy as sa
from markupsafe import escape

from hubs import entries
from hubs.backend.store import prune, store_message
from hubs.bus import message_people_and_packages
from hubs.models import HubType, Message, Role, SavedNotification, utcnow
from hubs.my_stream import followers_of, stream_messages, stream_people
from hubs.views.my_stream import notification_counts
from tests import factories
from tests.conftest import log_in
from tests.html import role_texts, with_role
from tests.translations import french_catalog


@pytest.fixture
def app_config(app_config, tmp_path):
    with french_catalog(tmp_path / "translations") as directory:
        yield {
            **app_config,
            "BABEL_TRANSLATION_DIRECTORIES": directory,
        }


@pytest.fixture
def people(session, corpus):
    """ralph owns his hub and belongs to infra (with pingou), subscribes to design
    (lmacken's team) and to toshio's user hub, and stars websites (nirik's)."""
    users = {n: factories.user(session, n) for n in
             ["ralph", "pingou", "lmacken", "toshio", "nirik", "mizmo"]}  # fmt: skip
    for name, user in users.items():
        factories.role(session, factories.hub(session, name, HubType.user), user, Role.owner)
    teams = {n: factories.hub(session, n) for n in ["infra", "design", "websites"]}
    for team, name, role in [
        ("infra", "ralph", Role.member), ("infra", "pingou", Role.owner),
        ("design", "lmacken", Role.owner), ("design", "ralph", Role.subscriber),
        ("design", "mizmo", Role.stargazer), ("websites", "nirik", Role.owner),
        ("websites", "ralph", Role.stargazer),
    ]:  # fmt: skip
        factories.role(session, teams[team], users[name], role)
    toshio_hub = session.scalar(sa.select(factories.Hub).where(factories.Hub.name == "toshio"))
    factories.role(session, toshio_hub, users["ralph"], Role.subscriber)
    now = utcnow()
    for number, entry in enumerate(corpus):
        message = {**entry["msg"], "msg_id": f"m-{number}"}
        message["timestamp"] = (now - dt.timedelta(minutes=len(corpus) - number)).timestamp()
        usernames, packages = message_people_and_packages(message)
        store_message(session, message, usernames, packages)
    session.commit()
    return users


def independent_stream(session) -> list[str]:
    """ralph's stream by hand: his messages and those of pingou (infra), lmacken
    (design, subscribed) and toshio (subscribed user hub); not nirik's (starred only)."""
    wanted = {"ralph", "pingou", "lmacken", "toshio"}
    rows = session.scalars(sa.select(Message)).all()
    mine = [m for m in rows if wanted & set(m.usernames)]
    return [m.msg_id for m in sorted(mine, key=lambda m: (m.timestamp, m.id), reverse=True)]


def test_stream_people(session, people):
    assert stream_people(session, "ralph") == {"ralph", "pingou", "lmacken", "toshio"}
    assert stream_people(session, "mizmo") == {"mizmo"}  # a stargazer follows nothing


def test_stream_is_exactly_those_messages_in_order_and_pages_cleanly(session, people):
    expected = independent_stream(session)
    assert len(expected) > 40
    seen, cursor = [], None
    while True:
        page = stream_messages(session, "ralph", 17, cursor)
        seen += [m.msg_id for m in page]
        if len(page) < 17:
            break
        cursor = (page[-1].timestamp, page[-1].id)
    assert seen == expected


def test_stream_pages_in_the_browser_way(client, session, people):
    log_in(client, "ralph")
    page = client.get("/u/ralph/stream")
    assert page.status_code == 200
    seen = [e["data-msg-id"] for e in with_role(page.text, "stream-entry")]
    older = with_role(page.text, "stream-older")
    while older:
        more = client.get(older[0]["href"])
        seen += [e["data-msg-id"] for e in with_role(more.text, "stream-entry")]
        older = with_role(more.text, "stream-older")
    # Grouped entries show their first message; every message is in exactly one entry.
    assert len(seen) == len(set(seen))
    assert set(seen) <= set(independent_stream(session))


def test_followers_of_a_message(session, people):
    assert followers_of(session, {"pingou"}) == {"pingou", "ralph"}  # infra member
    assert followers_of(session, {"lmacken"}) == {"lmacken", "ralph"}  # design subscriber
    assert followers_of(session, {"nirik"}) == {"nirik"}  # a star is not a subscription
    assert followers_of(session, {"someone-else"}) == set()


@pytest.mark.parametrize(
    "path",
    [
        "/u/ralph/stream",
        "/u/ralph/saved",
        "/u/ralph/stream/older?before=2026-01-01T00:00:00%2B00:00&id=1",
    ],
)
def test_another_users_stream_and_saved_are_refused(client, people, path):
    log_in(client, "pingou")
    assert client.get(path).status_code == 403
    log_in(client, None)
    assert client.get(path).status_code == 302  # to the login
    assert client.post("/api/u/ralph/saved", json={"msg_id": "m-1"}).status_code == 401


def test_save_unsave_and_keep_beyond_retention(client, session, people):
    log_in(client, "ralph")
    msg_id = independent_stream(session)[0]
    assert client.post("/api/u/ralph/saved", json={"msg_id": msg_id}).get_json()["ok"]
    assert client.post("/api/u/ralph/saved", json={"msg_id": msg_id}).status_code == 200  # once
    assert client.post("/api/u/ralph/saved", json={"msg_id": "nope"}).status_code == 400
    prune(session, days=0, cap=0)  # the store forgets everything
    assert session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0
    saved = client.get("/u/ralph/saved").text
    assert [e["data-msg-id"] for e in with_role(saved, "saved-entry")] == [msg_id]
    client.post("/u/ralph/saved/delete", data={"msg_id": msg_id})
    assert session.scalar(sa.select(sa.func.count()).select_from(SavedNotification)) == 0


def test_saved_items_show_the_sentence_and_its_link(app, client, session, people):
    log_in(client, "ralph")
    msg_id = independent_stream(session)[0]
    message = session.scalar(sa.select(Message).where(Message.msg_id == msg_id))
    with app.test_request_context():
        shown = entries.entry(message)
    assert shown["subtitle"] != message.topic
    client.post("/api/u/ralph/saved", json={"msg_id": msg_id})
    prune(session, days=0, cap=0)  # told from the saved copy, not the store
    page = client.get("/u/ralph/saved").text
    assert len(with_role(page, "saved-text")) == 1
    assert str(escape(shown["subtitle"])) in page
    assert message.topic not in page.replace(f'data-msg-id="{msg_id}"', "")
    if shown["link"]:
        assert [e["href"] for e in with_role(page, "saved-link")] == [shown["link"]]


def test_directory_search_is_one_query_over_a_thousand_hubs(client, session, app):
    owner = factories.user(session, "owner")
    for number in range(1000):
        hub = factories.Hub(name=f"hub{number:04d}", type=HubType.team, summary=f"Team {number}")
        session.add(hub)
        if number % 10 == 0:
            session.add(factories.Membership(hub=hub, user=owner, role=Role.owner))
    session.add(factories.Hub(name="design", type=HubType.team, summary="Making Fedora pretty"))
    session.commit()
    statements = []

    def count(conn, cursor, statement, *args):
        # The test's transaction adds savepoints around each request: not queries.
        if not statement.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement)

    from hubs.database import db

    def from_hubs():
        return len([s for s in statements if "FROM hubs" in s])

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        # The navbar's counts of a logged-in page: a few queries, however many hubs.
        notification_counts(owner)
        navbar, navbar_from_hubs = len(statements), from_hubs()
        assert navbar <= 4
        for visitor in (None, "owner"):
            log_in(client, visitor)
            statements.clear()
            page = client.get("/hubs/?q=pretty&type=team")
            hubs = with_role(page.text, "directory-hub")
            assert [h["data-hub-name"] for h in hubs] == ["design"]
            # One for the page (plus, logged in, the visitor's own row for the session
            # and the navbar's counts).
            assert from_hubs() == (1 if visitor is None else 1 + navbar_from_hubs)
            assert len(statements) == (1 if visitor is None else 2 + navbar)
        statements.clear()
        page = client.get("/hubs/?q=hub00")
        assert len(with_role(page.text, "directory-hub")) == 50  # a page of the 100
        assert from_hubs() == 1 + navbar_from_hubs
        assert with_role(page.text, "subscribe")  # logged in: buttons in the list
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)


def test_the_directory_and_the_front_page_come_a_page_at_a_time(client, session):
    for number in range(120):
        session.add(factories.Hub(name=f"hub{number:03d}", type=HubType.team, summary="Same"))
    for number in range(10):
        session.add(factories.Hub(name=f"person{number}", type=HubType.user))
    session.commit()

    def names(page):
        return [h["data-hub-name"] for h in with_role(page, "directory-hub")]

    first = client.get("/hubs/?q=hub&type=team").text
    assert len(names(first)) == 50 and not with_role(first, "previous-page")
    [more] = with_role(first, "next-page")
    assert more["href"] == "/hubs/?q=hub&type=team&page=2"
    second = client.get(more["href"]).text
    [back] = with_role(second, "previous-page")
    assert back["href"] == "/hubs/?q=hub&type=team&page=1"
    third = client.get(with_role(second, "next-page")[0]["href"]).text
    assert len(names(third)) == 20 and not with_role(third, "next-page")
    shown = names(first) + names(second) + names(third)
    assert sorted(shown) == [f"hub{n:03d}" for n in range(120)]  # each once
    for bad in ("4", "0", "two", "-1", "99999999999"):
        refused = client.get(f"/hubs/?q=hub&page={bad}")
        assert refused.status_code == 400, bad
    assert "There is no page 4" in client.get("/hubs/?q=hub&page=4").text
    assert "page must be a number" in client.get("/hubs/?page=two").text
    refused = client.get("/hubs/?q=hub&type=teams")  # was read as no filter: every hub
    assert refused.status_code == 400 and "type must be user or team" in refused.text

    home = client.get("/").text
    cards = [c["data-hub-name"] for c in with_role(home, "hub-card")]
    assert cards == [f"hub{n:03d}" for n in range(50)]
    assert not with_role(home, "user-hubs")  # the people come after the teams
    last = client.get("/?page=3").text
    assert [c["data-hub-name"] for c in with_role(last, "hub-card")] == [
        *(f"hub{n:03d}" for n in range(100, 120)),
        *(f"person{n}" for n in range(10)),
    ]
    assert with_role(last, "previous-page") and not with_role(last, "next-page")
    assert client.get("/?page=4").status_code == 400


def test_saving_redirects_stay_on_this_site(client, session, people):
    log_in(client, "ralph")
    msg_id = independent_stream(session)[0]
    response = client.post(
        "/u/ralph/saved", data={"msg_id": msg_id, "next": "https://evil.example/"}
    )
    assert response.location == "/"


def test_a_run_of_changes_is_one_stream_entry_and_grows_in_place(client, app, session, people):
    from hubs import changes
    from hubs.bus import set_sender

    infra = session.scalar(sa.select(factories.Hub).where(factories.Hub.name == "infra"))
    note = factories.widget(session, infra, "sticky", text="first")
    session.commit()
    sent = []
    set_sender(lambda topic, fields: sent.append((topic, fields)))
    start = utcnow()

    def edit_and_store(times: int) -> list[str]:
        with app.test_request_context():
            for number in range(times):
                changes.update_widget_config(session, note, {"text": f"edit {number}"}, "pingou")
        ids = []
        for topic, fields in sent:
            number = len(session.scalars(sa.select(Message.id)).all())
            when = start + dt.timedelta(seconds=number)
            message = {
                "topic": f"org.fedoraproject.dev.hubs.{topic}", "msg": fields,
                "msg_id": f"run-{number}", "timestamp": when.timestamp(),
            }  # fmt: skip
            store_message(session, message, *message_people_and_packages(message))
            ids.append(message["msg_id"])
        sent.clear()
        session.commit()
        return ids

    run = edit_and_store(3)
    log_in(client, "ralph")
    top = with_role(client.get("/u/ralph/stream").text, "stream-entry")[0]
    assert (top["data-msg-id"], top["data-count"]) == (run[0], "3")
    page = client.get("/u/ralph/stream").text
    assert "pingou changed 1 widget of the infra team hub (3 changes)" in page

    # One more change: what the page fetches when it is pushed is the grown run, with
    # the msg_id it shows, to put in its place.
    (new,) = edit_and_store(1)
    pushed = client.get(f"/u/ralph/stream/entry?msg_id={new}")
    (entry,) = with_role(pushed.text, "stream-entry")
    assert (entry["data-msg-id"], entry["data-count"]) == (run[0], "4")
    assert "(4 changes)" in pushed.text
    # An old message alone is still answered, as itself.
    (old,) = with_role(client.get("/u/ralph/stream/entry?msg_id=m-0").text, "stream-entry")
    assert old["data-msg-id"] == "m-0"


def test_a_broken_fedmsg_meta_processor_is_said_once_and_the_stream_still_shows(
    app_context, session, people, monkeypatch, caplog
):
    from hubs import my_stream as stream

    def broken(messages, username):
        raise KeyError("a processor's missing field")

    monkeypatch.setattr(stream, "conglomerate", broken)
    monkeypatch.setitem(stream._warned_at, "conglomerate", float("-inf"))
    shown = stream_messages(session, "ralph", 20)
    with caplog.at_level("WARNING", logger="hubs.my_stream"):
        first = stream.grouped(shown, "ralph")
        again = stream.grouped(shown, "ralph")
    assert [entry["msg_id"] for entry in first] == [m.msg_id for m in shown]
    assert again == first
    warned = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warned) == 1  # once a minute, not once a page
    assert "fedmsg.meta could not group" in warned[0].getMessage()
    assert "KeyError" in warned[0].getMessage()


def counts(client, name="ralph") -> dict:
    response = client.get(f"/u/{name}/notifications")
    assert response.status_code == 200
    return response.get_json()


def shown_entries(page: str) -> dict[str, str]:
    """The stream entries of a page: msg_id -> whether it shows as unread."""
    return {e["data-msg-id"]: e["data-unread"] for e in with_role(page, "stream-entry")}


def test_opening_my_stream_reads_it_and_an_entry_can_be_unread_again(
    client, session, people, corpus
):
    log_in(client, "ralph")
    assert counts(client)["unread"] == 100 and counts(client)["unread_text"] == "99+"
    first = shown_entries(client.get("/u/ralph/stream").text)
    assert set(first.values()) == {"true"}  # all new on the first visit
    assert counts(client) == {"unread": 0, "unread_text": "0", "requests": 0}
    again = client.get("/u/ralph/stream").text
    assert set(shown_entries(again).values()) == {"false"}
    key = next(iter(first))

    # A form (back to the stream) and the API, as for saved items.
    marked = client.post("/u/ralph/stream/unread", data={"msg_id": key, "next": "/u/ralph/stream"})
    assert marked.status_code == 302 and marked.location == "/u/ralph/stream"
    assert counts(client)["unread"] == 1
    page = client.get("/u/ralph/stream").text  # opening it again keeps an explicit mark
    assert shown_entries(page)[key] == "true"
    assert len(with_role(page, "mark-read")) == 1  # the one marked: "Mark read"
    assert counts(client)["unread"] == 1
    read = client.post("/api/u/ralph/stream/read", json={"msg_id": key})
    assert read.status_code == 200 and read.get_json()["message"] == "Marked read."
    assert counts(client)["unread"] == 0

    # A new message in the stream counts until the stream is opened again.
    pingous = next(
        e["msg"] for e in corpus if message_people_and_packages(e["msg"])[0] == {"pingou"}
    )
    message = {**pingous, "msg_id": "new-one", "timestamp": utcnow().timestamp()}
    store_message(session, message, *message_people_and_packages(message))
    session.commit()
    assert counts(client)["unread"] == 1
    assert shown_entries(client.get("/u/ralph/stream").text)["new-one"] == "true"
    assert counts(client)["unread"] == 0


def test_marking_an_unknown_message_unread_is_refused_and_stores_nothing(client, session, people):
    log_in(client, "ralph")
    for way in ("api", "form"):
        if way == "api":
            response = client.post("/api/u/ralph/stream/unread", json={"msg_id": "no-such"})
        else:
            response = client.post("/u/ralph/stream/unread", data={"msg_id": "no-such"})
        assert response.status_code == 400
        assert "no such message" in response.text
    assert client.post("/api/u/ralph/stream/unread", json={}).status_code == 400
    assert counts(client)["unread"] == 100
    assert client.get("/u/pingou/notifications").status_code == 403


def test_my_stream_filters_live_in_the_url_and_paging_keeps_them(client, session, people):
    log_in(client, "ralph")
    everything = independent_stream(session)
    by_id = {m.msg_id: m for m in session.scalars(sa.select(Message))}

    def stream_of(query: str) -> list[str]:
        """Every msg_id the filtered stream shows, following its Older links."""
        page = client.get(f"/u/ralph/stream?{query}")
        assert page.status_code == 200, page.text
        seen = [m for e in with_role(page.text, "stream-entry") for m in [e["data-msg-id"]]]
        older = with_role(page.text, "stream-older")
        while older:
            assert all(part in older[0]["href"] for part in query.split("&"))
            more = client.get(older[0]["href"])
            seen += [e["data-msg-id"] for e in with_role(more.text, "stream-entry")]
            older = with_role(more.text, "stream-older")
        return seen

    def expected(keep) -> set[str]:
        return {msg_id for msg_id in everything if keep(by_id[msg_id])}

    category = by_id[everything[0]].category
    cases = {
        "hub=t/infra": lambda m: {"ralph", "pingou"} & set(m.usernames),
        f"service={category}": lambda m: m.category == category,
        "person=pingou": lambda m: "pingou" in m.usernames,
        "mine=1": lambda m: "ralph" in m.usernames,
        f"hub=t/design&service={category}": lambda m: (
            "lmacken" in m.usernames and m.category == category
        ),
    }
    for query, keep in cases.items():
        wanted = expected(keep)
        shown = set(stream_of(query))
        # Grouped entries are keyed by one of their messages: every key is wanted.
        assert shown <= wanted and (shown or not wanted), query
        assert len(shown) >= min(1, len(wanted)), query
    # The form shows what is on.
    page = client.get(f"/u/ralph/stream?hub=t/design&service={category}&mine=1").text
    assert "checked" in with_role(page, "filter-mine")[0]
    assert '<option value="t/design" selected>' in page
    assert with_role(page, "clear-filters")


@pytest.mark.parametrize(
    "query",
    ["hub=t/nowhere", "hub=u/nirik", "service=Not%20a%20service", "person=-x", "mine=yes",
     "person=" + "a" * 65],
)  # fmt: skip
def test_a_filter_that_is_not_understood_is_a_400_saying_what_it_takes(client, people, query):
    log_in(client, "ralph")
    for path in ("stream", "stream/older", "stream/entry"):
        response = client.get(f"/u/ralph/{path}?{query}&msg_id=m-1")
        assert response.status_code == 400, (path, query)
        assert "must be" in response.text


def test_a_live_entry_left_out_by_the_filters_is_not_given(client, session, people):
    log_in(client, "ralph")
    pingous = next(m for m in session.scalars(sa.select(Message)) if m.usernames == ["pingou"])
    assert (
        client.get(f"/u/ralph/stream/entry?msg_id={pingous.msg_id}&person=pingou").status_code
        == 200
    )
    left_out = client.get(f"/u/ralph/stream/entry?msg_id={pingous.msg_id}&mine=1")
    assert left_out.status_code == 204 and left_out.text == ""


@pytest.mark.parametrize("msg_id", ["\x00", "x\ud800y", "m" * 129])
@pytest.mark.parametrize("action", ["saved", "saved/delete", "stream/unread", "stream/read"])
def test_a_msg_id_no_store_could_hold_is_a_400_saying_why(client, session, action, msg_id):
    factories.user(session, "ralph")
    hub = factories.hub(session, "ralph", HubType.user)
    session.commit()
    log_in(client, "ralph")
    response = client.post(f"/api{hub.url_path}{action}", json={"msg_id": msg_id})
    assert response.status_code == 400
    # A lone surrogate is refused at the door, where the JSON body is read.
    assert response.get_json()["message"].startswith(
        "The request body" if "\ud800" in msg_id else "msg_id must"
    )
    assert session.scalar(sa.select(sa.func.count()).select_from(SavedNotification)) == 0


def test_hubs_own_entries_read_in_the_readers_language(client, app, session, people):
    app.config["LANGUAGES"] = ["en", "fr"]
    fields = {"hub_id": 1, "hub_name": "infra", "hub_type": "team", "agent": "pingou",
              "widget_label": "Badges"}  # fmt: skip
    message = {**factories.hubs_message("hubs.widget.created", **fields), "msg_id": "ours"}
    message["timestamp"] = utcnow().timestamp()
    store_message(session, message, *message_people_and_packages(message))
    session.commit()
    log_in(client, "ralph")
    for language, sentence in [
        ("fr", "pingou a ajouté Badges au hub d'équipe infra"),
        ("en", "pingou added Badges to the infra team hub"),
    ]:
        page = client.get("/u/ralph/stream", headers={"Accept-Language": language}).text
        [top] = [t for t in role_texts(page, "stream-entry") if "Badges" in t]
        assert sentence in top
