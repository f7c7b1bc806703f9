"""With CSRF protection on (as in production), a POST without a valid token is refused
by every state-changing endpoint, and changes nothing."""

import re

import pytest

from tests.conftest import log_in
from tests.views.conftest import ENDPOINTS, snapshot


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}


def page_token(client) -> str:
    page = client.get("/t/infrastructure/").text
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
@pytest.mark.parametrize("token", ["missing", "forged"])
def test_post_without_a_valid_token_is_refused(client, session, team, endpoint, token):
    log_in(client, "nirik" if endpoint.name not in ("join",) else "lmacken")
    headers = {} if token == "missing" else {"X-CSRFToken": "forged-token"}
    before = snapshot(session)
    response = client.post(endpoint.api_url(session), json=endpoint.payload, headers=headers)
    assert response.status_code == 400
    document = response.get_json()
    assert document["error"] == "bad_request" and document["errors"] == {}
    assert "CSRF" in document["message"]
    form = {**endpoint.form} if token == "missing" else {**endpoint.form, "csrf_token": "forged"}
    page = client.post(endpoint.url(session), data=form)
    assert page.status_code == 400 and "CSRF" in page.text
    assert snapshot(session) == before


def test_logout_needs_a_token_too(client, team):
    log_in(client, "nirik")
    assert client.post("/logout").status_code == 400
    with client.session_transaction() as session:
        assert session["username"] == "nirik"


def test_the_page_token_is_accepted(client, session, team):
    log_in(client, "nirik")
    token = page_token(client)
    response = client.post(
        "/api/t/infrastructure/settings", json={"summary": "With a token"},
        headers={"X-CSRFToken": token},
    )  # fmt: skip
    assert response.status_code == 200
    form = client.post("/t/infrastructure/star", data={"csrf_token": token}, follow_redirects=False)
    assert form.status_code == 302


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},  # a sandboxed frame, a data: page
        {"Referer": "https://evil.example/phish"},
        {"Origin": "http://localhost:5000.evil.example"},
    ],
    ids=["origin", "null origin", "referer", "look-alike"],
)
def test_a_state_change_from_another_site_is_refused_even_with_its_token(
    client, session, team, headers
):
    log_in(client, "nirik")
    token = page_token(client)
    before = snapshot(session)
    response = client.post(
        "/api/t/infrastructure/settings", json={"summary": "Cross-site"},
        headers={"X-CSRFToken": token, **headers},
    )  # fmt: skip
    assert response.status_code == 400
    assert "Cross-site request refused" in response.get_json()["message"]
    assert snapshot(session) == before


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "http://localhost"}, {"Referer": "http://localhost/t/infrastructure/"}, {}],
    ids=["own origin", "own referer", "neither"],
)
def test_a_state_change_from_this_site_or_a_script_goes_through(client, session, team, headers):
    log_in(client, "nirik")
    token = page_token(client)
    response = client.post(
        "/api/t/infrastructure/settings", json={"summary": "Same site"},
        headers={"X-CSRFToken": token, **headers},
    )  # fmt: skip
    assert response.status_code == 200
