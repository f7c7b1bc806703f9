"""The web application factory."""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, abort, g, request
from flask.json.provider import DefaultJSONProvider
from flask_bootstrap import Bootstrap5
from flask_wtf.csrf import CSRFProtect
from jinja2 import ChoiceLoader, FileSystemLoader, PrefixLoader

from hubs import i18n, identity, page_cache
from hubs.cache import configure_cache
from hubs.config import load_config
from hubs.database import db
from hubs.meta import role_name
from hubs.permissions import Action, allowed
from hubs.widgets.base import TEMPLATE_DIR as WIDGET_TEMPLATE_DIR
from hubs.widgets.validators import has_lone_surrogate

bootstrap = Bootstrap5()
csrf = CSRFProtect()


class RequestJSON(DefaultJSONProvider):
    """Request bodies that Python's json would choke on are refused as bad JSON (a
    400), not a 500: nesting deeper than the interpreter's stack, and text with lone
    surrogates (half a character: no column can store it, no page can show it)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = super().loads(s, **kwargs)
            _refuse_lone_surrogates(value)
        except RecursionError:
            raise ValueError("the JSON is nested too deeply") from None
        return value


def _refuse_lone_surrogates(value: Any) -> None:
    if isinstance(value, str):
        if has_lone_surrogate(value):
            raise ValueError("the JSON holds half a character (a lone surrogate)")
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_lone_surrogates(key)
            _refuse_lone_surrogates(item)
    elif isinstance(value, list):
        for item in value:
            _refuse_lone_surrogates(item)


def _may(action: str, subject) -> bool:
    """For templates: whether the visitor may do ``action`` (a ``permissions.Action`` value)
    to ``subject``, to show only the controls they may use."""
    return allowed(identity.current_user(), Action(action), subject)


def _origin(url: str | None) -> str:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


# Methods that change something: besides their CSRF token, they must come from this site.
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _same_origin_writes(app: Flask) -> None:
    """A state change whose Origin (or, without one, Referer) names another site is
    refused with a 400, before its token is even looked at. A request with neither (a
    script using the JSON API with its token) is left to the token alone."""

    @app.before_request
    def _check_origin():
        if request.method not in UNSAFE_METHODS:
            return
        origin = request.headers.get("Origin")
        if origin is None:
            referer = request.headers.get("Referer")
            if not referer:
                return
            origin = _origin(referer) or "null"
        allowed = {_origin(request.host_url), _origin(app.config["SITE_URL"])}
        if origin not in allowed:
            abort(400, f"Cross-site request refused: it comes from {origin[:100]!r}.")


def _log_requests(app: Flask) -> None:
    """One line per request, with its time: "GET /t/infra/ 200 3.1 ms"."""
    log = logging.getLogger("hubs.requests")

    @app.before_request
    def _start():
        g.request_started = time.perf_counter()

    @app.after_request
    def _done(response):
        started = g.pop("request_started", None)
        if started is not None:
            log.info(
                "%s %s %s %.1f ms",
                request.method,
                request.full_path.rstrip("?"),
                response.status_code,
                (time.perf_counter() - started) * 1000,
            )
        return response


def _security_headers(app: Flask):
    """Secure defaults on every response: no inline scripts, no framing, no sniffing."""
    connect = " ".join(filter(None, ["'self'", _origin(app.config["SSE_URL"])]))
    # Pictures only from this site and the hosts named (a remote picture in a sticky note
    # or a hub's avatar could track whoever looks at it).
    images = " ".join(["'self'", "data:", *map(_origin, app.config["IMAGE_HOSTS"])])
    policy = (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src {images}; connect-src {connect}; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
    )

    def add_headers(response):
        # What a logged-in user sees is theirs (controls, CSRF tokens, My Stream): no
        # shared cache may keep it, nor the browser's history once they log out.
        if g.get("user") is not None and response.mimetype in ("text/html", "application/json"):
            response.headers.setdefault("Cache-Control", "private, no-store")
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    return add_headers


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then $HUBS_CONFIG, then ``config``."""
    app = Flask(__name__)
    app.json = RequestJSON(app)
    app.config.update(load_config(config))

    from hubs.views.params import IdConverter

    app.url_map.converters["id"] = IdConverter
    db.init_app(app)
    configure_cache(app.config)
    bootstrap.init_app(app)
    _same_origin_writes(app)  # before the CSRF token's check
    csrf.init_app(app)
    identity.init_app(app)
    i18n.init_app(app)
    page_cache.init_app(app)
    app.after_request(_security_headers(app))
    _log_requests(app)
    app.jinja_loader = ChoiceLoader(
        [app.jinja_loader, PrefixLoader({"widgets": FileSystemLoader(WIDGET_TEMPLATE_DIR)})]
    )

    from hubs.entries import sentence as entry_sentence
    from hubs.revisions import revision_sentence
    from hubs.views import (
        account,
        api,
        avatars,
        directory,
        errors,
        forms,
        health,
        help_calls,
        home,
        hubs,
        login,
        my_stream,
        revisions,
    )

    app.register_blueprint(login.bp)
    app.register_blueprint(avatars.bp)
    app.register_blueprint(home.bp)
    app.register_blueprint(hubs.bp)
    app.register_blueprint(forms.bp)
    app.register_blueprint(help_calls.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(my_stream.bp)
    app.register_blueprint(directory.bp)
    app.register_blueprint(revisions.bp)
    app.register_blueprint(account.bp)
    app.add_template_global(entry_sentence, "entry_sentence")
    app.add_template_global(revision_sentence, "revision_sentence")
    errors.init_app(app)

    def notification_counts():
        return my_stream.notification_counts(identity.current_user())

    @app.context_processor
    def _site():
        return {"site_name": app.config["SITE_NAME"], "current_user": identity.current_user,
                "may": _may, "notification_counts": notification_counts,
                "render_started": hubs.render_started, "client_strings": i18n.client_strings,
                "role_name": role_name}  # fmt: skip

    return app
