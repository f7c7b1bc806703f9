"""The library and contact widgets: config-only widgets a team fills in by hand."""

import pytest

from hubs.rendering import render_panel
from hubs.widgets import registry, validators
from tests import factories
from tests.conftest import log_in
from tests.html import with_role

LINKS = [{"title": f"Guide {n}", "url": f"https://docs.fedoraproject.org/{n}"} for n in range(5)]


@pytest.fixture
def team(session):
    owner = factories.user(session, "mizmo")
    hub = factories.hub(session, "design")
    factories.role(session, hub, owner, factories.Role.owner)
    return hub


def draw(widget, data):
    return render_panel(widget, registry[widget.plugin], {"ok": True, "data": data})


def test_library_shows_per_page_then_more(app_context, session, team):
    widget = factories.widget(session, team, "library", links=LINKS, per_page=3)
    data = registry["library"].compute(session, widget)
    assert data == {"shown": LINKS[:3], "more": LINKS[3:], "total": 5}
    html = draw(widget, data)
    assert len(with_role(html, "library-links")) == 1 and "2 more" in html
    empty = registry["library"].compute(session, factories.widget(session, team, "library"))
    assert with_role(draw(widget, empty), "empty")


def test_contact_links_each_way_to_reach_the_team(app_context, session, team):
    widget = factories.widget(
        session, team, "contact", mailing_list="design-team@lists.fedoraproject.org",
        chat=["#fedora-design", "#design:fedoraproject.org"], website="https://fedoraproject.org/wiki/Design",
    )  # fmt: skip
    data = registry["contact"].compute(session, widget)
    assert [room["url"] for room in data["chat"]] == [
        "https://web.libera.chat/#fedora-design",
        "https://matrix.to/#/#design:fedoraproject.org",
    ]
    html = draw(widget, data)
    assert (
        with_role(html, "contact-list")[0]["href"] == "mailto:design-team@lists.fedoraproject.org"
    )
    assert with_role(html, "contact-website")
    empty = {"mailing_list": "", "chat": [], "website": ""}
    assert "d-none" in with_role(draw(widget, empty), "widget")[0]["class"]  # hidden when empty


@pytest.mark.parametrize(
    ("validator", "good", "bad"),
    [
        (validators.channels, "#fedora-design #design:fedoraproject.org", "fedora-design"),
        (validators.optional(validators.email), "", "not an address"),
        (validators.optional(validators.url), "https://x.org", "javascript:alert(1)"),
    ],
)
def test_contact_validators(validator, good, bad):
    validator(good)
    with pytest.raises(ValueError):
        validator(bad)


def test_contact_form_round_trip(client, session, team):
    widget = factories.widget(session, team, "contact", chat=["#fedora-design"])
    session.commit()
    log_in(client, "mizmo")
    form = client.get(f"/t/design/w/{widget.id}/edit").text
    assert 'value="#fedora-design"' in form
    client.post(
        f"/t/design/w/{widget.id}/config",
        data={"mailing_list": "", "chat": "#fedora-design #fedora-websites", "website": ""},
    )
    session.expire_all()
    assert session.get(type(widget), widget.id).config["chat"] == [
        "#fedora-design",
        "#fedora-websites",
    ]
    refused = client.post(f"/t/design/w/{widget.id}/config", data={"chat": "no-hash"})
    assert refused.status_code == 400 and "is not a chat room" in refused.text


def test_they_change_only_with_their_own_config(app_context, session, team, corpus):
    for plugin in ("library", "contact"):
        widget = factories.widget(session, team, plugin)
        other = factories.widget(session, team, plugin)
        check = registry[plugin].should_invalidate
        updated = factories.hubs_message("hubs.widget.updated", widget_id=widget.id, hub_id=team.id)
        assert check(updated, session, widget) is True
        assert check(updated, session, other) is False
        assert not any(check(entry["msg"], session, widget) for entry in corpus)
