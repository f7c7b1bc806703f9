"""The language of Hubs' pages: the user's choice (kept on their account), then the
browser's Accept-Language, then English."""

from __future__ import annotations

import pytest
import requests
import sqlalchemy as sa

from hubs.models import User
from tests.conftest import log_in
from tests.html import elements, role_texts, with_role
from tests.oidc import log_in_through_provider


@pytest.fixture
def app_config(app_config, provider):
    return {**app_config, "OIDC_ISSUER": provider}


def page_language(response) -> str:
    assert response.status_code == 200, response.text
    return next(e for e in elements(response.text) if e["<tag>"] == "html")["lang"]


ENGLISH_BROWSER = {"Accept-Language": "en-US,en;q=0.9"}


@pytest.mark.parametrize(
    "header, expected",
    [
        ("fr", "fr"),
        ("fr-CA,fr;q=0.9", "fr"),
        ("de-DE,de;q=0.9,fr;q=0.5,en;q=0.3", "fr"),  # no German: French before English
        ("de, en;q=0.5", "en"),
        ("de", "en"),  # nothing Hubs has: English
        ("", "en"),
        ("*", "en"),
    ],
)
def test_a_visitors_page_is_in_the_browsers_language(client, session, team, header, expected):
    response = client.get("/t/infrastructure/", headers={"Accept-Language": header})
    assert page_language(response) == expected
    assert "Accept-Language" in response.vary


def test_the_kept_visitors_page_is_kept_per_language(client, session, team):
    french = client.get("/t/infrastructure/", headers={"Accept-Language": "fr"})
    english = client.get("/t/infrastructure/", headers=ENGLISH_BROWSER)
    again = client.get("/t/infrastructure/", headers={"Accept-Language": "fr"})
    assert (page_language(french), page_language(english), page_language(again)) == (
        "fr", "en", "fr",
    )  # fmt: skip


def test_the_choice_overrides_the_browser_and_survives_logging_out_and_in(
    client, session, provider
):
    requests.put(
        f"{provider}/users/ralph-sub", json={"preferred_username": "ralph"}, timeout=10
    ).raise_for_status()
    log_in_through_provider(client, provider, "ralph-sub", "/u/ralph/")
    assert page_language(client.get("/u/ralph/account", headers=ENGLISH_BROWSER)) == "en"

    saved = client.post("/u/ralph/account/language", data={"locale": "fr"}, headers=ENGLISH_BROWSER)
    assert saved.status_code == 302 and saved.location == "/u/ralph/account"
    page = client.get("/u/ralph/account", headers=ENGLISH_BROWSER)
    assert page_language(page) == "fr"
    assert "Langue enregistrée." in [f.strip() for f in role_texts(page.text, "flash")]
    assert with_role(page.text, "language")  # the form, now in French
    assert "Accept-Language" not in page.vary  # the account decides, not the browser

    client.post("/logout", data={"next": "/"})
    assert page_language(client.get("/u/ralph/", headers=ENGLISH_BROWSER)) == "en"
    log_in_through_provider(client, provider, "ralph-sub", "/")
    assert page_language(client.get("/", headers=ENGLISH_BROWSER)) == "fr"

    # Choosing "your browser's language" again follows the browser.
    client.post("/u/ralph/account/language", data={"locale": ""})
    assert page_language(client.get("/", headers=ENGLISH_BROWSER)) == "en"
    assert page_language(client.get("/", headers={"Accept-Language": "fr"})) == "fr"
    assert session.scalar(sa.select(User.locale).where(User.username == "ralph")) is None


@pytest.mark.parametrize("value", ["zz", "fr; DROP TABLE users", "../fr", "FR ", 3, ["fr"], None])
def test_a_language_hubs_does_not_have_is_refused_and_changes_nothing(client, session, team, value):
    log_in(client, "ralph")
    before = session.scalar(sa.select(User.locale).where(User.username == "ralph"))
    response = client.post("/api/u/ralph/account/language", json={"locale": value})
    if value is None:  # no language: the browser's
        assert response.status_code == 200 and response.get_json()["locale"] is None
        return
    assert response.status_code == 400
    assert "choose one of: en, fr" in response.get_json()["message"]
    if isinstance(value, str):
        form = client.post("/u/ralph/account/language", data={"locale": value})
        assert form.status_code == 400 and "choose one of: en, fr" in form.text
    session.expire_all()
    assert session.scalar(sa.select(User.locale).where(User.username == "ralph")) == before


@pytest.mark.parametrize("body", [{"language": "fr"}, {}, {"locale": "fr", "theme": "dark"}])
def test_a_misspelt_or_missing_language_field_is_refused_and_changes_nothing(
    client, session, team, body
):
    """A body without "locale" is not a choice of the browser's language (which clears
    the saved one): it is refused, naming the field."""
    log_in(client, "ralph")
    assert client.post("/api/u/ralph/account/language", json={"locale": "fr"}).status_code == 200
    response = client.post("/api/u/ralph/account/language", json=body)
    assert response.status_code == 400
    document = response.get_json()
    assert "locale" in document["message"]
    assert set(document["errors"]) == ({"locale"} - set(body)) | (set(body) - {"locale"})
    form = client.post("/u/ralph/account/language", data={"language": "fr"})
    assert form.status_code == 400 and "locale" in form.text
    session.expire_all()
    assert session.scalar(sa.select(User.locale).where(User.username == "ralph")) == "fr"


def test_only_the_user_reads_their_account_page(client, session, team):
    assert client.get("/u/ralph/account").status_code == 302  # to log in
    log_in(client, "nirik")
    assert client.get("/u/ralph/account").status_code == 403
    log_in(client, "ralph")
    page = client.get("/u/ralph/account")
    assert [o["value"] for o in elements(page.text) if o["<tag>"] == "option"] == ["", "en", "fr"]
