"""Drawing widgets: their panel with its body, error or loading state, and the JSON
document the page, the API and the live stream share.

A widget's panel is rendered once, in English, when its data is built, and cached with
the data (``envelope["html"]``): an English page view only joins cached panels; a page
in another language renders each panel from the cached data.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, render_template
from markupsafe import Markup

from hubs.cache import Envelope
from hubs.i18n import DEFAULT_LOCALE, is_default_locale

log = logging.getLogger(__name__)

UNKNOWN_PLUGIN = "This kind of widget is no longer available."
UNKNOWN_PLUGIN_ENVELOPE: Envelope = {"ok": False, "error": UNKNOWN_PLUGIN}


def plural(noun: str, count: int) -> str:
    """``noun`` as a count of ``count`` says it: "member" for 1, "members" otherwise."""
    return noun if count == 1 else f"{noun}s"


def _body(widget, widget_type, envelope: Envelope) -> tuple[Markup | None, str | None]:
    """The widget's rendered body, or None and an error message."""
    if widget_type is None:
        return None, UNKNOWN_PLUGIN
    if not envelope["ok"]:
        return None, envelope["error"]
    try:
        html = render_template(
            f"widgets/{widget_type.template}", data=envelope["data"], widget=widget
        )
    except Exception as error:
        log.exception("Widget %r failed to render", widget)
        return None, f"{type(error).__name__}: {error}"
    return Markup(html), None


def render_panel(widget, widget_type, envelope: Envelope | None) -> str:
    """The widget in its panel; a loading placeholder when ``envelope`` is None."""
    body, error = (None, None) if envelope is None else _body(widget, widget_type, envelope)
    chrome = widget_type.chrome if widget_type else None
    hidden = bool(body is not None and chrome.hide_when_empty and chrome.is_empty(envelope["data"]))
    # Demo mode: an external widget's data is a recording, and its panel says so.
    demo = bool(body is not None and widget_type.external and current_app.config["DEMO_MODE"])
    return render_template(
        "_widget.html",
        widget=widget,
        title=widget_type.panel_title(widget) if widget_type else widget.title,
        body=body,
        error=error,
        public_error=(envelope or {}).get("public_error"),
        loading=envelope is None,
        hidden=hidden,
        demo=demo,
        version=envelope.get("version") if envelope else None,
    )


def panel(widget, widget_type, envelope: Envelope | None) -> Markup:
    """The panel cached with ``envelope``, or one rendered now (in the reader's
    language, when it is not the cached panel's)."""
    if envelope is not None and "html" in envelope and is_default_locale():
        return Markup(envelope["html"])
    return Markup(render_panel(widget, widget_type, envelope))


def widget_document(widget, widget_type, envelope: Envelope) -> dict[str, Any]:
    """The JSON document of one widget: what /w/<id>/json answers and the stream pushes."""
    hub = widget.hub
    document = {
        "id": widget.id,
        "plugin": widget.plugin,
        "hub": {"name": hub.name, "type": hub.type.value, "url": hub.url_path},
        "config": widget_type.config_of(widget) if widget_type else dict(widget.config or {}),
        "data": envelope["data"] if envelope["ok"] else None,
    }
    if not envelope["ok"]:
        document["error"] = public_error(widget_type, envelope)
    return document


# What a visitor may read of a failed widget: a stable code and a message. The
# exception itself (envelope["error"]) is for the log only.
WIDGET_FAILED = "This widget could not be loaded; the error has been logged."


def public_error(widget_type, envelope: Envelope) -> dict[str, str]:
    if widget_type is None:
        return {"code": "unknown_plugin", "message": UNKNOWN_PLUGIN}
    if envelope.get("public_error"):
        return {"code": "service_unavailable", "message": envelope["public_error"]}
    return {"code": "widget_failed", "message": WIDGET_FAILED}


def widget_event(widget, widget_type, envelope: Envelope) -> dict[str, Any]:
    """What the backend pushes to the browsers after a rebuild or a refresh: the
    widget's JSON document, its freshly rendered panel (in English: a page in another
    language fetches its own) and, from a refresh, what the pages showing the version
    before add on top instead."""
    hub = widget.hub
    event = {
        "hub": {"name": hub.name, "type": hub.type.value, "url": hub.url_path},
        "widget_id": widget.id,
        "version": envelope["version"],
        "data": widget_document(widget, widget_type, envelope),
        "html": envelope["html"],
        "locale": DEFAULT_LOCALE,
    }
    if "prepend" in envelope:
        prepend = envelope["prepend"]
        # The version as text, as the page keeps it (data-version).
        event["prepend"] = {**prepend, "after": str(prepend["after"])}
    return event
