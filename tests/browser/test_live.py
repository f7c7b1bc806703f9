"""In Chromium, with the whole stack running (web app, fedmsg-relay, fedmsg-hub with the
hubs consumer, hubs-sse): a bus message redraws its widget in place, and a restarted
sse process is caught up with."""

import copy
import signal
import time

import sqlalchemy as sa
from playwright.sync_api import expect

from hubs.backend.store import store_message
from hubs.bus import message_people_and_packages
from hubs.database import db
from hubs.models import Hub, Widget
from hubs.widgets import registry
from tests.browser.conftest import logged_in_context
from tests.oracles import stored

TOTAL = '[data-plugin="fedmsgstats"] [data-role="messages-total"]'


def ralph_message(corpus, msg_id: str) -> dict:
    entry = next(e for e in corpus if "ralph" in message_people_and_packages(e["msg"])[0])
    return {**copy.deepcopy(entry["msg"]), "msg_id": msg_id}


def other_widgets(page) -> dict[str, str]:
    return page.evaluate(
        """() => Object.fromEntries(
            Array.from(document.querySelectorAll('[data-role="widget"]'))
              .filter((w) => !["activity", "fedmsgstats", "feed"].includes(w.dataset.plugin))
              .map((w) => [w.id, w.outerHTML]))"""
    )


def open_hub(page, stack, path="/u/ralph/"):
    page.goto(stack.web_url + path)
    expect(page.locator('[data-role="live-indicator"]')).to_have_attribute(
        "data-state", "live", timeout=10000
    )
    expect(page.locator('[data-state="loading"]')).to_have_count(0)
    page.evaluate("window.__sameDocument = true")


def save_sticky_text(browser, stack, widget_id: str, text: str):
    """The infrastructure hub's owner saves the sticky note's text through its form, in
    a browser of their own; returns that browser's context (to close)."""
    context = logged_in_context(browser, stack.app, stack.web_url, "nirik")
    owner = context.new_page()
    owner.goto(f"{stack.web_url}/t/infrastructure/w/{widget_id}/edit")
    owner.fill('textarea[name="text"]', text)
    owner.click('[data-role="widget-form"] button[type="submit"]')
    expect(owner.locator('[data-role="flash"]')).to_have_text("Widget saved.")
    return context


def test_a_bus_message_redraws_its_widget_in_place(stack, page, corpus):
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

    def redrawn():
        return page.evaluate("window.__redrawnAt")

    stack.publish(message, until=redrawn, what="the widget to be redrawn")
    # How fast is measured by bench/e2e.py, not asserted here.
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
    seen = stack.backend_stats()["seen"]
    stack.publish(message, until=lambda: stored(stack.app, "while-sse-down"))
    stack.wait_settled(seen=seen + 1)  # its rebuild is in the cache, and was pushed nowhere
    expect(page.locator(TOTAL)).to_have_text("0")

    stack.start("sse")
    # The browser reconnects by itself; the new process answers its Last-Event-ID
    # (another process's) with a snapshot, and the page fetches its widgets again.
    expect(page.locator('[data-role="live-indicator"]')).to_have_attribute(
        "data-state", "live", timeout=10000
    )
    expect(page.locator(TOTAL)).to_have_text("1", timeout=5000)
    assert page.evaluate("window.__sameDocument") is True


def test_the_page_catches_up_after_the_backend_restarts(stack, browser, page):
    """What changes while the backend is down reaches no page through it (fedmsg keeps
    nothing of what the bus carried): the restarted backend's first hello tells
    hubs-sse, which tells every open page to fetch itself anew."""
    viewer = page
    open_hub(viewer, stack, "/t/infrastructure/")
    widget_id = viewer.locator('[data-role="widget"][data-plugin="sticky"]').get_attribute(
        "data-widget-id"
    )
    text = viewer.locator(f'#widget-{widget_id} [data-role="sticky-text"]')
    stack.stop("hub", signal.SIGKILL)

    owner_context = save_sticky_text(browser, stack, widget_id, "Saved while the backend was down")
    assert text.text_content().strip() != "Saved while the backend was down"

    stack.start("hub")
    expect(text).to_have_text("Saved while the backend was down", timeout=20000)
    expect(viewer.locator('[data-role="live-indicator"]')).to_have_attribute("data-state", "live")
    assert viewer.evaluate("window.__sameDocument") is True
    assert viewer.errors == []
    owner_context.close()


def test_a_config_change_in_one_browser_redraws_the_widget_in_another(stack, browser, page):
    viewer = page
    open_hub(viewer, stack, "/t/infrastructure/")
    sticky = viewer.locator('[data-role="widget"][data-plugin="sticky"]')
    widget_id = sticky.get_attribute("data-widget-id")
    before = other_widgets(viewer)

    owner_context = save_sticky_text(
        browser, stack, widget_id, "Changed by the owner, seen by everyone"
    )

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

    def on_top():
        return page.evaluate("window.__onTopAt")

    stack.publish(ralph_message(corpus, "stream-live-1"), until=on_top, what="the new entry")
    assert page.evaluate("window.__sameDocument") is True
    context.close()


def test_a_new_feed_entry_goes_on_top_and_older_pages_stay(stack, page, corpus):
    # ralph has a page and a half of history; his feed is cached with its first page.
    mine = [e["msg"] for e in corpus if "ralph" in message_people_and_packages(e["msg"])[0]]
    with stack.app.app_context():
        for number, original in enumerate(mine[:15]):
            message = {**copy.deepcopy(original), "msg_id": f"history-{number}"}
            message["timestamp"] = time.time() - 3600 + number
            store_message(db.session, message, *message_people_and_packages(message))
        db.session.commit()
        feed = db.session.scalars(
            sa.select(Widget).join(Widget.hub).where(Hub.name == "ralph", Widget.plugin == "feed")
        ).one()
        registry["feed"].rebuild(db.session, feed)
        db.session.remove()
    open_hub(page, stack)
    entries = page.locator('[data-plugin="feed"] [data-role="feed-entry"]')
    expect(entries).to_have_count(10)
    page.click('[data-plugin="feed"] [data-role="feed-more"]')
    expect(entries).to_have_count(15)  # the reader loaded the older ones

    stack.publish(
        {**ralph_message(corpus, "feed-live-1"), "timestamp": time.time()},
        until=lambda: entries.first.get_attribute("data-msg-id") == "feed-live-1",
        what="the new entry on top",
    )
    expect(entries).to_have_count(16)  # added on top, the older pages kept
    expect(entries.nth(1)).to_have_attribute("data-msg-id", "history-14")
    stack.publish(
        {**ralph_message(corpus, "feed-live-2"), "timestamp": time.time()},
        until=lambda: entries.first.get_attribute("data-msg-id") == "feed-live-2",
        what="the second new entry on top",
    )
    expect(entries).to_have_count(17)  # and again: still no panel swap
    expect(entries.nth(1)).to_have_attribute("data-msg-id", "feed-live-1")
    expect(entries.last).to_have_attribute("data-msg-id", "history-0")
    assert page.evaluate("window.__sameDocument") is True
    assert page.errors == []


def layout_of(page) -> dict:
    """What a hub page shows around its widgets' contents: the slots of each column, in
    order, and the header's summary and counts."""
    return page.evaluate(
        """() => ({
            columns: ["left", "right"].map((column) => Array.from(
                document.querySelectorAll(`[data-role="column-${column}"] [data-role="slot"]`),
                (slot) => [slot.dataset.widgetId,
                           slot.querySelector('[data-role="widget"]').dataset.plugin])),
            summary: document.querySelector('[data-role="hub-summary"]')?.textContent,
            counts: Array.from(document.querySelectorAll('[data-role="hub-counts"] strong'),
                               (count) => count.textContent),
        })"""
    )


def feed_of(page) -> list[list[str]]:
    """The entries of a page's activity feed: the msg_id each shows, and how many
    messages it holds."""
    return page.evaluate(
        """() => Array.from(
            document.querySelectorAll('[data-plugin="feed"] [data-role="feed-entry"]'),
            (entry) => [entry.dataset.msgId, entry.dataset.count])"""
    )


def test_layout_changes_in_one_browser_reach_another_without_reload(stack, browser, page):
    viewer = page
    errors = []
    viewer.on("pageerror", lambda error: errors.append(str(error)))
    open_hub(viewer, stack, "/t/infrastructure/")
    left = '[data-role="column-left"] [data-role="slot"]'
    right = '[data-role="column-right"] [data-role="slot"]'

    # The owner uses edit mode's forms, page by page (JavaScript off: no live page there).
    owner_context = logged_in_context(
        browser, stack.app, stack.web_url, "nirik", java_script_enabled=False
    )
    owner = owner_context.new_page()
    owner.goto(f"{stack.web_url}/t/infrastructure/?edit=1")

    # A widget added: it appears at the bottom of the left column, drawn.
    owner.click('[data-role="add-widget-left"]')
    owner.select_option("#plugin", "sticky")
    owner.click('[data-role="choose-widget"] button')
    owner.fill('textarea[name="text"]', "Added while you watched")
    owner.click('[data-role="widget-form"] button[type="submit"]')
    expect(owner.locator('[data-role="flash"]')).to_have_text("Sticky note added.")
    added = owner.locator(left).last.get_attribute("data-widget-id")
    expect(viewer.locator(left).last).to_have_attribute("data-widget-id", added, timeout=10000)
    expect(viewer.locator(f'#widget-{added} [data-role="sticky-text"]')).to_have_text(
        "Added while you watched"
    )

    # Moved to the top of the other column.
    slot = owner.locator(f'[data-role="slot"][data-widget-id="{added}"]')
    slot.locator('[data-role="move-across"] button').click()
    expect(viewer.locator(right).first).to_have_attribute("data-widget-id", added, timeout=10000)

    # Another one removed: its panel leaves the page.
    rules = owner.locator('[data-role="slot"]:has([data-plugin="rules"])')
    rules.locator('[data-role="remove"]').click()
    owner.click('[data-role="confirm-button"]')
    expect(owner.locator('[data-role="flash"]')).to_have_text("Widget removed.")
    expect(viewer.locator('[data-plugin="rules"]')).to_have_count(0, timeout=10000)

    # A new summary in the header, and a new subscriber in its counts.
    owner.goto(f"{stack.web_url}/t/infrastructure/edit/settings")
    owner.fill('input[name="summary"]', "Keeping Fedora's lights on, live")
    owner.click('[data-role="settings-form"] button[type="submit"]')
    expect(owner.locator('[data-role="flash"]')).to_have_text("Settings saved.")
    expect(viewer.locator('[data-role="hub-summary"]')).to_have_text(
        "Keeping Fedora's lights on, live", timeout=10000
    )
    subscribers = viewer.locator('[data-role="count-subscribers"]')
    before = int(subscribers.text_content())
    subscriber_context = logged_in_context(browser, stack.app, stack.web_url, "ralph")
    subscriber = subscriber_context.new_page()
    subscriber.goto(f"{stack.web_url}/t/infrastructure/")
    subscriber.click('[data-role="subscribe"] button')
    expect(subscribers).to_have_text(str(before + 1), timeout=10000)

    # Still the same document, still live, and laid out as a fresh render of the hub.
    assert viewer.evaluate("window.__sameDocument") is True
    expect(viewer.locator('[data-role="live-indicator"]')).to_have_attribute("data-state", "live")
    fresh = browser.new_page()
    fresh.goto(f"{stack.web_url}/t/infrastructure/")
    expect(fresh.locator('[data-state="loading"]')).to_have_count(0)
    expect(viewer.locator('[data-state="loading"]')).to_have_count(0)
    assert layout_of(viewer) == layout_of(fresh)
    # The owner's run of changes is one entry of the feed, grown live as it went on.
    assert feed_of(viewer) == feed_of(fresh)
    owners_run = viewer.locator('[data-plugin="feed"] [data-role="feed-entry"]').nth(1)
    expect(owners_run).to_contain_text("nirik made 4 changes to the infrastructure team hub")
    expect(owners_run).to_have_attribute("data-count", "4")
    assert errors == []
    for context in (owner_context, subscriber_context):
        context.close()
    fresh.close()
