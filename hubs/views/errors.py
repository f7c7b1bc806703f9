"""Error pages: HTML for people, JSON for the /json endpoints, the API and JSON requests."""

import logging

from flask import current_app, jsonify, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge, ServiceUnavailable

from hubs.database import db
from hubs.errors import error_document

log = logging.getLogger(__name__)

# A database that is there but not answering now (restarting, refusing connections).
UNAVAILABLE_DB_ERRORS = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError)


def _wants_json() -> bool:
    return (
        request.path.endswith("/json")
        or request.path.startswith("/api/")
        or request.is_json
        or request.accept_mimetypes.best == "application/json"
    )


def handle_http_error(error: HTTPException):
    if _wants_json():
        return jsonify(error_document(error.code, error.description)), error.code
    # A page that needs a login sends there; a failed login itself shows its error.
    if error.code == 401 and request.method == "GET" and request.blueprint != "oidc_auth":
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return render_template("error.html", error=error), error.code


def handle_too_large(error: RequestEntityTooLarge):
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    error.description = (
        f"The request is too large: this site reads at most {limit // 1024} KiB a request, "
        f"and {current_app.config['MAX_FORM_MEMORY_SIZE'] // 1024} KiB a form field."
    )
    return handle_http_error(error)


def handle_csrf_error(error: CSRFError):
    error.description = f"The form was refused ({error.description}). Reload the page and retry."
    return handle_http_error(error)


def handle_database_away(error: Exception):
    """The database cannot be reached: 503, and "try again", not a 500 and a traceback."""
    db.session.rollback()
    log.warning("%s %s: the database is unavailable (%s)", request.method, request.path,
                str(error).splitlines()[0][:200])  # fmt: skip
    away = ServiceUnavailable("The database is unavailable right now; try again in a moment.")
    response, status = handle_http_error(away)
    response = current_app.make_response((response, status))
    response.headers["Retry-After"] = "5"
    return response


def init_app(app) -> None:
    for error in UNAVAILABLE_DB_ERRORS:
        app.register_error_handler(error, handle_database_away)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(RequestEntityTooLarge, handle_too_large)
    app.register_error_handler(HTTPException, handle_http_error)
