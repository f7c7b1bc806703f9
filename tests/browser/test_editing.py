"""In Chromium, an owner shapes a hub with the page's own controls."""

from playwright.sync_api import expect

from tests.browser.conftest import logged_in_context

LEFT = '[data-role="column-left"]'
RIGHT = '[data-role="column-right"]'


def test_owner_adds_configures_moves_and_removes_widgets(browser, live_app, live_server):
    context = logged_in_context(browser, live_app, live_server, "nirik")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server}/t/infrastructure/")
    expect(page.locator('[data-role="me"]')).to_have_text("nirik")

    # Add a sticky note at the bottom of the left column.
    page.click('[data-role="add-widget-left"]')
    page.select_option("#plugin", "sticky")
    page.click('[data-role="choose-widget"] button')
    page.fill('textarea[name="text"]', "Made in **Chromium**")
    page.click('[data-role="widget-form"] button[type="submit"]')
    expect(page.locator('[data-role="flash"]')).to_have_text("Sticky note added.")
    new = page.locator(f'{LEFT} [data-role="slot"]').last
    expect(new.locator('[data-role="sticky-text"]')).to_contain_text("Made in Chromium")

    # Configure it.
    new.locator('[data-role="configure"]').click()
    page.fill('textarea[name="text"]', "Configured *here*")
    page.click('[data-role="widget-form"] button[type="submit"]')
    expect(page.locator('[data-role="flash"]')).to_have_text("Widget saved.")
    new = page.locator(f'{LEFT} [data-role="slot"]').last
    expect(new.locator('[data-role="sticky-text"]')).to_have_text("Configured here")
    widget_id = new.get_attribute("data-widget-id")

    # Move it to the other column (to its top), remove the rules widget.
    new.locator('[data-role="move-across"] button').click()
    expect(page.locator(f'{RIGHT} [data-role="slot"]').first).to_have_attribute(
        "data-widget-id", widget_id
    )
    rules = page.locator('[data-role="slot"]:has([data-plugin="rules"])')
    rules.locator('[data-role="remove"]').click()
    page.click('[data-role="confirm-button"]')
    expect(page.locator('[data-role="flash"]')).to_have_text("Widget removed.")

    page.reload()
    expect(page.locator('[data-state="loading"]')).to_have_count(0)
    first_right = page.locator(f'{RIGHT} [data-role="slot"]').first
    expect(first_right).to_have_attribute("data-widget-id", widget_id)
    expect(first_right.locator('[data-role="sticky-text"]')).to_have_text("Configured here")
    expect(page.locator('[data-plugin="rules"]')).to_have_count(0)
    assert errors == []
    context.close()


def test_invalid_input_shows_the_validator_message(browser, live_app, live_server):
    context = logged_in_context(browser, live_app, live_server, "nirik")
    page = context.new_page()
    page.goto(f"{live_server}/t/infrastructure/edit/settings")
    page.fill('input[name="left_width"]', "40")
    page.click('[data-role="settings-form"] button[type="submit"]')
    expect(page.locator('[data-role="error-left_width"]')).to_contain_text("between 1 and 11")
    page.goto(f"{live_server}/t/infrastructure/")
    expect(page.locator('[data-role="column-left"]')).to_have_class("col-md-8")
    context.close()
