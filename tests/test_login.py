"""Login through the real OpenID Connect flow, against oidc-provider-mock on loopback:
authorize, the provider's form, the callback and its token exchange."""

from urllib.parse import urlsplit

import pytest
import requests
import sqlalchemy as sa

from hubs.default_widgets import USER_WIDGETS
from hubs.models import Hub, HubType, Membership, Role, User
from tests import factories
from tests.conftest import log_in
from tests.html import with_role
from tests.oidc import log_in_through_provider


@pytest.fixture
def app_config(app_config, provider):
    return {**app_config, "OIDC_ISSUER": provider}


def test_first_login_creates_the_user_and_their_hub_then_logout(
    client, session, provider, published
):
    requests.put(
        f"{provider}/users/ralph-sub",
        json={"preferred_username": "ralph", "name": "Ralph Bean",
              "email": "ralph@fedoraproject.org"},
        timeout=10,
    ).raise_for_status()  # fmt: skip
    landed = log_in_through_provider(client, provider, "ralph-sub", "/u/ralph/")
    assert landed == "/u/ralph/"

    user = session.scalar(sa.select(User).where(User.username == "ralph"))
    assert (user.fullname, user.email) == ("Ralph Bean", "ralph@fedoraproject.org")
    hub = session.scalar(sa.select(Hub).where(Hub.name == "ralph", Hub.type == HubType.user))
    layout = sorted(hub.widgets, key=lambda w: (w.column.value, w.position))
    assert [(w.plugin, w.column) for w in layout] == sorted(
        ((plugin, column) for plugin, column, _config in USER_WIDGETS),
        key=lambda pair: pair[1].value,
    )  # the default user widgets, in their order
    assert (
        session.scalar(sa.select(Membership.role).where(Membership.hub_id == hub.id)) is Role.owner
    )
    assert [topic for topic, _ in published][:2] == ["user.created", "hub.created"]

    # The cookie names the user and their session generation: no tokens of the provider.
    with client.session_transaction() as cookie:
        assert set(cookie) <= {"username", "generation", "_flashes", "csrf_token"}, set(cookie)
        assert (cookie["username"], cookie["generation"]) == ("ralph", 0)

    page = client.get(landed)
    assert page.status_code == 200
    assert with_role(page.text, "me")[0]["href"] == "/u/ralph/"
    assert with_role(page.text, "widget-controls")  # it is their hub

    # A second login finds the same user and creates nothing.
    count = session.scalar(sa.select(sa.func.count()).select_from(User))
    log_in_through_provider(client, provider, "ralph-sub", "/")
    assert session.scalar(sa.select(sa.func.count()).select_from(User)) == count

    response = client.post("/logout", data={"next": "/u/ralph/"})
    assert response.location == "/u/ralph/"
    page = client.get("/u/ralph/").text
    assert with_role(page, "login") and not with_role(page, "me")


def test_login_only_redirects_within_the_site(client, provider):
    response = client.get("/login?next=https://evil.example/steal")
    assert "next=/" in response.location and "evil" not in response.location
    response = client.get("/login?next=//evil.example/x")
    assert "evil" not in response.location


HOSTILE_NEXT = [
    "//evil.example/phish",
    "https://evil.example/",
    "/\\evil.example/",
    "\\\\evil.example",
    "javascript:alert(1)",
    "/ok\r\nSet-Cookie: x=1",
]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_flask_oidcs_own_routes_only_redirect_within_the_site(client, session, provider, target):
    factories.user(session, "ralph")
    session.commit()
    log_in(client, "ralph")
    for route in ("/oidc/logout", "/oidc/login"):
        response = client.get(route, query_string={"next": target})
        assert response.status_code == 302
        assert response.location.startswith("/") and not response.location.startswith("//")
        assert "evil" not in response.location and "\n" not in response.location
    # Followed to the end, it asks to log out with a POST that then goes home.
    final = client.get("/oidc/logout", query_string={"next": target}, follow_redirects=True)
    assert final.request.path == "/logout" and final.status_code == 200
    assert with_role(final.text, "logout-button")
    assert 'name="next" value="/"' in final.text


def test_local_paths_pass_unchanged_through_oidcs_routes(client, provider):
    log_in(client, "ralph")
    response = client.get("/oidc/logout", query_string={"next": "/t/infrastructure/"})
    assert response.location == "/logout?next=/t/infrastructure/"


def test_a_refused_login_logs_nobody_in(client, provider):
    response = client.get("/login?next=/")
    authorize = client.get(response.location).location
    answer = requests.post(authorize, data={"action": "deny"}, allow_redirects=False, timeout=10)
    callback = urlsplit(answer.headers["Location"])
    assert "error=access_denied" in callback.query
    assert client.get(f"{callback.path}?{callback.query}").status_code == 401
    with client.session_transaction() as session:
        assert "username" not in session
