"""In Chromium: a page loads pictures from the hosts of IMAGE_HOSTS only. A sticky note
may name any picture; one from elsewhere is never fetched (it could track readers)."""

from __future__ import annotations

import base64
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from hubs import changes
from hubs.database import db
from hubs.models import Hub, Widget
from tests.stack import wait_for

# A 1x1 transparent PNG.
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


class PictureHost:
    """An HTTP server answering a picture, counting who asked for it."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                host.requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(PIXEL)))
                self.end_headers()
                self.wfile.write(PIXEL)

            def log_message(self, *args):
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def hosts():
    allowed, tracker = PictureHost(), PictureHost()
    yield allowed, tracker
    allowed.close()
    tracker.close()


@pytest.fixture
def live_app_config(hosts):
    allowed, _tracker = hosts
    return {"IMAGE_HOSTS": [allowed.origin]}


def test_pictures_come_from_the_allowed_hosts_only(browser, live_app, live_server, hosts):
    allowed, tracker = hosts
    with live_app.test_request_context():
        sticky = db.session.scalars(
            sa.select(Widget)
            .join(Hub)
            .where(Hub.name == "infrastructure", Widget.plugin == "sticky")
        ).one()
        text = f"![ok]({allowed.origin}/ok.png) ![spy]({tracker.origin}/spy.png)"
        changes.update_widget_config(db.session, sticky, {"text": text}, "nirik")
        db.session.remove()
    page = browser.new_page()
    response = page.goto(f"{live_server}/t/infrastructure/")
    assert f"img-src 'self' data: {allowed.origin};" in response.headers["content-security-policy"]
    ok = page.locator('[data-plugin="sticky"] img[alt="ok"]')
    spy = page.locator('[data-plugin="sticky"] img[alt="spy"]')
    expect(ok).to_have_count(1)
    wait_for(lambda: "/ok.png" in allowed.requests, 10, "the allowed picture to be fetched")
    expect(ok).to_have_js_property("naturalWidth", 1)
    # The other one failed in the browser (the page hides it), and never left it.
    expect(spy).to_have_class("hubs-broken")
    assert tracker.requests == []
    page.close()
