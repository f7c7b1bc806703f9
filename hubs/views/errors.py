"""Error pages: HTML for people, JSON for the /json endpoints, the API and JSON requests."""

import logging

from flask import current_app, jsonify, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge, ServiceUnavailable

from hubs.database import db
from hubs.errors import error_document
from hubs.i18n import _, _l

log = logging.getLogger(__name__)

# A database that is there but not answering now (restarting, refusing connections).
UNAVAILABLE_DB_ERRORS = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError)

# The statuses' names and werkzeug's default explanations (English only there), in the
# reader's language; a status missing here keeps werkzeug's.
STATUS_NAMES = {
    400: _l("Bad Request"),
    401: _l("Unauthorized"),
    403: _l("Forbidden"),
    404: _l("Not Found"),
    405: _l("Method Not Allowed"),
    409: _l("Conflict"),
    413: _l("Request Entity Too Large"),
    415: _l("Unsupported Media Type"),
    429: _l("Too Many Requests"),
    500: _l("Internal Server Error"),
    503: _l("Service Unavailable"),
}
DEFAULT_EXPLANATIONS = {
    400: _l("The browser (or proxy) sent a request that this server could not understand."),
    403: _l(
        "You don't have the permission to access the requested resource. "
        "It is either read-protected or not readable by the server."
    ),
    404: _l(
        "The requested URL was not found on the server. "
        "If you entered the URL manually please check your spelling and try again."
    ),
    405: _l("The method is not allowed for the requested URL."),
    500: _l(
        "The server encountered an internal error and was unable to complete your request. "
        "Either the server is overloaded or there is an error in the application."
    ),
}


def explanation(error: HTTPException) -> str:
    """What went wrong, for people: the message the code gave, else the status's own."""
    if error.description == type(error).description and error.code in DEFAULT_EXPLANATIONS:
        return str(DEFAULT_EXPLANATIONS[error.code])
    return error.description


def _wants_json() -> bool:
    return (
        request.path.endswith("/json")
        or request.path.startswith("/api/")
        or request.is_json
        or request.accept_mimetypes.best == "application/json"
    )


def handle_http_error(error: HTTPException):
    if _wants_json():
        return jsonify(error_document(error.code, explanation(error))), error.code
    # A page that needs a login sends there; a failed login itself shows its error.
    if error.code == 401 and request.method == "GET" and request.blueprint != "oidc_auth":
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    name = str(STATUS_NAMES.get(error.code, error.name))
    page = render_template("error.html", error=error, name=name, explanation=explanation(error))
    return page, error.code


def handle_too_large(error: RequestEntityTooLarge):
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    error.description = _(
        "The request is too large: this site reads at most %(request)d KiB a request, "
        "and %(field)d KiB a form field.",
        request=limit // 1024,
        field=current_app.config["MAX_FORM_MEMORY_SIZE"] // 1024,
    )
    return handle_http_error(error)


def handle_csrf_error(error: CSRFError):
    error.description = _(
        "The form was refused (%(reason)s). Reload the page and retry.", reason=error.description
    )
    return handle_http_error(error)


def handle_database_away(error: Exception):
    """The database cannot be reached: 503, and "try again", not a 500 and a traceback."""
    db.session.rollback()
    log.warning("%s %s: the database is unavailable (%s)", request.method, request.path,
                str(error).splitlines()[0][:200])  # fmt: skip
    away = ServiceUnavailable(_("The database is unavailable right now; try again in a moment."))
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
