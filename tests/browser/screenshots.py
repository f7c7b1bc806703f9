"""`make screenshots`: the pictures of the README (docs/screenshots/), taken by the
browser tests' harness (tests/browser/conftest.py: Playwright, Debian's Chromium) on the
demo hubs in demo mode, at 1366 and 390 px. Each shot is one entry of SHOTS: add a page
by adding a line. Not collected with the tests (its name does not start with test_);
``make screenshots`` runs it by name."""

from __future__ import annotations

import pathlib
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import expect

from hubs.database import db
from hubs.demo import FEDMSG_CORPUS, HELP_CALLS
from hubs.seed import load_messages
from hubs.widgets import registry
from tests.oidc import log_in
from tests.stack import ROOT, free_port

FOLDER = ROOT / "docs" / "screenshots"
WIDTHS = {1366: 900, 390: 844}  # width: height of the window, as a laptop and a phone


@dataclass(frozen=True)
class Shot:
    """One picture of the README: ``docs/screenshots/<name>-<width>.png``."""

    name: str
    path: str  # the page
    user: str | None = None  # who is logged in (through oidc-provider-mock); None: a visitor
    top: str | None = None  # what to scroll to the top of the window (a CSS selector)

    def file(self, width: int) -> pathlib.Path:
        return FOLDER / f"{self.name}-{width}.png"


SHOTS = [
    Shot("home", "/"),
    Shot("home-member", "/", user="nirik"),
    Shot("team-hub", "/t/infrastructure/"),
    Shot("team-hub-services", "/t/infrastructure/", top='[data-plugin="pagure"]'),
    Shot("team-hub-editing", "/t/infrastructure/?edit=1", user="nirik"),
    Shot("user-hub", "/u/ralph/", top='[data-plugin="badges"]'),
    Shot("my-stream", "/u/ralph/stream", user="ralph"),
]


@pytest.fixture
def live_app_config(provider) -> dict:
    """Demo mode, Fedora's services unreachable, logins at the local provider."""
    dead = f"http://127.0.0.1:{free_port()}/"
    urls = {client.URL_SETTING: dead for t in registry.values() for client in t.clients}
    return {**urls, "DEMO_MODE": True, "OIDC_ISSUER": provider}


@pytest.fixture
def demo_site(live_app, live_server) -> str:
    """The served demo hubs with the demo's bus messages, as `make run` has them."""
    with live_app.app_context():
        load_messages(db.session, str(FEDMSG_CORPUS), say=lambda line: None)
        load_messages(db.session, str(HELP_CALLS), say=lambda line: None, days=21)
        db.session.remove()
    return live_server


def browser_context(browser, site: str, provider: str, shot: Shot, width: int):
    context = browser.new_context(viewport={"width": width, "height": WIDTHS[width]})
    if shot.user:
        claims = {"preferred_username": shot.user, "name": shot.user}
        requests.put(f"{provider}/users/{shot.user}", json=claims, timeout=10).raise_for_status()
        session = log_in(site, provider, shot.user, urlsplit(shot.path).path)  # no ?edit=1
        context.add_cookies(
            [{"name": c.name, "value": c.value, "url": site} for c in session.cookies]
        )
    return context


@pytest.mark.parametrize("width", sorted(WIDTHS, reverse=True))
@pytest.mark.parametrize("shot", SHOTS, ids=[shot.name for shot in SHOTS])
def test_screenshot(browser, demo_site, provider, shot, width):
    context = browser_context(browser, demo_site, provider, shot, width)
    page = context.new_page()
    try:
        page.goto(f"{demo_site}{shot.path}")
        expect(page.locator('[data-state="loading"]')).to_have_count(0, timeout=15000)
        expect(page.locator('[data-role="widget-error"]')).to_have_count(0)
        if shot.user:
            expect(page.get_by_text("Log out").first).to_be_attached()
        if shot.top:
            # At once: Bootstrap makes scrolling smooth, the picture would catch it midway.
            page.locator(shot.top).first.evaluate(
                "element => element.scrollIntoView({behavior: 'instant', block: 'start'})"
            )
        page.evaluate("document.fonts.ready")
        FOLDER.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=shot.file(width))
    finally:
        context.close()
