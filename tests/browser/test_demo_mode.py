"""In Chromium, in demo mode with Fedora's services unreachable: the external widgets
fill in with their recordings, each panel showing its "Demo data" label, at 1366 and
390 px, and nothing says "Couldn't load"."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from hubs.widgets import registry
from tests.browser.test_images import PIXEL
from tests.stack import free_port

WIDGETS = '[data-role="widget"]'
EXTERNAL = {"/t/infrastructure/": ["meetings", "pagure", "bugzilla"], "/u/ralph/": ["badges"]}


@pytest.fixture
def live_app_config() -> dict:
    dead = f"http://127.0.0.1:{free_port()}/"
    urls = {client.URL_SETTING: dead for t in registry.values() for client in t.clients}
    return {**urls, "DEMO_MODE": True}


@pytest.mark.parametrize("width", [1366, 390])
@pytest.mark.parametrize("path", sorted(EXTERNAL))
def test_external_widgets_show_labelled_demo_data(live_server, page, path, width):
    page.set_viewport_size({"width": width, "height": 900})
    # The badges' pictures come from Fedora's site, which tests never reach.
    page.route(
        "https://badges.fedoraproject.org/**",
        lambda route: route.fulfill(status=200, content_type="image/png", body=PIXEL),
    )
    page.goto(f"{live_server}{path}")
    expect(page.locator('[data-state="loading"]')).to_have_count(0, timeout=10000)
    expect(page.locator('[data-role="widget-error"]')).to_have_count(0)
    for plugin in EXTERNAL[path]:
        panel = page.locator(f'{WIDGETS}[data-plugin="{plugin}"]')
        expect(panel).to_have_attribute("data-state", "ready")
        label = panel.locator('[data-role="demo-data"]')
        label.scroll_into_view_if_needed()
        expect(label).to_be_visible()
        expect(label).to_have_text("Demo data")
    local = page.locator(f'{WIDGETS}[data-plugin="feed"] [data-role="demo-data"]')
    expect(local).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.errors == []
