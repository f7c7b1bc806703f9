"""In Chromium, at 1366 and 390 px: an owner edits a hub in place. Widgets are dragged
and moved by keyboard, configured, added and removed in dialogs, with no reload; other
open pages follow live; no page is wider than a phone's screen."""

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from hubs.database import db
from hubs.models import Widget
from tests.browser.conftest import logged_in_context

LEFT = '[data-role="column-left"] > [data-role="slot"]'
RIGHT = '[data-role="column-right"] > [data-role="slot"]'
DIALOG = 'dialog[data-role="edit-dialog"]'

VIEWPORTS = {1366: {"width": 1366, "height": 900}, 390: {"width": 390, "height": 844}}


@pytest.fixture(params=sorted(VIEWPORTS), ids=lambda width: f"{width}px")
def viewport(request) -> dict:
    return VIEWPORTS[request.param]


# What sticks out of the window, for the failure's message.
OVERFLOWING = """() => Array.from(document.querySelectorAll("*"))
    .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
    .slice(0, 10).map((e) => `${e.tagName}[${e.dataset.role || e.className}]`)"""


def fits(page) -> None:
    """The page is no wider than the window (at 390 px: no sideways scrolling)."""
    fitting = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert fitting, page.evaluate(OVERFLOWING)


# Counts the hub bodies the page has drawn: its own, then each layout redraw.
COUNT_BODIES = """window.__bodies = 0;
new MutationObserver((records) => {
  for (const record of records) for (const node of record.addedNodes)
    if (node.dataset && node.dataset.role === "hub-body") window.__bodies += 1;
}).observe(document, { childList: true, subtree: true });"""


def owner_page(browser, app, base_url: str, viewport: dict, path: str):
    context = logged_in_context(browser, app, base_url, "nirik", viewport=viewport)
    page = context.new_page()
    page.add_init_script(COUNT_BODIES)
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(base_url + path)
    expect(page.locator('[data-state="loading"]')).to_have_count(0)
    page.evaluate("window.__sameDocument = true")
    return page


# The widget ids of each column, in order.
LAYOUT = """() => ["left", "right"].map((column) => Array.from(
    document.querySelectorAll(`[data-role="column-${column}"] > [data-role="slot"]`),
    (slot) => slot.dataset.widgetId))"""


def slot(page, widget_id: str):
    return page.locator(f'[data-role="slot"][data-widget-id="{widget_id}"]')


def drag(page, handle, target) -> None:
    """Drag ``handle`` with the mouse onto the top edge of ``target``, both on the screen."""
    target.scroll_into_view_if_needed()
    handle.scroll_into_view_if_needed()
    start, end = handle.bounding_box(), target.bounding_box()
    assert end["y"] >= 0 and end["y"] + 8 <= page.viewport_size["height"], "target off screen"
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(end["x"] + 20, end["y"] + 6, steps=8)
    page.mouse.up()


def stored_widget(app, widget_id: str) -> Widget:
    with app.app_context():
        widget = db.session.get(Widget, int(widget_id))
        db.session.expunge(widget)
        db.session.remove()
        return widget


def test_drag_a_widget_across_and_back_by_keyboard_and_others_see_it_live(stack, browser, viewport):
    owner = owner_page(browser, stack.app, stack.web_url, viewport, "/t/infrastructure/")
    expect(owner.locator('[data-role="live-indicator"]')).to_have_attribute(
        "data-state", "live", timeout=10000
    )
    # The first page on a hub's stream gets a snapshot: its layout is drawn once more.
    owner.wait_for_function("() => window.__bodies >= 2")
    viewer_context = browser.new_context(viewport=viewport)
    viewer = viewer_context.new_page()
    viewer.goto(f"{stack.web_url}/t/infrastructure/")
    expect(viewer.locator('[data-role="live-indicator"]')).to_have_attribute(
        "data-state", "live", timeout=10000
    )
    viewer.evaluate("window.__sameDocument = true")

    # Out of edit mode, no controls; "Edit this hub" shows them, in place.
    controls = owner.locator('[data-role="widget-controls"]')
    expect(controls.first).to_be_hidden()
    owner.click('[data-role="edit-hub"]')
    expect(owner.locator('[data-role="hub"]')).to_have_attribute("data-edit-mode", "on")
    expect(controls.first).to_be_visible()
    expect(owner).to_have_url(re.compile(r"/t/infrastructure/\?edit=1$"))
    fits(owner)

    # A left widget dragged on top of the right column's first, one next to it on the
    # screen: the left's first when the columns stand side by side, its last when they
    # are stacked (390 px).
    side_by_side = viewport["width"] >= 768
    moved = owner.locator(LEFT).first if side_by_side else owner.locator(LEFT).last
    moved_id = moved.get_attribute("data-widget-id")
    drag(owner, moved.locator('[data-role="drag-handle"]'), owner.locator(RIGHT).first)
    expect(owner.locator(RIGHT).first).to_have_attribute("data-widget-id", moved_id)
    expect(owner.locator('[data-role="edit-announcer"]')).to_contain_text("Moved.")
    expect(viewer.locator(RIGHT).first).to_have_attribute("data-widget-id", moved_id, timeout=10000)
    assert stored_widget(stack.app, moved_id).column.value == "right"
    fits(owner)

    owner.reload()  # it stays there, and the page opens in edit mode again
    expect(owner.locator('[data-role="hub"]')).to_have_attribute("data-edit-mode", "on")
    expect(owner.locator(RIGHT).first).to_have_attribute("data-widget-id", moved_id)
    owner.evaluate("window.__sameDocument = true")

    # By keyboard: a move cancelled with Escape changes nothing...
    handle = slot(owner, moved_id).locator('[data-role="drag-handle"]')
    handle.focus()
    owner.keyboard.press("Space")
    expect(owner.locator('[data-role="edit-announcer"]')).to_contain_text("Picked up.")
    owner.keyboard.press("ArrowDown")
    expect(owner.locator(RIGHT).nth(1)).to_have_attribute("data-widget-id", moved_id)
    owner.keyboard.press("Escape")
    expect(owner.locator('[data-role="edit-announcer"]')).to_contain_text("Cancelled.")
    expect(owner.locator(RIGHT).first).to_have_attribute("data-widget-id", moved_id)
    # ...and Space, an arrow, Space moves it back to the left column, at the top.
    handle = slot(owner, moved_id).locator('[data-role="drag-handle"]')
    handle.focus()
    owner.keyboard.press("Space")
    owner.keyboard.press("ArrowLeft")
    expect(owner.locator('[data-role="edit-announcer"]')).to_contain_text("left column, 1 of")
    owner.keyboard.press("Space")
    expect(owner.locator('[data-role="edit-announcer"]')).to_contain_text("Moved.")
    expect(owner.locator(LEFT).first).to_have_attribute("data-widget-id", moved_id)
    # The focus stays on its handle through the redraw, for the next move.
    expect(slot(owner, moved_id).locator('[data-role="drag-handle"]')).to_be_focused()
    expect(viewer.locator(LEFT).first).to_have_attribute("data-widget-id", moved_id, timeout=10000)
    fits(owner)
    assert owner.evaluate("window.__sameDocument") is True
    assert viewer.evaluate("window.__sameDocument") is True

    # A title given in its dialog reaches the other page live too.
    slot(owner, moved_id).locator('[data-role="configure"]').click()
    owner.locator(DIALOG).locator('input[name="title"]').fill("Moved and renamed")
    owner.locator(DIALOG).locator('[data-role="widget-form"] button[type="submit"]').click()
    expect(owner.locator(DIALOG)).to_be_hidden()
    expect(slot(owner, moved_id).locator('[data-role="widget-title"]')).to_have_text(
        "Moved and renamed"
    )
    expect(slot(viewer, moved_id).locator('[data-role="widget-title"]')).to_have_text(
        "Moved and renamed", timeout=10000
    )
    assert viewer.evaluate("window.__sameDocument") is True

    owner.reload()
    expect(owner.locator(LEFT).first).to_have_attribute("data-widget-id", moved_id)
    assert stored_widget(stack.app, moved_id).position == 0
    # "Done editing" hides the controls again, still without a reload.
    owner.evaluate("window.__sameDocument = true")
    owner.click('[data-role="done-editing"]')
    expect(controls.first).to_be_hidden()
    expect(owner).to_have_url(re.compile(r"/t/infrastructure/$"))
    assert owner.evaluate("window.__sameDocument") is True
    assert owner.errors == []
    owner.context.close()
    viewer_context.close()


def test_configure_a_widget_in_its_dialog_with_an_inline_error_and_a_title(
    browser, live_app, live_server, viewport
):
    owner = owner_page(browser, live_app, live_server, viewport, "/t/infrastructure/?edit=1")
    feed = owner.locator('[data-role="slot"]:has([data-plugin="feed"])')
    feed_id = feed.get_attribute("data-widget-id")
    expect(feed.locator('[data-role="widget-title"]')).to_have_text("Activity feed")
    feed.locator('[data-role="configure"]').click()
    dialog = owner.locator(DIALOG)
    expect(dialog).to_be_visible()
    per_page = dialog.locator('input[name="per_page"]')
    expect(per_page).to_have_attribute("type", "number")
    expect(per_page).to_have_attribute("max", "50")
    dialog.locator('input[name="title"]').fill("Infrastructure activity")
    per_page.fill("500")
    dialog.locator('[data-role="widget-form"] button[type="submit"]').click()
    expect(dialog.locator('[data-role="error-per_page"]')).to_have_text(
        "Per page must be between 3 and 50"
    )
    expect(per_page).to_have_attribute("aria-invalid", "true")
    expect(dialog).to_be_visible()
    fits(owner)
    refused = stored_widget(live_app, feed_id)
    assert (refused.title, refused.config["per_page"]) == (None, 10)  # nothing stored

    per_page.fill("5")
    dialog.locator('[data-role="widget-form"] button[type="submit"]').click()
    expect(dialog).to_be_hidden()
    expect(feed.locator('[data-role="widget-title"]')).to_have_text("Infrastructure activity")
    assert owner.evaluate("window.__sameDocument") is True
    saved = stored_widget(live_app, feed_id)
    assert (saved.title, saved.config["per_page"]) == ("Infrastructure activity", 5)

    owner.reload()
    expect(slot(owner, feed_id).locator('[data-role="widget-title"]')).to_have_text(
        "Infrastructure activity"
    )
    fits(owner)
    assert owner.errors == []
    owner.context.close()


def test_remove_a_widget_cancelled_then_confirmed_and_add_one_from_the_picker(
    browser, live_app, live_server, viewport
):
    owner = owner_page(browser, live_app, live_server, viewport, "/t/infrastructure/?edit=1")
    dialog = owner.locator(DIALOG)
    rules = owner.locator('[data-role="slot"]:has([data-plugin="rules"])')
    # Picked up by keyboard, moved, then Tab away: it goes back, nothing is sent.
    before = owner.evaluate(LAYOUT)
    rules.locator('[data-role="drag-handle"]').focus()
    owner.keyboard.press("Enter")
    owner.keyboard.press("ArrowUp")
    assert owner.evaluate(LAYOUT) != before
    owner.keyboard.press("Tab")
    expect(owner.locator('[data-role="edit-announcer"]')).to_contain_text("Cancelled.")
    assert owner.evaluate(LAYOUT) == before
    owner.reload()
    assert owner.evaluate(LAYOUT) == before
    owner.evaluate("window.__sameDocument = true")

    rules.locator('[data-role="remove"]').click()
    expect(dialog.locator("h1")).to_have_text("Remove the Rules widget?")
    fits(owner)
    dialog.locator('[data-role="cancel"]').click()
    expect(dialog).to_be_hidden()
    expect(rules).to_have_count(1)

    rules.locator('[data-role="remove"]').click()
    dialog.locator('[data-role="confirm-button"]').click()
    expect(dialog).to_be_hidden()
    expect(rules).to_have_count(0)
    expect(owner.locator('[data-role="edit-announcer"]')).to_have_text("Widget removed.")

    # The picker offers only widgets for team hubs.
    owner.click('[data-role="add-widget-right"]')
    plugins = dialog.locator('select[name="plugin"] option')
    expect(plugins.first).to_be_attached()
    offered = plugins.evaluate_all("(options) => options.map((o) => o.value)")
    assert "sticky" in offered and not {"badges", "memberships", "updates2stable"} & set(offered)
    dialog.locator('select[name="plugin"]').select_option("sticky")
    dialog.locator('[data-role="choose-widget"] button').click()
    dialog.locator('input[name="title"]').fill("Second note")
    dialog.locator('textarea[name="text"]').fill("Added in a *dialog*")
    dialog.locator('[data-role="widget-form"] button[type="submit"]').click()
    expect(dialog).to_be_hidden()
    added = owner.locator(RIGHT).last
    expect(added.locator('[data-role="widget-title"]')).to_have_text("Second note")
    expect(added.locator('[data-role="sticky-text"]')).to_have_text("Added in a dialog")
    assert owner.evaluate("window.__sameDocument") is True
    fits(owner)

    owner.reload()
    expect(owner.locator('[data-plugin="rules"]')).to_have_count(0)
    expect(owner.locator(RIGHT).last.locator('[data-role="widget-title"]')).to_have_text(
        "Second note"
    )
    with live_app.app_context():
        rules_left = sa.select(sa.func.count()).where(
            Widget.plugin == "rules", Widget.hub.has(name="infrastructure")
        )
        assert db.session.scalar(rules_left) == 0
        db.session.remove()
    fits(owner)

    # An empty widget, hidden from visitors, shows in edit mode with its controls.
    owner.click('[data-role="add-widget-left"]')
    dialog.locator('select[name="plugin"]').select_option("contact")
    dialog.locator('[data-role="choose-widget"] button').click()
    dialog.locator('[data-role="widget-form"] button[type="submit"]').click()
    expect(dialog).to_be_hidden()
    empty = owner.locator(LEFT).last
    expect(empty.locator('[data-role="widget"]')).to_have_attribute("data-plugin", "contact")
    expect(empty.locator('[data-role="widget"]')).to_be_visible()
    expect(empty.locator('[data-role="configure"]')).to_be_visible()
    owner.click('[data-role="done-editing"]')
    expect(empty.locator('[data-role="widget"]')).to_be_hidden()
    expect(empty.locator('[data-role="configure"]')).to_be_hidden()
    assert owner.errors == []
    owner.context.close()


def test_the_scripts_say_the_pages_strings_without_a_csp_violation(stack, browser):
    context = logged_in_context(browser, stack.app, stack.web_url, "nirik")
    page = context.new_page()
    console = []
    page.on("console", lambda message: console.append(message.text))

    def in_other_words(route):
        # The page as a translated one would be: its strings block says something else.
        response = route.fetch()
        html = response.text().replace(
            '"edit_on": "Edit mode: move, configure, add or remove widgets."',
            '"edit_on": "Mode \\u00e9dition."',
        )
        route.fulfill(response=response, body=html)

    page.route(f"{stack.web_url}/t/infrastructure/", in_other_words)
    page.goto(f"{stack.web_url}/t/infrastructure/")
    page.click('[data-role="edit-hub"]')
    expect(page.locator('[data-role="edit-announcer"]')).to_have_text("Mode édition.")
    page.click('[data-role="done-editing"]')
    expect(page.locator('[data-role="edit-announcer"]')).to_have_text("Edit mode is off.")
    assert not [text for text in console if "Content Security Policy" in text]
    context.close()
