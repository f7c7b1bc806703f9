"""Login with OpenID Connect: flask-oidc against the configured provider.

flask-oidc serves /oidc/login, /oidc/authorize (the callback) and /oidc/logout. After
the callback, the user's row is found or created (with their hub) and their username
goes in the session, where every view (and hubs-sse) reads it.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, g, session
from flask_oidc import OpenIDConnect
from flask_oidc.signals import after_authorize

from hubs.accounts import is_account_name
from hubs.database import db, writing_now
from hubs.models import User
from hubs.sse.session_cookie import SESSION_GENERATION, SESSION_USERNAME

oidc = OpenIDConnect()


def init_app(app) -> None:
    app.config["OIDC_CLIENT_SECRETS"] = {
        "web": {
            "client_id": app.config["OIDC_CLIENT_ID"],
            "client_secret": app.config["OIDC_CLIENT_SECRET"],
            "issuer": app.config["OIDC_ISSUER"],
        }
    }
    app.config.setdefault("OIDC_SCOPES", "openid email profile")
    oidc.init_app(app, prefix="/oidc")
    app.before_request(_load_user)


# Built once: every request of a logged-in reader runs it.
_USER_NAMED = sa.select(User).where(User.username == sa.bindparam("username"))


def _load_user() -> None:
    username = session.get(SESSION_USERNAME)
    user = db.session.scalar(_USER_NAMED, {"username": username}) if username else None
    if username and (user is None or session.get(SESSION_GENERATION) != user.session_generation):
        session.clear()  # logged out since this cookie was signed (or never was a user)
        user = None
    g.user = user


def end_sessions(user: User | None) -> None:
    """Log out: this session, and every other cookie of ``user`` signed before."""
    if user is not None:
        user.session_generation += 1
        db.session.commit()
    session.clear()


def current_user() -> User | None:
    return g.get("user")


def _on_login(sender, token=None, return_to=None, **extra) -> None:
    """After the provider's callback: find or create the user, remember them."""
    from hubs import changes

    profile = session.get("oidc_auth_profile") or {}
    username = profile.get("preferred_username") or profile.get("nickname") or profile.get("sub")
    if not is_account_name(username):
        abort(403, "The identity provider gave no usable account name.")
    named = sa.select(User).where(User.username == username)
    user = db.session.scalar(named)
    if user is None:
        # The provider's callback is a GET, begun as a reader: sign up as a writer.
        with writing_now(db.session):
            user = db.session.scalar(named)  # again: another tab may have signed them up
            if user is None:
                fullname = str(profile.get("name") or username)
                user = changes.sign_up(db.session, username, fullname, profile.get("email"))
    # The provider's tokens are not needed after login: keep them out of the cookie.
    for key in ("oidc_auth_token", "oidc_auth_profile"):
        session.pop(key, None)
    session[SESSION_USERNAME] = user.username
    session[SESSION_GENERATION] = user.session_generation
    g.user = user


after_authorize.connect(_on_login, weak=False)
