"""In Chromium, with the whole stack running: an owner restores a revision from the
hub's history while another browser shows the hub, which redraws to the restored
layout without a reload."""

from playwright.sync_api import expect

from tests.browser.conftest import logged_in_context
from tests.browser.test_live import layout_of, open_hub

LEFT = '[data-role="column-left"] [data-role="slot"]'


def plugins_of(page) -> list[list[str]]:
    """Each column's widgets, top to bottom, by plugin (a restored widget may be a new row)."""
    return [[plugin for _id, plugin in column] for column in layout_of(page)["columns"]]


def test_a_restore_redraws_every_open_page_of_the_hub(stack, browser, page):
    viewer = page
    open_hub(viewer, stack, "/t/infrastructure/")
    # The owner uses edit mode's forms, page by page (JavaScript off).
    owner_context = logged_in_context(
        browser, stack.app, stack.web_url, "nirik", java_script_enabled=False
    )
    owner = owner_context.new_page()
    owner.goto(f"{stack.web_url}/t/infrastructure/?edit=1")

    # Revision to come back to: meetings moved over to the left column.
    meetings = owner.locator('[data-role="slot"]:has([data-plugin="meetings"])')
    meetings.locator('[data-role="move-across"] button').click()
    expect(viewer.locator(f'{LEFT}:has([data-plugin="meetings"])')).to_have_count(1, timeout=10000)
    expect(viewer.locator('[data-state="loading"]')).to_have_count(0)
    wanted = plugins_of(viewer)

    # Then the rules removed: gone from the viewer's page too.
    rules = owner.locator('[data-role="slot"]:has([data-plugin="rules"])')
    rules.locator('[data-role="remove"]').click()
    owner.click('[data-role="confirm-button"]')
    expect(viewer.locator('[data-plugin="rules"]')).to_have_count(0, timeout=10000)
    assert plugins_of(viewer) != wanted

    # The owner restores the revision of the move from the history page.
    owner.click('[data-role="history"]')
    revisions = owner.locator('[data-role="revision"]')
    expect(revisions.first.locator('[data-role="sentence"]')).to_have_text(
        "nirik removed Rules from the left column"
    )
    moved = revisions.nth(1)
    expect(moved.locator('[data-role="sentence"]')).to_have_text(
        "nirik moved Meetings to the left column"
    )
    moved.locator('[data-role="restore"] button').click()
    expect(owner.locator('[data-role="flash"]')).to_contain_text("restored")
    expect(revisions.first.locator('[data-role="sentence"]')).to_contain_text(
        "nirik restored revision"
    )

    # The viewer's page, never reloaded, shows the restored layout, drawn.
    expect(viewer.locator('[data-plugin="rules"]')).to_have_count(1, timeout=10000)
    expect(viewer.locator('[data-state="loading"]')).to_have_count(0, timeout=10000)
    assert viewer.evaluate("window.__sameDocument") is True
    assert plugins_of(viewer) == wanted
    fresh = browser.new_page()
    fresh.goto(f"{stack.web_url}/t/infrastructure/")
    expect(fresh.locator('[data-state="loading"]')).to_have_count(0)
    assert layout_of(viewer) == layout_of(fresh)
    assert viewer.errors == []
    fresh.close()
    owner_context.close()
