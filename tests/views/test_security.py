from hubs.app import create_app
from tests.conftest import log_in


def test_security_headers(client, team):
    response = client.get("/t/infrastructure/")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy
    assert "connect-src 'self' http://localhost:8080" in policy  # the sse process
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_pages_have_no_inline_scripts_or_styles(client, team):
    log_in(client, "nirik")
    edit = "/t/infrastructure/edit/"
    pages = ["/", "/t/infrastructure/", f"{edit}settings", f"{edit}members",
             f"{edit}widgets/new?plugin=rules"]  # fmt: skip
    for path in pages:
        page = client.get(path).text
        assert "<script>" not in page and "<script >" not in page, path
        assert " style=" not in page and "<style" not in page, path
        assert " onclick=" not in page.lower(), path


def test_session_cookie_flags(client, team, app_config):
    log_in(client, "nirik")
    response = client.post("/t/infrastructure/star", data={})
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    production = create_app({**app_config, "SESSION_COOKIE_SECURE": True})
    assert production.config["SESSION_COOKIE_SECURE"] is True


def test_state_never_changes_on_get(client, session, team):
    from tests.views.conftest import ENDPOINTS, snapshot

    log_in(client, "nirik")
    before = snapshot(session)
    for endpoint in ENDPOINTS:
        assert client.get(endpoint.url(session)).status_code in (404, 405)
    assert snapshot(session) == before


def test_what_a_logged_in_user_sees_is_never_stored_by_caches(client, team):
    anonymous = client.get("/t/infrastructure/")
    assert "no-store" not in anonymous.headers.get("Cache-Control", "")
    log_in(client, "nirik")
    edit = "/t/infrastructure/edit/"
    for path in ("/t/infrastructure/", f"{edit}settings", f"{edit}members", "/u/nirik/stream",
                 "/u/nirik/saved", "/t/infrastructure/json"):  # fmt: skip
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "private, no-store", path
    asset = client.get("/static/client/widgets.js")
    assert "no-store" not in asset.headers.get("Cache-Control", "")
    asset.close()
