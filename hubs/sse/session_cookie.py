"""Who is asking: the logged-in user from the web app's signed session cookie."""

from __future__ import annotations

import logging
from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature

log = logging.getLogger(__name__)

# The keys under which the web app keeps the logged-in user's name in its session, and
# the session generation it was signed in (logging out raises the user's).
SESSION_USERNAME = "username"
SESSION_GENERATION = "generation"

GenerationOf = Callable[[str], "int | None"]


class SessionsUnknown(RuntimeError):
    """The database cannot say now whether a session still holds (it is away)."""


def generations_in(database_url: str) -> GenerationOf:
    """The current session generation of a user, read from the database (None: no such
    user); SessionsUnknown when the database cannot say."""
    from hubs.database import create_engine

    engine = create_engine(database_url, pool_pre_ping=True)
    query = sa.text("SELECT session_generation FROM users WHERE username = :username")

    def generation_of(username: str) -> int | None:
        try:
            with engine.connect() as connection:
                return connection.scalar(query, {"username": username})
        except sa.exc.SQLAlchemyError as error:
            log.warning("Cannot read %s's session generation: %s", username, error)
            raise SessionsUnknown(str(error)) from None

    return generation_of


class SessionReader:
    """Reads Flask session cookies signed with the web app's SECRET_KEY."""

    def __init__(self, config: dict, generation_of: GenerationOf | None = None) -> None:
        self.generation_of = generation_of or generations_in(config["DATABASE_URL"])
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
        if not isinstance(session, dict):
            return None
        username, generation = session.get(SESSION_USERNAME), session.get(SESSION_GENERATION)
        if not isinstance(username, str) or not isinstance(generation, int):
            return None
        # Blocking, but one indexed row on connect; a logged-out cookie opens nothing.
        # SessionsUnknown goes up: the caller answers "try again", not "refused".
        return username if self.generation_of(username) == generation else None
