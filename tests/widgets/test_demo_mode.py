"""Demo mode on the demo hubs that populate creates, on each database: every external
widget draws its recorded answers in a panel that says "Demo data", with Fedora's
services unreachable; the local widgets and a site without demo mode carry no label."""

from __future__ import annotations

import pytest

from hubs.models import HubType
from hubs.rendering import render_panel
from hubs.seed import populate, warm_cache
from hubs.widgets import registry
from tests import factories
from tests.html import widget_states, with_role
from tests.stack import free_port

EXTERNAL = sorted(name for name, widget_type in registry.items() if widget_type.external)
# What each external widget shows of its recording: the data-role of one entry.
ENTRY = {
    "badges": "badge",
    "bugzilla": "bug",
    "github": "pull-request",
    "meetings": "meeting",
    "pagure": "issue",
    "updates2stable": "update",
}
HUBS = {
    "/t/infrastructure/": ["bugzilla", "meetings", "pagure"],
    "/t/design/": ["meetings", "pagure"],
    "/t/websites/": ["github", "meetings"],
    "/t/marketing/": ["meetings"],
    "/t/i18n/": ["meetings"],
    "/u/ralph/": ["badges", "updates2stable"],
    "/u/nirik/": ["badges", "updates2stable"],
}


@pytest.fixture
def app_config(app_config):
    """Demo mode, every service's address dead: only the recordings can answer."""
    dead = f"http://127.0.0.1:{free_port()}/"
    urls = {client.URL_SETTING: dead for name in EXTERNAL for client in registry[name].clients}
    return {**app_config, **urls, "DEMO_MODE": True}


@pytest.fixture
def demo_hubs(app_context, session):
    populate(session, say=lambda line: None)
    warm_cache(session, say=lambda line: None)


def panels(page: str) -> dict[str, str]:
    """plugin -> the HTML of its first panel on ``page``."""
    found = {}
    for plugin in widget_states(page):
        start = page.index(f'data-plugin="{plugin}"')
        found[plugin] = page[start : page.index("</section>", start)]
    return found


def test_the_table_names_every_external_widget():
    assert sorted(ENTRY) == EXTERNAL
    assert sorted({plugin for plugins in HUBS.values() for plugin in plugins}) == EXTERNAL


@pytest.mark.parametrize(("path", "external"), HUBS.items())
def test_each_external_widget_shows_its_recording_labelled(client, demo_hubs, path, external):
    page = client.get(path)
    assert page.status_code == 200
    assert "Couldn't load" not in page.text
    states, shown = widget_states(page.text), panels(page.text)
    assert set(external) <= set(states)
    for plugin, state in states.items():
        assert state == "ready", (path, plugin, shown[plugin])
        labels = with_role(shown[plugin], "demo-data")
        if plugin in external:
            assert len(labels) == 1, (path, plugin)
            assert with_role(shown[plugin], ENTRY[plugin]), (path, plugin, shown[plugin])
            assert "Demo data</span>" in shown[plugin]  # visible text, not only a hook
        else:
            assert labels == [], (path, plugin)  # local data is real data


def test_the_json_document_holds_the_recorded_data(client, demo_hubs):
    page = client.get("/u/ralph/").text
    [badges] = [w for w in with_role(page, "widget") if w["data-plugin"] == "badges"]
    document = client.get(badges["data-src"] + "json").get_json()
    assert "error" not in document
    assert document["data"]["username"] == "ralph" and len(document["data"]["badges"]) == 9


def test_an_uncached_widget_loads_its_recording_too(client, session, app_context):
    hub = factories.hub(session, "ralph", HubType.user)
    widget = factories.widget(session, hub, "github", repo="fedora-infra/fedora-hubs")
    session.commit()
    panel = client.get(widget.url_path)
    assert panel.status_code == 200
    assert len(with_role(panel.text, "pull-request")) == 3
    assert with_role(panel.text, "demo-data")


def test_the_label_needs_demo_mode_an_external_widget_and_its_data(app, app_context, session):
    hub = factories.hub(session, "ralph", HubType.user)
    badges = factories.widget(session, hub, "badges")
    sticky = factories.widget(session, hub, "sticky", text="hello")
    ok = {"ok": True, "data": {"username": "ralph", "badges": [], "total": 0}}
    sticky_ok = {"ok": True, "data": {"html": "<p>hello</p>"}}
    failed = {"ok": False, "error": "boom", "public_error": "Could not reach it."}

    def labelled(widget, envelope) -> bool:
        html = render_panel(widget, registry[widget.plugin], envelope)
        return bool(with_role(html, "demo-data"))

    assert labelled(badges, ok)
    assert not labelled(sticky, sticky_ok)
    assert not labelled(badges, failed)  # an error shows no data to label
    assert not labelled(badges, None)  # nor does a placeholder
    app.config["DEMO_MODE"] = False
    assert not labelled(badges, ok)
