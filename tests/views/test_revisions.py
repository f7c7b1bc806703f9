"""The history page, a revision against now, restoring, the export and the import
(fuzzed: never a 500, nothing changed unless the document is valid)."""

from __future__ import annotations

import io
import json

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubs import changes, revisions
from hubs.database import db
from hubs.models import Hub, HubRevision, Widget
from tests.conftest import log_in
from tests.html import role_texts, with_role
from tests.translations import french_catalog
from tests.views.conftest import LAYOUT, snapshot
from tests.views.test_fuzz_endpoints import json_values

TEAM = "/t/infrastructure/"


def first_revision(session) -> HubRevision:
    return session.scalars(sa.select(HubRevision).order_by(HubRevision.id)).first()


def export(client, path: str = TEAM) -> dict:
    response = client.get(path + "export")
    assert response.status_code == 200
    return response.get_json()


def test_owners_see_a_history_link_on_the_hub_page(client, team):
    log_in(client, "nirik")
    [link] = with_role(client.get(TEAM).text, "history")
    assert link["href"] == TEAM + "history/"
    log_in(client, "ralph")
    assert with_role(client.get(TEAM).text, "history") == []


def test_the_history_lists_revisions_newest_first_with_their_sentences(client, session, team):
    log_in(client, "nirik")
    sticky = session.scalar(sa.select(Widget).where(Widget.plugin == "sticky"))
    client.post(f"/api{TEAM}w/{sticky.id}/config", json={"config": {"text": "Hello\nWorld"}})
    client.post(f"/api{TEAM}members", json={"username": "bex", "role": "member"})
    page = client.get(TEAM + "history/").text
    sentences = [text.strip() for text in role_texts(page, "sentence")]
    assert sentences == [
        "nirik made bex member",
        "nirik changed the Sticky note widget: +1 line \N{MINUS SIGN}0",
        "nirik created the hub",
    ]
    assert role_texts(page, "history-total")[0].startswith("3 revisions")
    assert len(with_role(page, "restore")) == 3


@pytest.fixture
def french(app):
    """Pages in French for a browser asking for it (the catalog: tests/translations.py)."""
    app.config["LANGUAGES"] = ["en", "fr"]
    return {"Accept-Language": "fr"}


@pytest.fixture
def app_config(app_config, tmp_path):
    with french_catalog(tmp_path / "translations") as directory:
        yield {
            **app_config,
            "BABEL_TRANSLATION_DIRECTORIES": directory,
        }


def test_the_history_tells_each_revision_in_the_readers_language(client, session, team, french):
    log_in(client, "nirik")
    sticky = session.scalar(sa.select(Widget).where(Widget.plugin == "sticky"))
    client.post(f"/api{TEAM}w/{sticky.id}/config", json={"config": {"text": "Hello\nWorld"}})
    client.post(f"/api{TEAM}members", json={"username": "bex", "role": "member"})
    page = client.get(TEAM + "history/", headers=french).text
    sentences = [text.strip() for text in role_texts(page, "sentence")]
    assert sentences == [
        "nirik a fait de bex un membre",
        "nirik a modifié le widget Sticky note : +1 ligne \N{MINUS SIGN}0",
        # Kept before revisions kept their events (tests/views/conftest.py): as stored.
        "nirik created the hub",
    ]
    newest = session.scalars(sa.select(HubRevision).order_by(HubRevision.id.desc())).first()
    page = client.get(f"{TEAM}history/{newest.id}/", headers=french).text
    assert role_texts(page, "sentence")[0].startswith("nirik a fait de bex un membre, ")


def test_a_revision_against_now_shows_the_layout_and_config_changes(client, session, team):
    log_in(client, "nirik")
    sticky = session.scalar(sa.select(Widget).where(Widget.plugin == "sticky"))
    stats = session.scalar(sa.select(Widget).where(Widget.plugin == "stats"))
    client.post(f"/api{TEAM}w/{sticky.id}/config", json={"config": {"text": "Hello\nNew"}})
    client.post(f"/api{TEAM}w/{stats.id}/move", json={"column": "left", "position": 0})
    client.post(f"/api{TEAM}settings", json={"summary": "Lights on"})
    page = client.get(f"{TEAM}history/{first_revision(session).id}/").text
    status = {
        int(item["data-widget-id"]): item["data-status"]
        for item in with_role(page, "widget-change")
    }
    halp = session.scalar(sa.select(Widget.id).where(Widget.plugin == "halp"))
    assert status == {sticky.id: "changed", stats.id: "moved", halp: "added"}
    [config] = role_texts(page, "config-change")
    assert config.split("\n")[:3] == ["text", " Hello", "+New"]
    [summary] = role_texts(page, "setting-change")
    assert summary.split("\n")[:2] == ["summary", "+Lights on"]


def test_a_revision_of_another_hub_is_not_found(client, session, team):
    log_in(client, "jflory7")
    revision = first_revision(session).id
    assert client.get(f"/t/marketing/history/{revision}/").status_code == 404
    response = client.post(f"/api/t/marketing/history/{revision}/restore", json={})
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_restoring_by_form_redirects_to_the_history(client, session, team):
    log_in(client, "nirik")
    response = client.post(f"{TEAM}history/{first_revision(session).id}/restore")
    assert response.status_code == 302 and response.location == TEAM + "history/"
    assert session.scalar(sa.select(Widget.id).where(Widget.plugin == "halp")) is None
    again = client.post(f"/api{TEAM}history/{first_revision(session).id}/restore", json={})
    assert again.get_json()["message"] == "Nothing changed: the hub is like this revision already."


def test_export_import_export_is_identical(client, session, team):
    with client.application.test_request_context():
        halp = next(w for w in session.get(Hub, team.id).widgets if w.plugin == "halp")
        changes.update_widget_config(session, halp, changes.UNCHANGED, "nirik", "Calls for help")
    exported = export(client)
    assert exported["schema"] == revisions.SCHEMA and exported["version"] == 1
    assert [w["plugin"] for w in exported["columns"]["right"]] == ["stats", "halp"]
    assert exported["columns"]["right"][1]["title"] == "Calls for help"
    text = json.dumps(exported)
    assert "nirik" not in text and "members" not in text  # no people
    log_in(client, "jflory7")
    response = client.post("/api/t/marketing/import", json=exported)
    assert response.status_code == 200, response.get_json()
    assert export(client, "/t/marketing/") == exported
    log_in(client, "nirik")
    back = client.post(f"/api{TEAM}import", json=export(client, "/t/marketing/"))
    assert back.get_json()["message"] == "Nothing changed: the hub has this layout already."
    assert export(client) == exported


def test_an_invalid_document_is_refused_with_every_problem(client, session, team):
    log_in(client, "nirik")
    document = {
        **LAYOUT,
        "version": 2,
        "left_width": 40,
        "columns": {
            "left": [
                {"plugin": "sticky", "config": {"text": 5}},
                {"plugin": "nope", "config": {}},
                {"plugin": "badges", "config": {}},
            ],
            "middle": [],
        },
        "members": ["nirik"],
    }
    before = snapshot(session)
    response = client.post(f"/api{TEAM}import", json=document)
    assert response.status_code == 400
    errors = response.get_json()["errors"]
    assert set(errors) == {
        "version", "left_width", "columns.left[0].config.text", "columns.left[1].plugin",
        "columns.left[2].plugin", "columns.middle", "members",
    }  # fmt: skip
    assert errors["columns.left[2].plugin"] == "The Badges widget is for user hubs only."
    assert (
        response.get_json()["message"]
        == "Invalid layout document: 7 problems; nothing was changed."
    )
    form = client.post(f"{TEAM}import", data={"document": json.dumps(document)})
    assert form.status_code == 400
    listed = with_role(form.text, "problem")
    assert {item["data-where"] for item in listed} == set(errors)
    assert snapshot(session) == before


def test_import_by_file_and_not_json(client, session, team):
    log_in(client, "nirik")
    before = snapshot(session)
    for text in ("{not json", "[" * 100_000 + "]" * 100_000, '{"\\ud800": 1}'):
        bad = client.post(f"{TEAM}import", data={"document": text})
        assert bad.status_code == 400 and "not JSON" in bad.text
    assert snapshot(session) == before
    upload = (io.BytesIO(json.dumps(LAYOUT).encode()), "layout.json")
    done = client.post(f"{TEAM}import", data={"file": upload}, content_type="multipart/form-data")
    assert done.status_code == 302
    assert export(client)["columns"] == LAYOUT["columns"]


def test_restore_defaults(client, session, team):
    log_in(client, "nirik")
    response = client.post(f"/api{TEAM}history/defaults", json={})
    assert response.get_json()["message"] == "Default widgets restored."
    plugins = [w["plugin"] for w in export(client)["columns"]["left"]]
    assert plugins == ["about", "sticky", "rules", "feed", "halp"]
    again = client.post(f"/api{TEAM}history/defaults", json={})
    assert again.get_json()["message"].startswith("Nothing changed")


# -- 10,000 revisions: a page is one query ---------------------------------------------------


@pytest.fixture
def many_revisions(session, team):
    state = {"settings": {}, "widgets": []}
    rows = [
        {"hub_id": team.id, "agent": "nirik", "kind": "widget.updated",
         "sentence": f"nirik changed number {number}", "state": state}
        for number in range(10_000)
    ]  # fmt: skip
    session.execute(sa.insert(HubRevision), rows)
    session.commit()
    return 10_001  # with the team's first


def test_a_history_of_10000_revisions_is_one_query_a_page(client, session, team, many_revisions):
    log_in(client, "nirik")
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        totals = {}
        for number in (1, 2, 100, 201):
            statements.clear()
            response = client.get(f"{TEAM}history/?page={number}")
            assert response.status_code == 200
            on_revisions = [s for s in statements if "hub_revisions" in s]
            assert len(on_revisions) == 1, on_revisions
            totals[number] = len(statements)
            shown = role_texts(response.text, "sentence")
            assert len(shown) == (1 if number == 201 else 50)
            assert role_texts(response.text, "history-total")[0].startswith("10,001 revisions")
        first_page = client.get(f"{TEAM}history/").text
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    # The same queries on every page, however deep: none per revision shown.
    assert len(set(totals.values())) == 1, totals
    [next_page] = with_role(first_page, "next-page")
    assert next_page["href"] == f"{TEAM}history/?page=2"
    sentences = role_texts(first_page, "sentence")
    assert sentences[:2] == ["nirik changed number 9999", "nirik changed number 9998"]
    assert client.get(f"{TEAM}history/?page=202").status_code == 400


# -- import, fuzzed ------------------------------------------------------------------------

huge_text = st.integers(min_value=10_001, max_value=50_000).map(lambda n: "x" * n)
config_values = json_values | huge_text | st.integers(min_value=2**63, max_value=2**80)
widgets = st.fixed_dictionaries(
    {"plugin": st.sampled_from(["sticky", "stats", "library", "badges", "nope", 5, None])},
    optional={"config": st.dictionaries(
        st.sampled_from(["text", "links", "size", "junk"]), config_values, max_size=3
    ) | json_values, "title": st.sampled_from(["Team notes", "", "x" * 81, None, 5])},
)  # fmt: skip
documents = st.one_of(
    json_values,
    st.just(LAYOUT),
    st.fixed_dictionaries(
        {
            "schema": st.sampled_from([revisions.SCHEMA, "other"]),
            "version": st.sampled_from([1, 2, "1", True]),
            "left_width": st.sampled_from([6, 0, 12, "6", 2**70]),
            "columns": st.fixed_dictionaries(
                {"left": st.lists(widgets, max_size=4), "right": st.lists(widgets, max_size=3)}
            )
            | json_values,
        },
        optional={"extra": json_values},
    ),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(document=documents, way=st.sampled_from(["api", "form"]))
def test_import_of_any_document_never_500_and_changes_only_when_valid(
    client, session, team, document, way
):
    log_in(client, "nirik")
    before = snapshot(session)
    if way == "api":
        response = client.post(f"/api{TEAM}import", json=document)
    else:
        response = client.post(f"{TEAM}import", data={"document": json.dumps(document)})
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert snapshot(session) == before
        return
    # Taken: it was a valid document, and the hub now has its layout.
    checked = revisions.read_layout(document, "team", 40)
    exported = export(client)
    assert exported["left_width"] == checked.left_width
    shown = [(w["plugin"], w["config"], w.get("title"))
             for column in ("left", "right") for w in exported["columns"][column]]  # fmt: skip
    assert shown == [(plugin, config, title) for plugin, _column, config, title in checked.widgets]


def test_a_revision_that_can_no_longer_be_restored_says_why(client, session, team):
    log_in(client, "nirik")
    revision = first_revision(session)
    revision_id = revision.id
    gone = {"id": 0, "plugin": "gone", "column": "left", "position": 9, "config": {}}
    revision.state = {**revision.state, "widgets": [*revision.state["widgets"], gone]}
    session.commit()
    before = snapshot(session)
    api = client.post(f"/api{TEAM}history/{revision_id}/restore", json={})
    assert api.status_code == 400
    where = "columns.left[1].plugin"
    assert api.get_json()["errors"] == {where: "there is no widget named 'gone' any more"}
    form = client.post(f"{TEAM}history/{revision_id}/restore")
    assert form.status_code == 400
    assert f"{where}: there is no widget named &#39;gone&#39; any more" in form.text
    assert snapshot(session) == before
