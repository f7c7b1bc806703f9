"""Who is asking: the logged-in user from the web app's signed session cookie."""

from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature

# The key under which the web app keeps the logged-in user's name in its session.
SESSION_USERNAME = "username"


class SessionReader:
    """Reads Flask session cookies signed with the web app's SECRET_KEY."""

    def __init__(self, config: dict) -> None:
        app = Flask("hubs-sse")
        app.config.update(
            SECRET_KEY=config["SECRET_KEY"],
            PERMANENT_SESSION_LIFETIME=config.get("PERMANENT_SESSION_LIFETIME", 31 * 86400),
        )
        self.cookie_name = config.get("SESSION_COOKIE_NAME", "session")
        self._serializer = SecureCookieSessionInterface().get_signing_serializer(app)
        self._max_age = int(app.permanent_session_lifetime.total_seconds())

    def username(self, cookies: dict[str, str]) -> str | None:
        cookie = cookies.get(self.cookie_name)
        if not cookie or self._serializer is None:
            return None
        try:
            session = self._serializer.loads(cookie, max_age=self._max_age)
        except BadSignature:
            return None
        username = session.get(SESSION_USERNAME) if isinstance(session, dict) else None
        return username if isinstance(username, str) else None
