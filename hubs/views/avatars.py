"""Avatars drawn locally, for machines that cannot reach libravatar."""

from flask import Blueprint, Response

from hubs.avatars import initials_svg

bp = Blueprint("avatars", __name__)


@bp.route("/avatar/<name>.svg")
def avatar(name: str):
    response = Response(initials_svg(name), mimetype="image/svg+xml")
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response
