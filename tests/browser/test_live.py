"""In Chromium, with the whole stack running (web app, fedmsg-relay, fedmsg-hub with the
hubs consumer, hubs-sse): a bus message redraws its widget in place, and a restarted
sse process is caught up with."""

import copy
import signal
import time

import pytest
from playwright.sync_api import expect

from hubs.bus import message_people_and_packages, set_sender
from tests.browser.conftest import logged_in_context
from tests.stack import Stack

TOTAL = '[data-plugin="fedmsgstats"] [data-role="messages-total"]'


@pytest.fixture
def stack(tmp_path, memcached_config, published):
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


def ralph_message(corpus, msg_id: str) -> dict:
    entry = next(e for e in corpus if "ralph" in message_people_and_packages(e["msg"])[0])
    return {**copy.deepcopy(entry["msg"]), "msg_id": msg_id}


def other_widgets(page) -> dict[str, str]:
    return page.evaluate(
        """() => Object.fromEntries(
            Array.from(document.querySelectorAll('[data-role="widget"]'))
              .filter((w) => !["fedmsgstats", "feed"].includes(w.dataset.plugin))
              .map((w) => [w.id, w.outerHTML]))"""
    )


def open_hub(page, stack, path="/u/ralph/"):
    page.goto(stack.web_url + path)
    expect(page.locator('[data-role="live-indicator"]')).to_have_attribute(
        "data-state", "live", timeout=10000
    )
    expect(page.locator('[data-state="loading"]')).to_have_count(0)
    page.evaluate("window.__sameDocument = true")


def test_a_bus_message_redraws_its_widget_within_two_seconds(stack, page, corpus):
    open_hub(page, stack)
    expect(page.locator(TOTAL)).to_have_text("0")
    before = other_widgets(page)

    message = ralph_message(corpus, "live-1")
    page.evaluate(
        """(selector) => { window.__redrawnAt = null;
            new MutationObserver(() => {
              const total = document.querySelector(selector);
              if (total && total.textContent === "1" && !window.__redrawnAt) {
                window.__redrawnAt = Date.now();
              }
            }).observe(document.body, {subtree: true, childList: true, characterData: true}); }""",
        TOTAL,
    )
    sent_at = {}

    def redrawn():
        sent_at.setdefault("t", time.time() * 1000)
        return page.evaluate("window.__redrawnAt")

    stack.publish(message, until=redrawn, what="the widget to be redrawn")
    assert page.evaluate("window.__redrawnAt") - sent_at["t"] < 2000
    expect(page.locator(TOTAL)).to_have_text("1")
    assert page.evaluate("window.__sameDocument") is True  # no reload
    assert other_widgets(page) == before  # the other widgets are untouched
    assert page.errors == []


def test_the_page_catches_up_after_the_sse_process_restarts(stack, page, corpus):
    open_hub(page, stack)
    expect(page.locator(TOTAL)).to_have_text("0")

    stack.stop("sse", signal.SIGKILL)
    expect(page.locator('[data-role="live-indicator"]')).to_have_attribute(
        "data-state", "reconnecting", timeout=5000
    )
    # While no sse process runs, the backend rebuilds the widget: the event is lost.
    message = ralph_message(corpus, "while-sse-down")
    from tests.integration.test_fedmsg_hub import stored

    stack.publish(message, until=lambda: stored(stack.app, "while-sse-down"))
    time.sleep(1)  # the rebuild lands in the cache
    expect(page.locator(TOTAL)).to_have_text("0")

    stack.start("sse")
    # The browser reconnects by itself; the new process answers its Last-Event-ID
    # (another process's) with a snapshot, and the page fetches its widgets again.
    expect(page.locator('[data-role="live-indicator"]')).to_have_attribute(
        "data-state", "live", timeout=10000
    )
    expect(page.locator(TOTAL)).to_have_text("1", timeout=5000)
    assert page.evaluate("window.__sameDocument") is True


def test_a_config_change_in_one_browser_redraws_the_widget_in_another(stack, browser, page):
    viewer = page
    open_hub(viewer, stack, "/t/infrastructure/")
    sticky = viewer.locator('[data-role="widget"][data-plugin="sticky"]')
    widget_id = sticky.get_attribute("data-widget-id")
    before = other_widgets(viewer)

    owner_context = logged_in_context(browser, stack.app, stack.web_url, "nirik")
    owner = owner_context.new_page()
    owner.goto(f"{stack.web_url}/t/infrastructure/w/{widget_id}/edit")
    owner.fill('textarea[name="text"]', "Changed by the owner, seen by everyone")
    owner.click('[data-role="widget-form"] button[type="submit"]')
    expect(owner.locator('[data-role="flash"]')).to_have_text("Widget saved.")

    expect(viewer.locator(f'#widget-{widget_id} [data-role="sticky-text"]')).to_have_text(
        "Changed by the owner, seen by everyone", timeout=5000
    )
    assert viewer.evaluate("window.__sameDocument") is True
    after = other_widgets(viewer)
    # Only the sticky note changed (the owner's activity counts may move: it is a message).
    assert {k: v for k, v in after.items() if "sticky" not in v} == {
        k: v for k, v in before.items() if "sticky" not in v
    }
    owner_context.close()


def test_my_stream_gets_a_new_entry_on_top_without_reload(stack, browser, corpus):
    context = logged_in_context(browser, stack.app, stack.web_url, "ralph")
    page = context.new_page()
    page.goto(f"{stack.web_url}/u/ralph/stream")
    expect(page.locator('[data-role="live-indicator"]')).to_have_attribute(
        "data-state", "live", timeout=10000
    )
    page.evaluate(
        """() => { window.__sameDocument = true; window.__onTopAt = null;
            new MutationObserver(() => {
              const first = document.querySelector('[data-role="stream-entry"]');
              if (first && first.dataset.msgId === "stream-live-1" && !window.__onTopAt) {
                window.__onTopAt = Date.now();
              }
            }).observe(document.body, {subtree: true, childList: true}); }"""
    )
    sent_at = {}

    def on_top():
        sent_at.setdefault("t", time.time() * 1000)
        return page.evaluate("window.__onTopAt")

    stack.publish(ralph_message(corpus, "stream-live-1"), until=on_top, what="the new entry")
    assert page.evaluate("window.__onTopAt") - sent_at["t"] < 2000
    assert page.evaluate("window.__sameDocument") is True
    context.close()
