import json

import pytest

from hubs.models import Column, Hub, HubType, Role, Widget
from hubs.rendering import WIDGET_FAILED
from hubs.widgets import registry
from tests import factories
from tests.html import widget_states, with_role
from tests.views.conftest import fill_every_widget


def test_hub_page_header_and_columns(client, infra):
    response = client.get("/t/infrastructure/")
    assert response.status_code == 200
    assert with_role(response.text, "hub-header")[0]["data-hub-name"] == "infrastructure"
    assert "Fedora Infrastructure" in response.text
    left = response.text.split('data-role="column-left"')[1].split('data-role="column-right"')[0]
    assert left.count('data-role="widget"') == 2
    assert 'class="col-md-8"' in response.text and 'class="col-md-4"' in response.text
    assert ">2</strong> members" in response.text
    assert ">1</strong> subscriber<" in response.text  # not "1 subscribers"


def test_cached_widgets_render_inline_and_others_as_placeholders(client, infra):
    first = client.get("/t/infrastructure/").text
    assert set(widget_states(first).values()) == {"loading"}
    assert len(with_role(first, "widget-loading")) == 3

    sticky = next(w for w in with_role(first, "widget") if w["data-plugin"] == "sticky")
    fragment = client.get(sticky["data-src"])
    assert fragment.status_code == 200
    assert with_role(fragment.text, "widget")[0]["data-state"] == "ready"
    assert "<em>SOPs</em>" in fragment.text

    second = client.get("/t/infrastructure/").text
    assert widget_states(second) == {"about": "loading", "sticky": "ready", "stats": "loading"}


def test_every_widget_rendered_once_cached(client, infra):
    fill_every_widget(client, client.get("/t/infrastructure/").text)
    page = client.get("/t/infrastructure/").text
    assert set(widget_states(page).values()) == {"ready"}
    stats = with_role(page, "stat-members")
    assert len(stats) == 1
    assert 'data-role="stat-members">2<' in page


def test_user_hub(client, session):
    user = factories.user(session, "ralph", fullname="Ralph Bean", email="ralph@example.com")
    hub = factories.hub(session, "ralph", HubType.user, summary="Ralph Bean")
    factories.role(session, hub, user, Role.owner)
    factories.widget(session, hub, "avatar", column=Column.right, size=64)
    session.commit()
    response = client.get("/u/ralph/")
    assert response.status_code == 200
    assert with_role(response.text, "hub-header")[0]["data-hub-type"] == "user"
    assert client.get("/t/ralph/").status_code == 404  # a user hub is not a team hub


def test_hub_json(client, infra):
    document = client.get("/t/infrastructure/json").get_json()
    assert document["name"] == "infrastructure"
    assert document["type"] == "team"
    assert document["counts"] == {"members": 2, "subscribers": 1, "stargazers": 1}
    assert document["owners"] == ["nirik"]
    assert [w["plugin"] for w in document["widgets"]] == ["about", "sticky", "stats"]
    assert document["widgets"][1]["config"] == {"text": "Read the *SOPs*"}


def test_widget_json_document(client, infra):
    sticky = next(w for w in infra.widgets if w.plugin == "sticky")
    document = client.get(f"/t/infrastructure/w/{sticky.id}/json").get_json()
    # Its version, as the stream pushes it: the cached data's.
    version = document.pop("version")
    assert isinstance(version, int) and version > 0
    assert document == {
        "id": sticky.id,
        "plugin": "sticky",
        "hub": {"name": "infrastructure", "type": "team", "url": "/t/infrastructure/"},
        "config": {"text": "Read the *SOPs*"},
        "data": {"html": "<p>Read the <em>SOPs</em></p>"},
    }


def test_raising_widget_shows_its_error_panel_and_the_rest_of_the_page(
    client, infra, monkeypatch, caplog
):
    def broken(session, widget, **config):
        raise RuntimeError("badges service exploded")

    monkeypatch.setattr(registry["sticky"], "_data", broken)
    sticky = next(w for w in infra.widgets if w.plugin == "sticky")

    fragment = client.get(sticky.url_path)
    assert fragment.status_code == 200
    assert with_role(fragment.text, "widget-error")
    assert "badges service exploded" not in fragment.text  # details go to the log only
    failure = [r for r in caplog.records if "failed to compute" in r.getMessage()]
    assert failure and failure[0].exc_info[0] is RuntimeError

    fill_every_widget(client, client.get("/t/infrastructure/").text)
    page = client.get("/t/infrastructure/")
    assert page.status_code == 200
    assert widget_states(page.text) == {"about": "ready", "sticky": "error", "stats": "ready"}
    assert len(with_role(page.text, "widget-error")) == 1

    document = client.get(sticky.url_path + "json").get_json()
    assert document["data"] is None
    assert document["error"] == {"code": "widget_failed", "message": WIDGET_FAILED}
    assert "exploded" not in json.dumps(document) and "RuntimeError" not in json.dumps(document)


def test_widget_whose_template_fails_shows_its_error_panel(client, infra, monkeypatch, caplog):
    monkeypatch.setattr(registry["stats"], "template", "vanished.html")
    stats = next(w for w in infra.widgets if w.plugin == "stats")
    fragment = client.get(stats.url_path)
    assert fragment.status_code == 200
    assert with_role(fragment.text, "widget-error")
    failure = [r for r in caplog.records if "failed to render" in r.getMessage()]
    assert failure and failure[0].exc_info is not None


def test_unknown_plugin_shows_an_error_panel(client, session, infra):
    widget = factories.widget(session, infra, "retired-widget")
    session.commit()
    page = client.get("/t/infrastructure/")
    assert page.status_code == 200
    assert widget_states(page.text)["retired-widget"] == "error"
    assert client.get(f"/t/infrastructure/w/{widget.id}/").status_code == 200


@pytest.mark.parametrize(
    "path",
    ["/t/nobody/", "/u/nobody/", "/t/infrastructure/w/999999/", "/x/infrastructure/"],
)
def test_real_404_pages(client, infra, path):
    response = client.get(path)
    assert response.status_code == 404
    assert with_role(response.text, "error-page")[0]["data-status"] == "404"


def test_json_404(client, infra):
    response = client.get("/t/infrastructure/w/999999/json")
    assert response.status_code == 404
    assert response.get_json() == {
        "error": "not_found",
        "message": "The hub 'infrastructure' has no widget 999999.",
        "errors": {},
    }


def test_widget_of_another_hub_is_404(client, session, infra):
    other = factories.hub(session, "design")
    widget = factories.widget(session, other, "stats")
    session.commit()
    assert client.get(f"/t/infrastructure/w/{widget.id}/").status_code == 404


def test_front_page_lists_hubs(client, session, infra):
    factories.hub(session, "ralph", HubType.user)
    factories.hub(session, "old-team", archived=True)
    session.commit()
    page = client.get("/").text
    teams = [card["data-hub-name"] for card in with_role(page, "hub-card")]
    assert teams == ["infrastructure", "ralph"]


def test_bootstrap_is_served_locally(client, infra):
    page = client.get("/t/infrastructure/").text
    stylesheets = [e["href"] for e in with_role(page, None) if e.get("rel") == "stylesheet"]
    assert stylesheets and all(href.startswith("/") for href in stylesheets)
    for href in stylesheets:
        with client.get(href) as response:
            assert response.status_code == 200
    script = [e["src"] for e in with_role(page, None) if e["<tag>"] == "script"]
    assert script == ["/static/client/widgets.js", "/static/client/live.js"]
    for src in script:
        with client.get(src) as response:
            assert response.status_code == 200


def test_a_recycled_widget_id_does_not_show_another_hubs_data(client, session, infra):
    """SQLite gives the id of the newest widget, once deleted, to the next one made: the
    new widget of another hub must not draw the old one's cached data."""
    infra.description = "We run the servers."
    other = factories.hub(session, "i18n", description="Every language and script.")
    session.commit()
    about = factories.widget(session, infra, "about")
    session.commit()
    recycled_id = about.id
    assert "We run the servers." in client.get(about.url_path).text  # now cached
    session.delete(session.get(Widget, recycled_id))
    session.commit()
    newcomer = factories.widget(session, session.get(Hub, other.id), "about")
    newcomer.id = recycled_id  # what SQLite does by itself; PostgreSQL never would
    session.commit()
    panel = client.get(newcomer.url_path).text
    assert "Every language and script." in panel and "We run the servers." not in panel
