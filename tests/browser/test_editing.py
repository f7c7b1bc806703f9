"""In Chromium, an owner shapes a hub with the page's own controls."""

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from hubs.database import db
from hubs.models import Hub, JoinRequest, Role
from tests import factories
from tests.browser.conftest import logged_in_context

LEFT = '[data-role="column-left"]'
RIGHT = '[data-role="column-right"]'


def test_owner_adds_configures_moves_and_removes_widgets_without_javascript(
    browser, live_app, live_server
):
    # The forms of edit mode (?edit=1), page by page: what works with JavaScript off.
    context = logged_in_context(browser, live_app, live_server, "nirik", java_script_enabled=False)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server}/t/infrastructure/")
    expect(page.locator('[data-role="widget-controls"]').first).to_be_hidden()
    page.click('[data-role="edit-hub"]')
    expect(page.locator('[data-role="widget-controls"]').first).to_be_visible()
    expect(page.locator('[data-role="me"]')).to_have_text("nirik")

    # Add a sticky note at the bottom of the left column.
    page.click('[data-role="add-widget-left"]')
    page.select_option("#plugin", "sticky")
    page.click('[data-role="choose-widget"] button')
    page.fill('textarea[name="text"]', "Made in **Chromium**")
    page.click('[data-role="widget-form"] button[type="submit"]')
    expect(page.locator('[data-role="flash"]')).to_have_text("Sticky note added.")
    new = page.locator(f'{LEFT} [data-role="slot"]').last
    expect(new.locator('[data-role="widget"]')).to_have_attribute("data-plugin", "sticky")
    # Not drawn yet, the new widget offers its own page (the page's script would fetch it).
    expect(new.locator('noscript a, [data-role="sticky-text"]').first).to_be_attached()

    # Configure it.
    new.locator('[data-role="configure"]').click()
    page.fill('textarea[name="text"]', "Configured *here*")
    page.click('[data-role="widget-form"] button[type="submit"]')
    expect(page.locator('[data-role="flash"]')).to_have_text("Widget saved.")
    new = page.locator(f'{LEFT} [data-role="slot"]').last
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

    expect(page).to_have_url(f"{live_server}/t/infrastructure/?edit=1")  # still editing
    page = context.browser.new_page()  # a visitor's, with JavaScript: every widget drawn
    page.goto(f"{live_server}/t/infrastructure/")
    first_right = page.locator(f'{RIGHT} [data-role="slot"]').first
    expect(first_right).to_have_attribute("data-widget-id", widget_id)
    expect(first_right.locator('[data-role="sticky-text"]')).to_have_text("Configured here")
    expect(page.locator('[data-plugin="rules"]')).to_have_count(0)
    assert errors == []
    page.close()
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


LONG_NAME = "a" + "verylongaccountname" * 3 + "x"  # 59 characters, no break in them


@pytest.mark.parametrize("width", [1366, 576, 390])
def test_members_page_errors_inline_and_long_names_stay_on_the_page(
    browser, live_app, live_server, width
):
    with live_app.app_context():
        hub = db.session.scalar(sa.select(Hub).where(Hub.name == "infrastructure"))
        long = factories.user(db.session, LONG_NAME)
        factories.role(db.session, hub, long, Role.member)
        db.session.add(
            JoinRequest(hub_id=hub.id, user_id=factories.user(db.session, LONG_NAME + "2").id)
        )
        db.session.commit()
        db.session.remove()
    context = logged_in_context(browser, live_app, live_server, "nirik")
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(f"{live_server}/t/infrastructure/edit/members")
    expect(page.locator(f'[data-role="member"][data-username="{LONG_NAME}"]')).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.fill("#username", "  no-such-person ")
    page.click('[data-role="add-member"] button[type="submit"]')
    expect(page.locator('[data-role="error-username"]')).to_have_text(
        "There is no user named 'no-such-person'."
    )
    expect(page.locator("#username")).to_have_value("  no-such-person ")
    page.fill("#username", LONG_NAME.upper())
    page.select_option("#role", "owner")
    page.click('[data-role="add-member"] button[type="submit"]')
    expect(page.locator('[data-role="flash"]')).to_have_text(
        f"{LONG_NAME} is invited to be owner; they are once they accept."
    )
    page.wait_for_load_state()  # its stylesheets too: the flash shows before they apply
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    context.close()
