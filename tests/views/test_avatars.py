import hashlib

import pytest

from hubs.avatars import hub_avatar, initials_svg, user_avatar
from hubs.models import Hub, HubType
from tests.html import elements


def test_local_avatar_is_an_svg_of_initials(client):
    with client.get("/avatar/ralph.svg") as response:
        assert response.status_code == 200
        assert response.mimetype == "image/svg+xml"
        assert response.cache_control.max_age == 86400
        text = [e for e in elements(response.text) if e["<tag>"] == "text"]
        assert text and ">RA</text>" in response.text


@pytest.mark.parametrize(
    ("name", "letters"), [("mizmo", "MI"), ("fedora-websites", "FW"), ("i18n", "I1"), ("_", "?")]
)
def test_initials(name, letters):
    assert f">{letters}</text>" in initials_svg(name)


def test_initials_escape_nothing_dangerous():
    assert "<script" not in initials_svg("<script>")


def test_libravatar_urls_use_the_fedora_account_address(app):
    app.config["AVATARS"] = "libravatar"
    digest = hashlib.sha256(b"ralph@fedoraproject.org").hexdigest()
    with app.test_request_context():
        assert user_avatar("ralph", 32) == (
            f"https://seccdn.libravatar.org/avatar/{digest}?s=32&d=retro"
        )
        own = Hub(name="design", type=HubType.team, avatar="https://example.org/design.png")
        assert hub_avatar(own) == "https://example.org/design.png"


def test_local_avatar_names_are_url_quoted(app):
    with app.test_request_context():
        assert user_avatar("a b/c") == "/avatar/a%20b%2Fc.svg"
