"""Logging in and out (the OIDC dance itself is flask-oidc's, under /oidc/)."""

from urllib.parse import urlsplit

from flask import Blueprint, redirect, request, session, url_for

bp = Blueprint("auth", __name__)


def local_path(target: str | None) -> str:
    """``target`` if it is a path on this site, else the front page."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@bp.route("/login")
def login():
    return redirect(url_for("oidc_auth.login", next=local_path(request.args.get("next"))))


@bp.route("/logout", methods=["POST"])
def logout():
    session.clear()
    return redirect(local_path(request.form.get("next")))
