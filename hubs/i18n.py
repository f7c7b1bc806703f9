"""Every page in the reader's language: Flask-Babel, the catalogs under
``hubs/translations/``, and the choice of a locale.

A request's locale is, in order: the language the logged-in user chose (kept on their
account), the best of the browser's ``Accept-Language`` that Hubs has a catalog for,
then English. Outside a request (the backend building panels, the CLI) it is English,
unless :func:`force_locale` says otherwise.

Code marks what people read with ``_`` (``gettext``), ``ngettext`` for counts, and
``_l`` (``lazy_gettext``) for text defined at import time, such as a widget's
``TITLE`` or an argument's help. Templates use ``_()``, ``ngettext()`` and
``{% trans %}``, which Flask-Babel installs.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from functools import wraps
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_timedelta as babel_timedelta
from flask import Flask, current_app, g, has_request_context, request
from flask_babel import (
    Babel,
    LazyString,
    force_locale,
    format_decimal,
    get_locale,
    gettext,
    lazy_gettext,
    lazy_ngettext,
    ngettext,
)

__all__ = [
    "_",
    "_l",
    "force_locale",
    "format_ago",
    "format_count",
    "get_locale",
    "gettext",
    "lazy_ngettext",
    "locale_name",
    "ngettext",
]

_ = gettext
_l = lazy_gettext

TRANSLATIONS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "translations")
DEFAULT_LOCALE = "en"

babel = Babel()


def available_locales() -> list[str]:
    """English (the msgids) and every language with a compiled catalog."""
    found = [
        name
        for name in sorted(os.listdir(TRANSLATIONS_DIR))
        if os.path.isfile(os.path.join(TRANSLATIONS_DIR, name, "LC_MESSAGES", "messages.mo"))
    ] if os.path.isdir(TRANSLATIONS_DIR) else []  # fmt: skip
    return [DEFAULT_LOCALE, *(name for name in found if name != DEFAULT_LOCALE)]


def languages() -> list[str]:
    """The locales this site offers (``LANGUAGES``, by default every catalog)."""
    return current_app.config["LANGUAGES"]


def locale_name(code: str) -> str:
    """A locale's name in its own language ("français"), to choose it by."""
    try:
        return Locale.parse(code).get_display_name(code) or code
    except (ValueError, UnknownLocaleError):
        return code


def select_locale() -> str | None:
    """The request's locale: the user's choice, else the browser's, else English."""
    if not has_request_context():
        return None
    user = g.get("user")
    chosen = getattr(user, "locale", None)
    offered = languages()
    if chosen in offered:
        return chosen
    g.locale_negotiated = True  # the page depends on Accept-Language
    return request.accept_languages.best_match(offered) or DEFAULT_LOCALE


def is_default_locale() -> bool:
    """Whether text is being rendered in English, the language cached panels are in."""
    return str(get_locale() or DEFAULT_LOCALE) == DEFAULT_LOCALE


def in_default_locale(function: Callable) -> Callable:
    """Run ``function`` in English: what it makes (a widget's panel) is cached and
    shared by readers of every language, and only English pages use it as it is."""

    @wraps(function)
    def wrapper(*args, **kwargs):
        with force_locale(DEFAULT_LOCALE):
            return function(*args, **kwargs)

    return wrapper


def current_locale() -> str:
    return str(get_locale() or DEFAULT_LOCALE)


def format_count(number: int) -> str:
    """A count as the reader's language writes it ("1,234", "1 234")."""
    return format_decimal(number)


# Babel's units for relative times, largest first (a year, a month, a week, a day, an
# hour, a minute). It names a time in the largest unit it is at least 0.9 of ("55
# minutes" is "1 hour"), rounded to the nearest whole one.
AGO_UNITS = (365 * 86400, 30 * 86400, 7 * 86400, 86400, 3600, 60)
AGO_THRESHOLD = 0.9
JUST_NOW = 60 * AGO_THRESHOLD  # under a minute's threshold: "just now", never seconds


def _aware(when: dt.datetime | str) -> dt.datetime:
    if isinstance(when, str):
        when = dt.datetime.fromisoformat(when)
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def format_ago(when: dt.datetime | str, now: dt.datetime | None = None) -> str:
    """How long ago ``when`` was, in the reader's language ("3 days ago")."""
    delta = _aware(when) - (_aware(now) if now else dt.datetime.now(dt.UTC))
    if abs(delta.total_seconds()) < JUST_NOW:
        return gettext("just now")
    return babel_timedelta(
        delta, add_direction=True, threshold=AGO_THRESHOLD,
        locale=get_locale() or DEFAULT_LOCALE,
    )  # fmt: skip


def ago_changes_at(when: dt.datetime | str, now: dt.datetime | None = None) -> dt.datetime:
    """When :func:`format_ago` will say something else of ``when`` (in every language):
    a cached page saying it goes stale then. That is the moment it reaches 0.9 of the next
    unit up, or, sooner, a second past the next half of the unit it names (it rounds)."""
    when = _aware(when)
    seconds = ((_aware(now) if now else dt.datetime.now(dt.UTC)) - when).total_seconds()
    if seconds < JUST_NOW:
        return when + dt.timedelta(seconds=JUST_NOW)
    place = next(i for i, unit in enumerate(AGO_UNITS) if seconds / unit >= AGO_THRESHOLD)
    unit = AGO_UNITS[place]
    steps = [(round(seconds / unit) + 0.5) * unit + 1]  # Babel's round(), ties to even
    if place > 0:
        steps.append(AGO_THRESHOLD * AGO_UNITS[place - 1])
    return when + dt.timedelta(seconds=min(steps))


def _check_languages(app: Flask) -> None:
    """LANGUAGES may only name languages Hubs has a catalog for (a test may add its own
    directory of catalogs)."""
    directories = app.config["BABEL_TRANSLATION_DIRECTORIES"].split(";")
    for code in app.config.get("LANGUAGES") or ():
        found = any(
            os.path.isfile(os.path.join(folder, code, "LC_MESSAGES", "messages.mo"))
            for folder in directories
        )
        if code != DEFAULT_LOCALE and not found:
            raise RuntimeError(
                f"LANGUAGES names {code!r}, which has no compiled catalog in "
                f"{directories}; run `make catalogs`, or remove it."
            )


def client_strings() -> dict[str, str]:
    """What the page's scripts show, in the reader's language, by key; the scripts fill
    the ``%(name)s`` placeholders. Their English is also the scripts' fallback."""
    return {
        "live": gettext("live"),
        "connecting": gettext("connecting…"),
        "reconnecting": gettext("reconnecting…"),
        "widget_failed": gettext("Couldn't load this widget."),
        "widget_failed_hint": gettext("Check your connection and reload the page."),
        "widget": gettext("Widget"),
        "unreachable": gettext("The server could not be reached; nothing was changed."),
        "server_answered": gettext("The server answered %(status)s."),
        "place_left": gettext("%(label)s: left column, %(position)s of %(count)s."),
        "place_right": gettext("%(label)s: right column, %(position)s of %(count)s."),
        "picked_up": gettext(
            "Picked up. %(place)s Arrow keys move it, Space or Enter drops it, Escape cancels."
        ),
        "moved": gettext("Moved. %(place)s"),
        "stays": gettext("%(label)s stays where it was."),
        "cancelled": gettext("Cancelled. %(label)s is back where it was."),
        "no_further": gettext("%(label)s cannot go further that way."),
        "form_failed": gettext("This form could not be loaded; try again."),
        "field_error": gettext("%(field)s %(reason)s"),
        "edit_on": gettext("Edit mode: move, configure, add or remove widgets."),
        "edit_off": gettext("Edit mode is off."),
    }


def _vary_on_language(response):
    """A page chosen by Accept-Language says so, for shared caches."""
    if g.get("locale_negotiated"):
        response.vary.add("Accept-Language")
    return response


def text(value: Any) -> Any:
    """``value`` with lazy strings made plain (for JSON and the cache)."""
    return str(value) if isinstance(value, LazyString) else value


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", TRANSLATIONS_DIR)
    _check_languages(app)
    if not app.config.get("LANGUAGES"):  # every catalog, found once (not on each request)
        app.config["LANGUAGES"] = available_locales()
    babel.init_app(app, locale_selector=select_locale)
    app.after_request(_vary_on_language)
    app.add_template_filter(format_ago, "ago")
    app.add_template_filter(format_count, "count")
    app.add_template_global(current_locale, "current_locale")
