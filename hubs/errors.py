"""The one shape of an error answered as JSON, by the web app and by hubs-sse alike:
``{"error": code, "message": text, "errors": {field: text}}``.

``error`` is stable for programs (the HTTP status's name: ``bad_request``,
``not_found``...), ``message`` is for people, and ``errors`` names the fields that
were refused (empty when the request as a whole was).
"""

from __future__ import annotations

from http import HTTPStatus


def error_code(status: int) -> str:
    try:
        return HTTPStatus(status).name.lower()
    except ValueError:
        return f"http_{status}"


def error_document(status: int, message: str, errors: dict[str, str] | None = None) -> dict:
    return {"error": error_code(status), "message": message, "errors": dict(errors or {})}
