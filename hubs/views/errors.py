"""Error pages: HTML for people, JSON for the /json endpoints."""

from flask import jsonify, render_template, request
from werkzeug.exceptions import HTTPException


def _wants_json() -> bool:
    return request.path.endswith("/json") or request.accept_mimetypes.best == "application/json"


def handle_http_error(error: HTTPException):
    if _wants_json():
        return jsonify(error=error.name, message=error.description), error.code
    return render_template("error.html", error=error), error.code


def init_app(app) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
