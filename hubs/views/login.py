"""Logging in and out (the OIDC dance itself is flask-oidc's, under /oidc/)."""

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, url_for

from hubs.identity import current_user, end_sessions

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
    end_sessions(current_user())
    return redirect(local_path(request.form.get("next")))


@bp.route("/logout")
def confirm_logout():
    """Logging out is a change (it ends every session of the user): a POST, from this
    page's button, like the one in the menu."""
    return render_template("logout.html", next=local_path(request.args.get("next")))


@bp.before_app_request
def _no_logout_by_get():
    # flask-oidc's GET /oidc/logout would drop its tokens and leave Hubs' session be.
    if request.endpoint == "oidc_auth.logout":
        return redirect(url_for("auth.confirm_logout", next=request.args.get("next")))
    return None
