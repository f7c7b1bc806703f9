"""In Chromium: uncached widgets load in place, a failing one shows its error panel."""

from playwright.sync_api import expect

from hubs.default_widgets import TEAM_WIDGETS
from hubs.seed import DEMO_TEAMS
from hubs.widgets import registry

WIDGETS = '[data-role="widget"]'
INFRASTRUCTURE = next(team for team in DEMO_TEAMS if team.name == "infrastructure")
# The default team widgets and the demo's extra ones...
ALL = len(TEAM_WIDGETS) + len(INFRASTRUCTURE.extra)
# ...of which these call Fedora services, unreachable from the tests.
EXTERNAL = ["meetings", "pagure", "bugzilla"]
COUNT = ALL - len(EXTERNAL)


def test_placeholders_fill_in_without_reload(live_server, page):
    served = page.request.get(f"{live_server}/t/infrastructure/").text()
    assert served.count('data-state="loading"') == ALL  # nothing cached: all placeholders
    page.goto(f"{live_server}/t/infrastructure/")
    page.evaluate("window.__sameDocument = true")

    expect(page.locator('[data-state="loading"]')).to_have_count(0, timeout=5000)
    expect(page.locator(f'{WIDGETS}[data-state="ready"]')).to_have_count(COUNT)
    for plugin in EXTERNAL:
        panel = page.locator(f'{WIDGETS}[data-plugin="{plugin}"]')
        expect(panel).to_have_attribute("data-state", "error")
        expect(panel.locator('[data-role="widget-error-reason"]')).to_contain_text(
            "Could not reach"
        )
    expect(page.locator('[data-role="rules-links"] a').first).to_have_text("Infrastructure docs")
    expect(page.locator('[data-plugin="fedmsgstats"] [data-role="messages-total"]')).to_have_text(
        "0"
    )
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    assert page.errors == []


def test_failing_widget_shows_error_panel_and_the_rest_loads(live_server, page, monkeypatch):
    def broken(session, widget, **config):
        raise TimeoutError("service took too long")

    monkeypatch.setattr(registry["rules"], "_data", broken)
    page.goto(f"{live_server}/t/infrastructure/")
    expect(page.locator('[data-state="loading"]')).to_have_count(0, timeout=5000)
    rules_error = page.locator(f'{WIDGETS}[data-plugin="rules"] [data-role="widget-error"]')
    expect(rules_error).to_contain_text("Couldn't load this widget")
    expect(page.locator(f'{WIDGETS}[data-state="ready"]')).to_have_count(COUNT - 1)


def test_server_error_while_filling_shows_error_panel(live_server, page):
    page.route("**/w/*/", lambda route: route.fulfill(status=502, body="bad gateway"))
    page.goto(f"{live_server}/t/infrastructure/")
    expect(page.locator('[data-role="widget-error"]')).to_have_count(ALL, timeout=5000)
