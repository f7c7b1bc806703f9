"""A widget's own title and the configure form's controls; the hub page's edit mode as
the server draws it (the browser side is tests/browser/test_edit_mode.py)."""

import pytest
import sqlalchemy as sa

from hubs.models import Column, Widget
from hubs.models.revision import HubRevision
from hubs.models.widget import MAX_WIDGET_TITLE
from hubs.widgets import registry, validators
from hubs.widgets.base import Argument
from tests import factories
from tests.conftest import log_in
from tests.html import elements, with_role
from tests.views.conftest import snapshot, sticky_id
from tests.widgets.test_registry import refusal


def _widget(session, widget_id: int) -> Widget:
    session.expire_all()
    return session.get(Widget, widget_id)


def _panel_title(page: str, widget_id: int) -> str:
    """The title text of one widget's panel in a hub page."""
    section = page[page.index(f'id="widget-{widget_id}"') :]
    header = section[section.index('data-role="widget-title">') :]
    return header[len('data-role="widget-title">') : header.index("</span>")]


def test_a_title_given_through_the_api_shows_in_the_panel_and_the_bus_message(
    client, session, team, published
):
    log_in(client, "nirik")
    sticky = sticky_id(session)
    page = client.get("/t/infrastructure/").text
    assert _panel_title(page, sticky) == "Note"

    response = client.post(
        f"/api/t/infrastructure/w/{sticky}/config",
        json={"config": {"text": "Hello"}, "title": "  Team notes "},
    )
    assert response.status_code == 200 and response.get_json()["changed"] == ["title"]
    assert _widget(session, sticky).title == "Team notes"
    assert _widget(session, sticky).config == {"text": "Hello"}
    assert _panel_title(client.get("/t/infrastructure/").text, sticky) == "Team notes"
    assert client.get(f"/t/infrastructure/w/{sticky}/").text.count("Team notes") == 1
    topic, fields = published[-1]
    assert topic == "widget.updated" and fields["widget_label"] == "Team notes"
    assert fields["changed_keys"] == ["title"]
    history = session.scalars(
        sa.select(HubRevision.sentence)
        .where(HubRevision.hub_id == team.id)
        .order_by(HubRevision.id)
    ).all()
    assert history[-1] == "nirik changed the Sticky note widget: title"

    # The title alone: the config stays; an empty title gives the kind's back.
    only_title = client.post(f"/api/t/infrastructure/w/{sticky}/config", json={"title": "Read me"})
    assert only_title.status_code == 200
    assert (_widget(session, sticky).title, _widget(session, sticky).config) == (
        "Read me",
        {"text": "Hello"},
    )
    cleared = client.post(f"/api/t/infrastructure/w/{sticky}/config", json={"title": ""})
    assert cleared.get_json()["changed"] == ["title"]
    assert _widget(session, sticky).title is None
    assert _panel_title(client.get("/t/infrastructure/").text, sticky) == "Note"


def test_a_refused_title_is_a_400_naming_it_and_changes_nothing(client, session, team, published):
    log_in(client, "nirik")
    sticky = sticky_id(session)
    before = snapshot(session)
    for title, reason in [
        ("x" * (MAX_WIDGET_TITLE + 1), f"must be at most {MAX_WIDGET_TITLE} characters long"),
        (42, "must be text"),
        ("bad\x00", "must not contain NUL characters"),
    ]:
        response = client.post(
            f"/api/t/infrastructure/w/{sticky}/config",
            json={"config": {"text": "Changed too"}, "title": title},
        )
        assert response.status_code == 400
        assert response.get_json()["errors"] == {"title": reason}
    # A bad config and a bad title: both named at once.
    both = client.post(
        f"/api/t/infrastructure/w/{sticky}/config",
        json={"config": {"text": 5}, "title": "x" * 200},
    )
    assert set(both.get_json()["errors"]) == {"text", "title"}
    assert snapshot(session) == before and published == []
    assert _widget(session, sticky).title is None


@pytest.mark.parametrize("column", ["middle", "LEFT", "left%00", "x" * 300])
def test_the_new_widget_form_refuses_a_column_the_hub_has_not(client, session, team, column):
    """Refused up front (400, naming the columns), not in a form that cannot be sent."""
    log_in(client, "nirik")
    response = client.get(
        "/t/infrastructure/edit/widgets/new", query_string={"plugin": "sticky", "column": column}
    )
    assert response.status_code == 400
    assert "column must be one of: left, right" in response.text
    left = client.get("/t/infrastructure/edit/widgets/new?plugin=sticky")  # the default
    assert left.status_code == 200
    assert {e["value"] for e in _inputs(left.text) if e.get("name") == "column"} == {"left"}


def test_the_forms_add_and_configure_a_widget_with_its_title(client, session, team, published):
    log_in(client, "nirik")
    form = client.get("/t/infrastructure/edit/widgets/new?plugin=sticky&column=right").text
    assert with_role(form, "field-title") and with_role(form, "field-text")
    back = _control(form, "next")["value"]
    added = client.post(
        "/t/infrastructure/widgets",
        data={"plugin": "sticky", "column": "right", "title": "Second note", "text": "Two",
              "next": back},
    )  # fmt: skip
    assert added.status_code == 302 and added.location == "/t/infrastructure/?edit=1"
    new = session.scalars(sa.select(Widget).where(Widget.title == "Second note")).one()
    assert new.column is Column.right
    assert published[-1][1]["widget_label"] == "Second note"

    edit = client.get(f"/t/infrastructure/w/{new.id}/edit").text
    assert _control(edit, "title")["value"] == "Second note"
    refused = client.post(
        f"/t/infrastructure/w/{new.id}/config", data={"title": "y" * 100, "text": "Two"}
    )
    assert refused.status_code == 400 and with_role(refused.text, "error-title")
    assert "y" * 100 in refused.text  # what was typed is kept
    saved = client.post(
        f"/t/infrastructure/w/{new.id}/config",
        data={"title": "Notes, again", "text": "Two", "next": _control(edit, "next")["value"]},
    )
    assert saved.location == f"/t/infrastructure/?edit=1#widget-{new.id}"
    assert _widget(session, new.id).title == "Notes, again"
    page = client.get("/t/infrastructure/").text
    assert _panel_title(page, new.id) == "Notes, again"
    # The remove page and the controls name it by its title.
    assert (
        "Remove the Notes, again widget?" in client.get(f"/t/infrastructure/w/{new.id}/remove").text
    )
    assert any(
        e.get("aria-label") == "Configure Notes, again" for e in with_role(page, "configure")
    )


def _inputs(html: str) -> list[dict[str, str]]:
    return [e for e in elements(html) if e["<tag>"] in ("input", "select", "textarea")]


def _control(html: str, name: str) -> dict[str, str]:
    [control] = [e for e in _inputs(html) if e.get("name") == name]
    return control


def test_each_setting_gets_the_control_of_its_kind(client, session, team):
    log_in(client, "nirik")
    hub = team
    pagure = factories.widget(session, hub, "pagure", project="pagure")
    feed = factories.widget(session, hub, "feed")
    session.commit()
    form = client.get(f"/t/infrastructure/w/{pagure.id}/edit").text
    what = _control(form, "what")
    assert what["<tag>"] == "select"
    options = [e["value"] for e in _options(form, "what")]
    assert options == ["issues", "pull-requests", "both"]
    limit = _control(form, "limit")
    assert (limit["<tag>"], limit["type"], limit["min"], limit["max"]) == (
        "input",
        "number",
        "1",
        "100",
    )
    assert _control(form, "project")["type"] == "text"
    assert _control(form, "title")["type"] == "text"

    feed_form = client.get(f"/t/infrastructure/w/{feed.id}/edit").text
    per_page = _control(feed_form, "per_page")
    assert (per_page["type"], per_page["min"], per_page["max"]) == ("number", "3", "50")
    # Booleans are checkboxes (the settings' "archived").
    settings = client.get("/t/infrastructure/edit/settings").text
    assert _control(settings, "archived")["type"] == "checkbox"
    assert _control(settings, "left_width")["type"] == "number"
    # The server's message says what is wrong, not the browser's own bubble.
    assert "novalidate" in with_role(form, "widget-form")[0]
    assert "novalidate" in with_role(settings, "settings-form")[0]

    # A value no choice holds is refused, the form again showing it with the reason.
    refused = client.post(
        f"/t/infrastructure/w/{pagure.id}/config",
        data={"project": "pagure", "what": "tickets", "limit": "5"},
    )
    assert refused.status_code == 400
    assert with_role(refused.text, "error-what")
    assert [e["value"] for e in _options(refused.text, "what") if "selected" in e] == ["tickets"]


def _options(html: str, name: str) -> list[dict[str, str]]:
    """The options of the select ``name``, in order."""
    found, select = [], None
    for element in elements(html):
        if element["<tag>"] == "select":
            select = element.get("name")
        elif element["<tag>"] != "option":
            select = None
        elif select == name:
            found.append(element)
    return found


def test_a_widget_may_not_declare_an_argument_named_title():
    arguments = [Argument("title", "", validators.text(10), help="A title.")]
    assert "argument 'title' would hide the widget's own title" in refusal(ARGUMENTS=arguments)


def test_the_hub_page_opens_in_edit_mode_with_edit_1(client, session, team):
    log_in(client, "nirik")
    normal = client.get("/t/infrastructure/").text
    [hub] = with_role(normal, "hub")
    assert hub["data-edit-mode"] == "off"
    [edit] = with_role(normal, "edit-hub")
    assert edit["href"] == "/t/infrastructure/?edit=1"
    # The controls are there for the page's script, hidden by the mode (class hubs-edit-only).
    for control in with_role(normal, "widget-controls") + with_role(normal, "add-widget-left"):
        assert "hubs-edit-only" in control["class"].split()
    editing = client.get("/t/infrastructure/?edit=1").text
    assert with_role(editing, "hub")[0]["data-edit-mode"] == "on"
    assert with_role(editing, "done-editing")[0]["href"] == "/t/infrastructure/"
    nexts = [e["value"] for e in _inputs(editing) if e.get("name") == "next"]
    assert f"/t/infrastructure/?edit=1#widget-{sticky_id(session)}" in nexts
    # Visitors get no edit mode at all.
    for visitor in ("ralph", None):
        log_in(client, visitor)
        page = client.get("/t/infrastructure/?edit=1").text
        assert with_role(page, "hub")[0]["data-edit-mode"] == "off"
        assert with_role(page, "edit-bar") == [] and with_role(page, "drag-handle") == []


def test_an_empty_widget_keeps_its_controls_for_edit_mode(client, session, team):
    log_in(client, "nirik")
    contact = factories.widget(session, team, "contact")  # hidden when empty
    session.commit()
    client.get(f"/t/infrastructure/w/{contact.id}/")  # drawn (and cached): empty
    page = client.get("/t/infrastructure/?edit=1").text
    [section] = [e for e in with_role(page, "widget") if e["data-widget-id"] == str(contact.id)]
    assert "d-none" in section["class"].split()  # hidden from visitors...
    slot = page[page.index(f'data-widget-id="{contact.id}"') :]
    slot = slot[: slot.index('data-role="slot"') if 'data-role="slot"' in slot else len(slot)]
    assert 'data-role="widget-controls"' in slot  # ...and its controls are there to edit it
    assert f"/t/infrastructure/w/{contact.id}/edit" in slot
    assert registry["contact"].chrome.hide_when_empty


def test_the_api_takes_links_as_the_dialog_sends_them(client, session, team):
    log_in(client, "nirik")
    rules = factories.widget(session, team, "rules")
    session.commit()
    response = client.post(
        f"/api/t/infrastructure/w/{rules.id}/config",
        json={"config": {"text": "Be kind", "links": "Docs | https://docs.fedoraproject.org\n"}},
    )
    assert response.status_code == 200
    assert _widget(session, rules.id).config["links"] == [
        {"title": "Docs", "url": "https://docs.fedoraproject.org"}
    ]
    refused = client.post(
        f"/api/t/infrastructure/w/{rules.id}/config",
        json={"config": {"links": "Evil | javascript:alert(1)"}},
    )
    assert refused.status_code == 400
    assert refused.get_json()["errors"] == {
        "links": "link 1: must be an http:// or https:// address"
    }
