"""Every widget is offered in the editor's picker with its settings form, can be added
with its defaults, and is listed in the README with its description."""

import json
import pathlib
import re

import pytest
import sqlalchemy as sa
from markupsafe import escape

from hubs.models import Hub, HubType, Role, Widget
from hubs.rendering import WIDGET_FAILED, render_panel, widget_event
from hubs.widgets import registry
from tests import factories
from tests.conftest import log_in
from tests.html import elements, widget_states, with_role

README = pathlib.Path(__file__).resolve().parents[2] / "README.rst"


@pytest.fixture
def team(session):
    hub = factories.hub(session, "infrastructure")
    nirik = factories.user(session, "nirik")
    factories.role(session, hub, nirik, Role.owner)
    factories.role(session, factories.hub(session, "nirik", HubType.user), nirik, Role.owner)
    session.commit()
    return hub


PERSON_ONLY = {"badges", "memberships", "updates2stable"}
TEAM_ONLY = {"roster"}


@pytest.mark.parametrize(
    ("hub", "offered"),
    [
        ("/t/infrastructure/", sorted(set(registry) - PERSON_ONLY)),
        ("/u/nirik/", sorted(set(registry) - TEAM_ONLY)),
    ],
)
def test_the_picker_offers_every_widget_fit_for_the_hub(client, team, hub, offered):
    log_in(client, "nirik")
    page = client.get(f"{hub}edit/widgets/new").text
    options = [e["value"] for e in elements(page) if e["<tag>"] == "option"]
    assert sorted(options) == offered


@pytest.mark.parametrize("name", sorted(PERSON_ONLY))
def test_a_team_hub_refuses_a_person_only_widget(client, session, team, name):
    log_in(client, "nirik")
    title = registry[name].title
    assert registry[name].hub_types == {"user"}
    form = client.get(f"/t/infrastructure/edit/widgets/new?plugin={name}")
    assert form.status_code == 400
    assert str(escape(f"The {title} widget is for user hubs only.")) in form.text
    posted = client.post("/t/infrastructure/widgets", data={"plugin": name})
    assert posted.status_code == 400
    api = client.post("/api/t/infrastructure/widgets", json={"plugin": name, "config": {}})
    assert api.status_code == 400
    assert api.get_json()["message"] == f"The {title} widget is for user hubs only."
    assert session.scalars(sa.select(Widget.plugin).where(Widget.hub_id == team.id)).all() == []


@pytest.mark.parametrize("name", sorted(registry))
def test_each_widget_has_its_form_and_can_be_added(client, session, team, name):
    widget_type = registry[name]
    hub = (
        team
        if widget_type.fits("team")
        else session.scalar(sa.select(Hub).where(Hub.name == "nirik", Hub.type == HubType.user))
    )
    hub_id, path = hub.id, hub.url_path
    log_in(client, "nirik")
    form = client.get(f"{path}edit/widgets/new?plugin={name}").text
    assert with_role(form, "widget-form") and str(escape(widget_type.description)) in form
    for argument in widget_type.arguments:
        assert with_role(form, f"field-{argument.name}"), f"{name}: no field {argument.name}"
    if not widget_type.arguments:
        assert with_role(form, "no-settings")
    added = client.post(f"/api{path}widgets", json={"plugin": name, "config": {}})
    assert added.status_code == 200, added.get_json()
    plugins = session.scalars(sa.select(Widget.plugin).where(Widget.hub_id == hub_id)).all()
    assert plugins == [name]


def test_the_readme_lists_every_widget_with_its_description():
    text = README.read_text()
    section = text.split("\nWidgets\n-------\n", 1)[1].split("\n----", 1)[0]
    listed = dict(re.findall(r"^- ``(\w+)``: (.+?)(?=^- |\n\n|\Z)", section, re.M | re.S))
    assert sorted(listed) == sorted(registry)
    for name, line in listed.items():
        assert " ".join(line.split()) == registry[name].description, name


@pytest.mark.parametrize("name", sorted(registry))
def test_each_widget_has_an_error_state_without_details(app_context, session, team, name):
    widget = factories.widget(session, team, name)
    envelope = {"ok": False, "error": "KeyError: 'secret detail'", "public_error": None}
    html = render_panel(widget, registry[name], envelope)
    assert widget_states(html) == {name: "error"}
    assert with_role(html, "widget-error") and "secret detail" not in html
    outage = {**envelope, "public_error": "Could not reach pagure.io right now."}
    assert "Could not reach pagure.io right now." in render_panel(widget, registry[name], outage)
    # The JSON document, which the stream pushes too, says as little.
    envelope = {**envelope, "version": 1, "html": html}
    event = widget_event(widget, registry[name], envelope)
    assert "secret detail" not in json.dumps(event)
    assert event["data"]["error"] == {"code": "widget_failed", "message": WIDGET_FAILED}
    pushed = widget_event(widget, registry[name], {**outage, "version": 2, "html": ""})
    assert pushed["data"]["error"] == {
        "code": "service_unavailable",
        "message": "Could not reach pagure.io right now.",
    }
