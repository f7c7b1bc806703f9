"""Visitors' hub pages are kept rendered (hubs/page_cache.py): served without touching
the database while nothing changed, and rendered anew after every change."""

import contextlib
import re

import pytest
import sqlalchemy as sa

from hubs import changes, page_cache
from hubs.cache import widget_cache
from hubs.database import db
from hubs.models import Column, Hub, Role, User
from hubs.widgets import registry
from tests import factories
from tests.conftest import log_in
from tests.html import widget_states, with_role

PATH = "/t/infrastructure/"


@pytest.fixture(params=["memcached", "dbm"])
def cache_config(request, memcached_config, dbm_config):
    return memcached_config if request.param == "memcached" else dbm_config


@pytest.fixture
def infra(session):
    owner = factories.user(session, "nirik")
    factories.user(session, "ralph")
    hub = factories.hub(session, "infrastructure", summary="Fedora Infrastructure")
    factories.role(session, hub, owner, Role.owner)
    factories.widget(session, hub, "about")
    factories.widget(session, hub, "sticky", text="Read the *SOPs*")
    factories.widget(session, hub, "stats", column=Column.right)
    session.commit()
    return hub


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
    for widget in with_role(client.get(PATH).text, "widget"):
        assert client.get(widget["data-src"]).status_code == 200
    page = client.get(PATH).text
    assert set(widget_states(page).values()) == {"ready"}
    return page


def fresh_render(app, user: str | None = None) -> str:
    """The page rendered now, past any kept one."""
    from hubs.views.hubs import _render_hub_page

    with app.test_request_context(PATH):
        who = db.session.scalar(sa.select(User).where(User.username == user)) if user else None
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
    assert page_cache.SINCE_MARK not in second_page
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
        s, hub, s.scalar(sa.select(User).where(User.username == "ralph")), Role.member, "nirik"
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
