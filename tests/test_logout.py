"""Logging out is real: a cookie saved before it opens nothing any more, in the web app
nor in hubs-sse, and the cookie never carries the identity provider's tokens."""

from __future__ import annotations

import pytest
from flask.sessions import SecureCookieSessionInterface

from hubs.app import create_app
from hubs.cache import close_cache
from hubs.config import load_config
from hubs.database import db, upgrade
from hubs.seed import populate
from hubs.sse.session_cookie import SessionReader
from tests.conftest import log_in
from tests.html import with_role


@pytest.fixture
def site(tmp_path):
    """The demo site on a SQLite file, every change committed (hubs-sse reads it)."""
    url = f"sqlite:///{tmp_path / 'hubs.db'}"
    upgrade(url)
    config = {
        "TESTING": True, "SECRET_KEY": "logout-secret", "DATABASE_URL": url,
        "VAR_DIR": str(tmp_path), "CACHE_BACKEND": "dogpile.cache.null",
        "FEDMSG_PUBLISH": False, "BACKEND_EVENTS_ENDPOINT": None,
    }  # fmt: skip
    app = create_app(config)
    with app.app_context():
        populate(db.session, say=lambda line: None)
        db.session.remove()
    yield app, config
    close_cache()


def _cookie(client) -> str:
    return client.get_cookie("session").value


def _contents(app, cookie: str) -> dict:
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    return serializer.loads(cookie)


def test_a_cookie_saved_before_logout_opens_nothing(site):
    app, config = site
    sse = SessionReader(load_config(config))  # hubs-sse, reading the same database
    client, thief = app.test_client(), app.test_client()
    log_in(client, "ralph")
    assert client.get("/u/ralph/stream").status_code == 200
    saved = _cookie(client)
    assert sse.username({"session": saved}) == "ralph"

    page = client.get("/u/ralph/")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    logout = client.post("/logout", data={"csrf_token": token, "next": "/u/ralph/"})
    assert logout.status_code == 302 and logout.location == "/u/ralph/"
    assert with_role(client.get("/u/ralph/").text, "login")

    thief.set_cookie("session", saved)
    assert thief.get("/u/ralph/stream").status_code in (302, 401, 403)
    assert with_role(thief.get("/u/ralph/").text, "login")
    assert sse.username({"session": saved}) is None

    # Logging in again makes a cookie that works, the saved one still does not.
    log_in(client, "ralph")
    with client.session_transaction() as session:
        session["generation"] = 1  # what the OIDC callback would write now
    assert client.get("/u/ralph/stream").status_code == 200
    assert sse.username({"session": _cookie(client)}) == "ralph"
    assert sse.username({"session": saved}) is None


def test_get_oidc_logout_asks_for_the_post(site):
    app, _config = site
    client = app.test_client()
    log_in(client, "ralph")
    asked = client.get("/oidc/logout", follow_redirects=True)
    assert asked.request.path == "/logout"
    assert with_role(asked.text, "logout-button")
    # It changed nothing by itself.
    assert client.get("/u/ralph/stream").status_code == 200


def test_a_session_of_an_unknown_or_older_generation_is_dropped(site):
    app, _config = site
    client = app.test_client()
    log_in(client, "ralph")
    with client.session_transaction() as session:
        del session["generation"]  # a cookie from before generations existed
    assert client.get("/u/ralph/stream").status_code != 200
    left = client.get_cookie("session")  # emptied, or deleted outright
    assert left is None or "username" not in _contents(app, left.value)
