"""oidc-provider-mock on loopback, a real OpenID Connect provider, and the login flow
through it as a browser follows it: the tests of the login and the chaos run use it."""

from __future__ import annotations

import threading
from urllib.parse import urljoin, urlsplit

import oidc_provider_mock
import requests
from werkzeug.serving import make_server


class Provider:
    """The provider, served by a thread on a free port of 127.0.0.1."""

    def __init__(self) -> None:
        self._server = make_server("127.0.0.1", 0, oidc_provider_mock.app(), threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def add_user(self, sub: str, **claims: str) -> None:
        """The claims the provider gives for ``sub`` (preferred_username, name, email)."""
        requests.put(f"{self.url}/users/{sub}", json=claims, timeout=10).raise_for_status()

    def close(self) -> None:
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()


def log_in(web_url: str, provider: str, sub: str, next_path: str) -> requests.Session:
    """A browser's session after logging in as ``sub`` from ``next_path`` (the app's
    /login, flask-oidc, the provider's form, the callback): it lands on ``next_path``."""
    http = requests.Session()
    response = http.get(f"{web_url}/login?next={next_path}", allow_redirects=False, timeout=30)
    while response.is_redirect and not response.headers["Location"].startswith(provider):
        location = urljoin(response.url, response.headers["Location"])
        response = http.get(location, allow_redirects=False, timeout=30)
    authorize = response.headers["Location"]
    answer = http.post(authorize, data={"sub": sub}, allow_redirects=False, timeout=30)
    landed = http.get(answer.headers["Location"], timeout=60)  # the callback, then the hub
    landed.raise_for_status()
    assert urlsplit(landed.url).path == next_path, landed.url
    return http


def log_in_through_provider(client, provider, sub: str, next_path: str) -> str:
    """Follow the flow as a browser would; returns where the app sends us at the end."""
    response = client.get(f"/login?next={next_path}")
    assert response.status_code == 302
    response = client.get(response.location)  # flask-oidc's /oidc/login
    authorize = response.location
    assert authorize.startswith(f"{provider}/oauth2/authorize?")
    assert "scope=openid+email+profile" in authorize
    form = requests.get(authorize, timeout=10)
    assert 'name="sub"' in form.text
    answer = requests.post(authorize, data={"sub": sub}, allow_redirects=False, timeout=10)
    callback = urlsplit(answer.headers["Location"])
    assert callback.path == "/oidc/authorize" and "code=" in callback.query
    response = client.get(f"{callback.path}?{callback.query}")  # exchanges the code
    assert response.status_code == 302
    return response.location
