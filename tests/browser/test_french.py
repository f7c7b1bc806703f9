"""In Chromium, a French reader: the hub page and its editor in French at 390 px with
nothing wider than the screen, and a live page that stays French as events come."""

from babel.support import Translations
from playwright.sync_api import expect

from hubs.i18n import TRANSLATIONS_DIR
from tests.browser.conftest import logged_in_context
from tests.browser.test_edit_mode import DIALOG, fits
from tests.browser.test_live import TOTAL, open_hub, ralph_message

PHONE = {"width": 390, "height": 844}
FRENCH = Translations.load(TRANSLATIONS_DIR, ["fr"])


def french(msgid: str, **values) -> str:
    text = FRENCH.gettext(msgid)
    assert text != msgid, f"{msgid!r} has no French translation"
    return text % values if values else text


def french_page(context, url: str):
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(url)
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator('[data-state="loading"]')).to_have_count(0)
    return page


def test_the_french_hub_page_and_editor_fit_a_phone(browser, live_app, live_server):
    context = logged_in_context(
        browser, live_app, live_server, "nirik", viewport=PHONE, locale="fr-FR"
    )
    page = french_page(context, live_server + "/t/infrastructure/")
    fits(page)
    page.locator('[data-role="menu-toggle"]').click()
    expect(page.locator('[data-role="my-stream"]')).to_have_text(french("My Stream"))
    fits(page)

    page.locator('[data-role="edit-hub"]').click()
    expect(page.locator('[data-role="edit-help"]')).to_be_visible()
    fits(page)
    feed = page.locator('[data-role="slot"]:has([data-plugin="feed"])')
    feed.locator('[data-role="configure"]').click()
    dialog = page.locator(DIALOG)
    expect(dialog).to_be_visible()
    expect(dialog.locator('[data-role="widget-form"] button[type="submit"]')).to_have_text(
        french("Save")
    )
    fits(page)
    dialog.locator('input[name="per_page"]').fill("500")
    dialog.locator('[data-role="widget-form"] button[type="submit"]').click()
    expect(dialog.locator('[data-role="error-per_page"]')).not_to_be_empty()
    error = dialog.locator('[data-role="error-per_page"]').inner_text()
    assert "between" not in error, error  # the validator's message is French too
    fits(page)
    dialog.locator('[data-role="cancel"]').click()
    expect(dialog).to_be_hidden()

    for path in ("/u/nirik/stream", "/u/nirik/account", "/t/infrastructure/history/", "/"):
        fits(french_page(context, live_server + path))
    visitor = browser.new_context(viewport=PHONE, locale="fr-FR")
    fits(french_page(visitor, live_server + "/t/infrastructure/"))
    assert page.errors == []
    context.close()
    visitor.close()


def test_a_live_french_page_stays_french_as_events_come(stack, browser, corpus):
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    open_hub(page, stack)
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator(TOTAL)).to_have_text("0")
    stats = '[data-plugin="fedmsgstats"] [data-role="widget-title"]'
    expect(page.locator(stats)).to_have_text(french("Activity"))
    titles = page.locator('[data-role="widget-title"]').all_inner_texts()
    page.evaluate("window.__sameDocument = true")

    stack.publish(
        ralph_message(corpus, "live-in-french"),
        until=lambda: page.locator(TOTAL).inner_text() == "1",
        what="the French page's widget to be redrawn",
    )
    expect(page.locator(TOTAL)).to_have_text("1")
    # The redrawn panel is the French one the server renders, not the event's English.
    expect(page.locator(stats)).to_have_text(french("Activity"))
    assert page.locator('[data-role="widget-title"]').all_inner_texts() == titles
    assert page.evaluate("window.__sameDocument") is True
    assert page.errors == []
    context.close()
