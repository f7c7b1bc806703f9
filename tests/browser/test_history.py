"""In Chromium, with the whole stack running and a local datagrepper: a person's first
login makes their new hub's feed fill with their history, without a reload."""

import pytest
import requests
from playwright.sync_api import expect

from hubs.bus import set_sender
from hubs.seed import DEMO_USERS
from tests.datagrepper import Datagrepper, history
from tests.stack import Stack

NEWCOMER = "jankratochvil"  # in the corpus, not among the demo's people


@pytest.fixture
def datagrepper(corpus):
    with Datagrepper() as server:
        server.archive.add(history(NEWCOMER, 30, corpus))
        yield server


@pytest.fixture
def stack(tmp_path, memcached_config, published, provider, datagrepper):
    set_sender(None)  # the web app publishes on the real bus here
    settings = {"OIDC_ISSUER": provider, "DATAGREPPER_URL": datagrepper.url,
                "DATAGREPPER_MIN_INTERVAL": 0.0}  # fmt: skip
    stack = Stack(tmp_path, memcached_config, database="hubs_test_live", settings=settings)
    try:
        for name in ("relay", "hub", "sse"):
            stack.start(name)
        stack.serve_web()
        yield stack
    finally:
        stack.close()
        print(stack.logs())


def test_a_first_login_fills_the_new_hubs_feed_with_history_without_reload(
    stack, page, provider, datagrepper
):
    assert NEWCOMER not in {name for name, _ in DEMO_USERS}
    requests.put(
        f"{provider}/users/{NEWCOMER}-sub",
        json={"preferred_username": NEWCOMER, "name": "Jan Kratochvil"},
        timeout=10,
    ).raise_for_status()
    datagrepper.stall_next(3)  # a slow datagrepper: long enough to see the feed wait
    page.goto(f"{stack.web_url}/login?next=/u/{NEWCOMER}/")
    page.fill('input[name="sub"]', f"{NEWCOMER}-sub")
    page.locator('form [type="submit"]').first.click()
    page.wait_for_url(f"{stack.web_url}/u/{NEWCOMER}/")
    page.errors.clear()  # the provider's own login page reaches for a CDN; ours must not
    page.evaluate("window.__sameDocument = true")
    feed = page.locator('[data-plugin="feed"]')
    # Until the history is in, the feed says it is coming (not "nothing on the bus").
    expect(feed.locator('[data-role="history"]')).to_have_attribute("data-state", "fetching")
    expect(feed.locator('[data-role="empty"]')).to_have_count(0)

    expect(feed.locator('[data-role="feed-entry"]')).to_have_count(10, timeout=30000)
    expect(feed.locator('[data-role="history"]')).to_have_count(0)
    assert page.evaluate("window.__sameDocument") is True  # redrawn live, not reloaded
    # Beside the hub's own news (its creation), the history, newest first.
    shown = feed.locator('[data-role="feed-entry"]').evaluate_all(
        "(entries) => entries.map((e) => e.dataset.msgId)"
    )
    archived = sorted(datagrepper.archive.messages, key=lambda m: m["headers"]["sent-at"])
    history_ids = [msg_id for msg_id in shown if msg_id.startswith(f"{NEWCOMER}-history")]
    assert history_ids and history_ids == [m["id"] for m in reversed(archived)][: len(history_ids)]
    assert datagrepper.search_requests()[0]["user"] == [NEWCOMER]
    assert page.errors == [], page.errors
