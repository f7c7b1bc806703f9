"""Visitors' hub pages are kept rendered (hubs/page_cache.py): served without touching
the database while nothing changed, and rendered anew after every change."""

import contextlib
import re

import pytest
import sqlalchemy as sa
from flask import g

from hubs import changes, page_cache
from hubs.cache import widget_cache
from hubs.database import db
from hubs.models import Column, Hub, HubType, Role, User
from hubs.widgets import registry
from tests import factories
from tests.conftest import log_in
from tests.html import role_texts, widget_states, with_role
from tests.views.conftest import fill_every_widget

PATH = "/t/infrastructure/"


@pytest.fixture(params=["memcached", "dbm"])
def cache_config(request, memcached_config, dbm_config):
    return memcached_config if request.param == "memcached" else dbm_config


@contextlib.contextmanager
def statements():
    """The SQL statements run meanwhile."""
    seen = []

    def record(_connection, _cursor, statement, *_args):
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


def without_since(html: str) -> str:
    return re.sub(r'data-since="[^"]*"', 'data-since=""', html)


def ready_page(client) -> str:
    """The visitors' page once every widget is cached."""
    fill_every_widget(client, client.get(PATH).text)
    page = client.get(PATH).text
    assert set(widget_states(page).values()) == {"ready"}
    return page


def fresh_render(app, user: str | None = None) -> str:
    """The page rendered now, past any kept one."""
    from hubs.views.hubs import _render_hub_page

    with app.test_request_context(PATH):
        who = db.session.scalar(sa.select(User).where(User.username == user)) if user else None
        g.user = who  # as the request of that reader has it
        html, _until = _render_hub_page("t", "infrastructure", who, "1.000")
    return html


def test_a_visitor_is_served_the_kept_page_without_the_database(client, app, infra):
    page = ready_page(client)
    with statements() as seen:
        again = client.get(PATH)
    assert again.status_code == 200 and seen == []
    assert without_since(again.text) == without_since(page) == without_since(fresh_render(app))
    assert "set-cookie" not in again.headers  # no session was made for the visitor


def test_each_serving_says_when_it_was_served(client, infra):
    ready_page(client)
    first = since_of(client.get(PATH).text)
    second_page = client.get(PATH).text
    with client.application.app_context():
        assert page_cache.since_mark() not in second_page
    assert since_of(second_page) >= first


def since_of(html: str) -> float:
    return float(re.search(r'data-since="([^"]*)"', html).group(1))


CHANGES = {
    "summary": lambda s, hub, nirik: changes.update_hub(
        s, hub, {**changes.hub_settings(hub), "summary": "Keeping Fedora running"}, "nirik"
    ),
    "widget added": lambda s, hub, nirik: changes.create_widget(
        s, hub, "sticky", {"text": "A second note"}, "nirik"
    ),
    "widget configured": lambda s, hub, nirik: changes.update_widget_config(
        s, next(w for w in hub.widgets if w.plugin == "sticky"), {"text": "New text"}, "nirik"
    ),
    "widget moved": lambda s, hub, nirik: changes.move_widget(
        s, next(w for w in hub.widgets if w.plugin == "about"), Column.right, 0, "nirik"
    ),
    "widget removed": lambda s, hub, nirik: changes.delete_widget(
        s, next(w for w in hub.widgets if w.plugin == "sticky"), "nirik"
    ),
    "member added": lambda s, hub, nirik: changes.set_role(
        s, hub, s.scalar(sa.select(User).where(User.username == "mizmo")), Role.member, "nirik"
    ),
}


@pytest.mark.parametrize("change", CHANGES)
def test_every_change_renders_the_visitors_page_anew(client, app, session, infra, change):
    before = ready_page(client)
    with app.test_request_context():
        CHANGES[change](session, session.get(Hub, infra.id), "nirik")
    after = client.get(PATH).text
    assert without_since(after) != without_since(before)
    # Widgets the change made stale load again; once they are cached, the kept page is
    # what a fresh render shows.
    for widget in with_role(after, "widget"):
        client.get(widget["data-src"])
    assert without_since(client.get(PATH).text) == without_since(fresh_render(app))


def test_a_change_landing_during_the_render_is_not_hidden(client, app, infra, monkeypatch):
    """The version is read before the render: a page rendered from data a change has
    replaced meanwhile is kept under the old version, and never served."""
    from hubs.views import hubs as hub_views

    render = hub_views._render_hub_page
    ready_page(client)
    page_cache.hub_changed(PATH)

    def render_then_a_change_lands(*args, **kwargs):
        rendered = render(*args, **kwargs)
        page_cache.hub_changed(PATH)  # as the backend does after storing a rebuilt widget
        return rendered

    monkeypatch.setattr(hub_views, "_render_hub_page", render_then_a_change_lands)
    client.get(PATH)
    monkeypatch.setattr(hub_views, "_render_hub_page", render)
    with statements() as seen:
        client.get(PATH)
    assert seen, "the page rendered before the change was served"


def test_a_lost_version_renders_the_page_anew(client, infra):
    ready_page(client)
    widget_cache.region.delete(page_cache._version_key(PATH))
    with statements() as seen:
        client.get(PATH)
    assert seen
    with statements() as seen:
        client.get(PATH)
    assert seen == []


def test_a_page_with_a_widget_loading_is_not_kept(client, infra):
    first = client.get(PATH).text
    assert "loading" in widget_states(first).values()
    with statements() as seen:
        client.get(PATH)
    assert seen


def test_a_page_is_kept_no_longer_than_its_panels_are_fresh(client, session, infra, monkeypatch):
    ready_page(client)
    sticky = next(w for w in session.get(Hub, infra.id).widgets if w.plugin == "sticky")
    key = registry["sticky"].cache_key(sticky)
    envelope = widget_cache.region.get(key)
    widget_cache.region.set(key, {**envelope, "fresh_until": 4_000_000_000.0})
    page_cache.hub_changed(PATH)
    client.get(PATH)  # kept until the sticky note's data goes stale
    with statements() as seen:
        client.get(PATH)
    assert seen == []

    class Later:
        @staticmethod
        def time():
            return 4_000_000_001.0

    monkeypatch.setattr(page_cache, "time", Later)
    with statements() as seen:
        client.get(PATH)
    assert seen, "a page whose panel went stale with the clock was served"


def test_people_who_log_in_get_their_own_page(client, app, infra):
    ready_page(client)
    log_in(client, "nirik")
    with statements() as seen:
        owners = client.get(PATH).text
    assert seen and with_role(owners, "widget-controls")
    log_in(client, None)
    with client.session_transaction() as session:
        session["_flashes"] = [("message", "Logged out.")]
    with statements() as seen:
        page = client.get(PATH).text
    assert seen and "Logged out." in page


def test_an_unknown_hub_is_a_404_and_is_not_kept(client, infra):
    assert client.get("/t/nowhere/").status_code == 404
    assert client.get("/t/nowhere/").status_code == 404


# -- a logged-in reader's kept page ---------------------------------------------------


def served_as_kept(html: str) -> str:
    """A page as it is kept: without the moment it was served, nor the CSRF token."""
    html = without_since(html)
    return re.sub(r'(name="csrf_token" value|name="csrf-token" content)="[^"]*"', r'\1=""', html)


def navbar_counts(html: str) -> dict[str, str | None]:
    """What the navbar shows: the unread count and the requests to answer, None when
    hidden."""
    shown = {}
    for name in ("unread", "requests"):
        notice = with_role(html, f"{name}-notice")[0]
        shown[name] = None if "hidden" in notice else role_texts(html, f"{name}-count")[0]
    return shown


def test_a_reader_is_served_their_kept_page_after_one_query_for_who_they_are(client, app, infra):
    log_in(client, "nirik")
    page = ready_page(client)
    with statements() as seen:
        again = client.get(PATH)
    assert again.status_code == 200
    queries = [q for q in seen if not q.startswith(("SAVEPOINT", "ROLLBACK TO", "RELEASE"))]
    assert len(queries) == 1 and "FROM users" in queries[0]  # the session's user, no more
    assert served_as_kept(again.text) == served_as_kept(page)
    assert served_as_kept(page) == served_as_kept(fresh_render(app, "nirik"))
    assert with_role(page, "widget-controls")  # the owner's page, with its controls
    assert again.headers["Cache-Control"] == "private, no-store"


def test_each_reader_gets_their_own_page_with_their_own_csrf_token(app, infra):
    app.config["WTF_CSRF_ENABLED"] = True
    pages, tokens = {}, {}
    for name in ("nirik", "ralph", "nirik"):
        client = app.test_client()
        log_in(client, name)
        ready_page(client)
        page = client.get(PATH).text
        pages[name] = page
        tokens.setdefault(name, []).append(_token(page))
        # The token of the page is the session's: a change made with it is accepted.
        followed = client.post(f"{PATH}star", data={"csrf_token": _token(page), "next": PATH})
        assert followed.status_code == 302, followed.text
        with client.application.app_context():
            assert page_cache.marks()[1] not in page
    assert with_role(pages["nirik"], "widget-controls") and not with_role(
        pages["ralph"], "widget-controls"
    )
    assert len(set(tokens["nirik"])) == 2  # two sessions, two tokens


def _token(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]*)"', html).group(1)


def test_the_edit_mode_page_is_kept_apart(client, infra):
    log_in(client, "nirik")
    ready_page(client)
    editing = client.get(f"{PATH}?edit=1").text
    plain = client.get(PATH).text
    assert 'data-edit-mode="on"' in editing and 'data-edit-mode="off"' in plain
    with statements() as seen:
        assert 'data-edit-mode="on"' in client.get(f"{PATH}?edit=1").text
    assert len([q for q in seen if q.startswith("SELECT")]) == 1


@pytest.mark.parametrize("change", CHANGES)
def test_every_change_renders_the_readers_page_anew(client, app, session, infra, change):
    log_in(client, "mizmo")  # the reader a change of roles concerns
    ready_page(client)
    with app.test_request_context():
        CHANGES[change](session, session.get(Hub, infra.id), "nirik")
    for widget in with_role(client.get(PATH).text, "widget"):
        client.get(widget["data-src"])
    assert served_as_kept(client.get(PATH).text) == served_as_kept(fresh_render(app, "mizmo"))


def test_the_navbar_counts_of_a_kept_page_follow_the_readers_own_changes(
    app, session, infra, corpus
):
    """Opening My Stream (a GET), marking an entry unread (a POST), a request to join a
    hub the reader owns (someone else's change): each renders the pages kept for the
    reader anew, on every hub, so a fresh GET shows what /notifications counts."""
    from hubs.backend.store import store_message

    nirik_user = session.scalar(sa.select(User).where(User.username == "nirik"))
    factories.role(session, factories.hub(session, "nirik", HubType.user), nirik_user, Role.owner)
    for number, envelope in enumerate(corpus[:3]):
        message = {**envelope["msg"], "msg_id": f"nirik-{number}"}
        store_message(session, message, {"nirik"}, set())
    session.commit()
    nirik, mizmo = app.test_client(), app.test_client()
    log_in(nirik, "nirik")
    log_in(mizmo, "mizmo")
    mine = "/u/nirik/"
    fill_every_widget(nirik, nirik.get(mine).text)

    def check(expected):
        page = nirik.get(mine).text
        assert navbar_counts(page) == expected
        counted = nirik.get("/u/nirik/notifications").get_json()
        assert expected["unread"] == (counted["unread_text"] if counted["unread"] else None)
        assert expected["requests"] == (str(counted["requests"]) if counted["requests"] else None)
        with app.test_request_context(mine):
            from hubs.views.hubs import _render_hub_page

            who = g.user = session.scalar(sa.select(User).where(User.username == "nirik"))
            fresh, _until = _render_hub_page("u", "nirik", who, "1.000")
        assert served_as_kept(page) == served_as_kept(fresh)

    check({"unread": "3", "requests": None})
    nirik.get("/u/nirik/stream")
    check({"unread": None, "requests": None})
    marked = nirik.post("/api/u/nirik/stream/unread", json={"msg_id": "nirik-1"})
    assert marked.status_code == 200, marked.text
    check({"unread": "1", "requests": None})
    asked = mizmo.post(f"{PATH}join", data={"next": PATH})
    assert asked.status_code == 302, asked.text
    check({"unread": "1", "requests": "1"})


def test_pages_kept_before_the_secret_changed_are_not_served(client, app, infra):
    log_in(client, "nirik")
    ready_page(client)
    client.get(PATH)
    app.config["SECRET_KEY"] = "a-new-secret"
    app.extensions.pop("hubs_page_marks")
    log_in(client, "nirik")  # the cookie signed again, with the new secret
    page = client.get(PATH).text
    assert "hubs-mark-" not in page
    assert served_as_kept(page) == served_as_kept(fresh_render(app, "nirik"))
