"""Logging in and out (the OIDC dance itself is flask-oidc's, under /oidc/)."""

from urllib.parse import urlsplit

from flask import Blueprint, redirect, request, session, url_for

bp = Blueprint("auth", __name__)


def local_path(target: str | None) -> str:
    """``target`` if it is a path on this site, else the front page. Browsers read a
    backslash as a slash ("/\\evil.example" is another host) and a CR or LF would
    split the Location header: neither is a path of ours."""
    if not target or not isinstance(target, str):
        return "/"
    if "\\" in target or any(ord(char) < 32 or ord(char) == 127 for char in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@bp.before_app_request
def _only_local_next():
    """flask-oidc's own routes (/oidc/login, /oidc/logout) redirect to their ``next``
    as given: send them through the same check as ours first."""
    if request.blueprint != "oidc_auth" or "next" not in request.args:
        return None
    target = request.args.get("next")
    if local_path(target) == target:
        return None
    args = request.args.to_dict()
    args["next"] = local_path(target)
    return redirect(url_for(request.endpoint, **args))


@bp.route("/login")
def login():
    return redirect(url_for("oidc_auth.login", next=local_path(request.args.get("next"))))


@bp.route("/logout", methods=["POST"])
def logout():
    session.clear()
    return redirect(local_path(request.form.get("next")))
