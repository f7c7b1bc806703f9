"""A real server and a real headless Chromium (Debian's) for what a browser does."""

from __future__ import annotations

import os
import shutil
import threading

import pytest
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from hubs.app import create_app
from hubs.bus import set_sender
from hubs.cache import close_cache
from hubs.database import db, upgrade
from hubs.seed import populate
from tests.conftest import recreate_postgres_database
from tests.stack import IdleClosingHandler, Stack

CHROMIUM = os.environ.get("HUBS_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Without these, Chromium keeps reaching for Google's services on a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# Per module: Playwright's sync API keeps an event loop running while it is open, and
# other tests need asyncio.run.
@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_app_config() -> dict:
    """More settings for live_app (a test module may override this)."""
    return {}


@pytest.fixture
def live_app(memcached_config, tmp_path, live_app_config):
    """The app on a fresh PostgreSQL database with the demo hubs, no widget cached."""
    url = recreate_postgres_database("hubs_test_browser")
    upgrade(url)
    app = create_app(
        {
            "DATABASE_URL": url,
            "VAR_DIR": str(tmp_path),
            "SECRET_KEY": "t",
            "SSE_URL": None,  # these tests are about loading, not live updates
            **memcached_config,
            **live_app_config,
        }
    )
    with app.app_context():
        populate(db.session, say=lambda line: None)
        db.session.remove()
    return app


@pytest.fixture
def live_server(live_app):
    """The app served over HTTP on a free port by a thread; yields its base URL."""
    # One thread serves every request, so its cache connection can be closed at the end.
    server = make_server(
        "127.0.0.1", 0, live_app, threaded=False, request_handler=IdleClosingHandler
    )

    def serve():
        server.serve_forever()
        close_cache()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()
    db.engine.dispose()


@pytest.fixture
def stack(tmp_path, memcached_config, published):
    """The whole stack (web app, fedmsg-relay, fedmsg-hub with the hubs consumer, hubs-sse)
    on the demo hubs, for what goes live from one browser to another."""
    set_sender(None)  # the web app publishes on the real bus here
    stack = Stack(tmp_path, memcached_config, database="hubs_test_live")
    try:
        for name in ("relay", "hub", "sse"):
            stack.start(name)
        stack.serve_web()
        yield stack
    finally:
        stack.close()
        print(stack.logs())


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.errors = errors
    yield page
    context.close()


def logged_in_context(browser, app, base_url: str, username: str, **options):
    """A browser context carrying ``username``'s session cookie, as the login sets it
    (``options``: the context's, such as its viewport)."""
    serializer = app.session_interface.get_signing_serializer(app)
    context = browser.new_context(**options)
    context.add_cookies(
        [
            {
                "name": "session",
                "value": serializer.dumps({"username": username, "generation": 0}),
                "url": base_url,
            }
        ]
    )
    return context
