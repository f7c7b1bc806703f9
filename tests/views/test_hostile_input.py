"""Input an attacker (or a broken client) sends: each gets a clear 4xx and changes
nothing; none reaches the database or a template as a 500."""

from __future__ import annotations

import json

import pytest

from tests import factories
from tests.conftest import log_in
from tests.views.conftest import snapshot, sticky_id

WIDGET_ROUTES = ["", "json", "edit", "more", "halp"]
POST_WIDGET_ROUTES = ["config", "move", "delete", "halp/resolve"]
HUGE_IDS = [2**31, 2**63 - 1, 2**63, 10**23]


@pytest.mark.parametrize("widget_id", HUGE_IDS)
def test_widget_ids_beyond_any_row_are_404(client, session, team, widget_id):
    log_in(client, "nirik")
    before = snapshot(session)
    for route in WIDGET_ROUTES:
        response = client.get(f"/t/infrastructure/w/{widget_id}/{route}")
        assert response.status_code == 404, (route, response.status_code)
    for route in POST_WIDGET_ROUTES:
        response = client.post(f"/api/t/infrastructure/w/{widget_id}/{route}", json={})
        assert response.status_code == 404, (route, response.status_code)
        response = client.post(f"/t/infrastructure/w/{widget_id}/{route}", data={})
        assert response.status_code == 404, (route, response.status_code)
    assert snapshot(session) == before


def test_paging_cursors_out_of_range_are_400(client, session, team):
    log_in(client, "ralph")
    feed = factories.widget(session, team, "feed").id
    session.commit()
    before = "2026-11-01T00:00:00+00:00"
    queries = [f"before={before}&id={10**23}", f"before={before}&id=-1",
               "before=yesterday&id=1", f"before={before}", "before=2026-11-01&id=1"]  # fmt: skip
    for query in queries:
        more = client.get(f"/t/infrastructure/w/{feed}/more?{query}")
        older = client.get(f"/u/ralph/stream/older?{query}")
        assert more.status_code == 400, (query, more.status_code)
        assert older.status_code == 400, (query, older.status_code)
        assert "as the More link gives" in more.text and "as the Older link gives" in older.text


@pytest.mark.parametrize("position", [1e999, -1, 10**9, "1e999", 2.5, True, None])
def test_a_move_to_no_position_is_refused(client, session, team, position):
    log_in(client, "nirik")
    before = snapshot(session)
    # json.dumps writes 1e999 as Infinity; a client may as well send the number.
    number = json.dumps(position).replace("Infinity", "1e999")
    response = client.post(
        f"/api/t/infrastructure/w/{sticky_id(session)}/move",
        data='{"column": "right", "position": ' + number + "}",
        content_type="application/json",
    )
    assert response.status_code == 400
    document = response.get_json()
    assert document["error"] == "bad_request" and "position" in document["errors"]
    assert snapshot(session) == before


LONE_SURROGATES = [
    ("settings", {"summary": "x\ud800y"}),
    ("members", {"username": "x\udfffy", "role": "member"}),
    ("w/{sticky}/config", {"config": {"text": "x\udfffy"}}),
]


@pytest.mark.parametrize(("path", "payload"), LONE_SURROGATES, ids=lambda v: str(v)[:20])
def test_half_characters_in_json_are_refused(client, session, team, path, payload):
    log_in(client, "nirik")
    before = snapshot(session)
    url = "/api/t/infrastructure/" + path.format(sticky=sticky_id(session))
    # json.dumps writes a lone surrogate as the escape \ud800, as a hostile client would.
    response = client.post(url, data=json.dumps(payload), content_type="application/json")
    assert response.status_code == 400, response.text
    assert "JSON object" in response.get_json()["message"]
    assert snapshot(session) == before
    assert client.get("/t/infrastructure/").status_code == 200


@pytest.mark.parametrize("path", ["saved", "stream/unread", "stream/read"])
def test_a_stream_msg_id_with_half_a_character_is_refused(client, session, team, path):
    log_in(client, "ralph")
    before = snapshot(session)
    response = client.post(
        f"/api/u/ralph/{path}",
        data=json.dumps({"msg_id": "x\ud800y"}),
        content_type="application/json",
    )
    assert 400 <= response.status_code < 500
    assert snapshot(session) == before


def test_json_nested_beyond_the_stack_is_refused(client, session, team):
    log_in(client, "nirik")
    before = snapshot(session)
    deep = "[" * 100_000 + "]" * 100_000
    for path in ("settings", f"w/{sticky_id(session)}/config", "members"):
        response = client.post(
            f"/api/t/infrastructure/{path}", data=deep, content_type="application/json"
        )
        assert response.status_code == 400, (path, response.status_code)
    assert snapshot(session) == before


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"summary": "nul\x00byte"}, "summary"),
        ({"description": "x\x00"}, "description"),
        ({"avatar": "https://example.org/" + "a" * 600}, "avatar"),
        ({"avatar": "https://example.org/\x00.png"}, "avatar"),
    ],
)
def test_values_no_column_can_hold_are_refused(client, session, team, fields, field):
    log_in(client, "nirik")
    before = snapshot(session)
    response = client.post("/api/t/infrastructure/settings", json=fields)
    assert response.status_code == 400
    assert field in response.get_json()["errors"]
    form = client.post("/t/infrastructure/settings", data=fields)
    assert form.status_code == 400
    assert snapshot(session) == before
    assert "\x00" not in client.get("/hubs/").text


def test_a_sticky_note_with_half_a_character_is_refused_in_a_form_too(client, session, team):
    log_in(client, "nirik")
    before = snapshot(session)
    # A form can only carry UTF-8: the half character arrives as the replacement mark.
    response = client.post(
        f"/t/infrastructure/w/{sticky_id(session)}/config",
        data="text=x%ED%A0%80y",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code in (200, 302)
    assert snapshot(session) != before
    assert client.get("/t/infrastructure/").status_code == 200


def test_a_next_with_a_line_break_goes_home(client, session, team):
    log_in(client, "ralph")
    response = client.post("/t/infrastructure/star", data={"next": "/t/x/\r\nSet-Cookie: a=b"})
    assert response.status_code == 302 and response.location == "/"


def test_a_body_over_the_limit_is_413_before_it_is_read(app, client, session, team):
    app.config["WTF_CSRF_ENABLED"] = True  # as in production: the CSRF check reads the form
    before = snapshot(session)
    for who in (None, "nirik"):
        log_in(client, who)
        response = client.post(
            "/t/infrastructure/settings", data=b"summary=" + b"x" * (2 * 1024 * 1024),
            content_type="application/x-www-form-urlencoded",
        )  # fmt: skip
        assert response.status_code == 413
        assert "this site reads at most 1024 KiB a request" in response.text
        as_json = client.post(
            "/t/infrastructure/settings", json={"summary": "x" * (2 * 1024 * 1024)}
        )
        assert as_json.status_code == 413
        assert as_json.get_json()["error"] == "request_entity_too_large"
    assert snapshot(session) == before
