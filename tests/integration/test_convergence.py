"""Every open page ends up right, and nothing is lost, while the stack is knocked about:
the real stack on fedora-messaging (tests/chaos.py says what runs and which faults), SSE
clients on five hubs and one real Chromium page. bench/chaos.py is the longer run."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, logged_in_context
from tests.chaos import EDITED, Chaos, first_difference
from tests.stack import wait_until

SEED = int(os.environ.get("HUBS_CHAOS_SEED", "13"))


@pytest.fixture
def chaos(tmp_path):
    chaos = Chaos(tmp_path, SEED)
    try:
        chaos.start()
        yield chaos
    finally:
        chaos.close()
        print(chaos.logs())


def page_state(page) -> dict:
    """What a page shows: its slots in order and each panel's text without its times
    ("5 minutes ago"), and the header's summary and counts."""
    return page.evaluate(
        """() => {
            const text = (element) => {
                const copy = element.cloneNode(true);
                copy.querySelectorAll("time").forEach((time) => time.remove());
                return copy.textContent.replace(/\\s+/g, " ").trim();
            };
            return {
                columns: ["left", "right"].map((column) => Array.from(
                    document.querySelectorAll(
                        `[data-role="column-${column}"] [data-role="widget"]`),
                    (panel) => [panel.dataset.widgetId, text(panel)])),
                summary: document.querySelector('[data-role="hub-summary"]')?.textContent ?? null,
                counts: Array.from(document.querySelectorAll('[data-role="hub-counts"] strong'),
                                   (count) => count.textContent),
            };
        }"""
    )


def test_every_page_converges_and_nothing_is_lost_under_faults(chaos):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # The owner's own page of the hub being edited, open all along.
        context = logged_in_context(browser, chaos.cluster.app, chaos.web_url, "nirik")
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(chaos.web_url + EDITED)
        expect(page.locator('[data-role="live-indicator"]')).to_have_attribute(
            "data-state", "live", timeout=20000
        )

        last_fault = chaos.replay(count=240, edits=5)  # each kind of edit once
        # Every change of layout was made (a config change too, if a note was there), and
        # a new user's hub and a new team's (made by an admin), and the hub the web app
        # made at a newcomer's first login, were watched from their first moments.
        assert {"add", "move", "remove", "summary"} <= set(chaos.editor.done)
        assert chaos.figures.hubs_created == 3 and len(chaos.clients) == 8
        counts = chaos.all_stored_once()
        assert sorted(set(counts.values())) == [1], "a message stored more than once"
        differences = chaos.converge(last_fault)
        assert differences == {}

        fresh = context.new_page()
        fresh.goto(chaos.web_url + EDITED)
        expect(fresh.locator('[data-state="loading"]')).to_have_count(0, timeout=20000)
        expect(page.locator('[data-state="loading"]')).to_have_count(0, timeout=20000)
        # The long-open page shows what a fresh one does (it may take a retry or two).
        expect(page.locator('[data-role="live-indicator"]')).to_have_attribute(
            "data-state", "live", timeout=20000
        )
        converged = wait_until(lambda: page_state(page) == page_state(fresh), 30)
        assert converged, first_difference(page_state(page), page_state(fresh))
        assert errors == []
        browser.close()

    assert all(chaos.running().values()), chaos.running()
    print("\n".join(chaos.figures.lines()))
