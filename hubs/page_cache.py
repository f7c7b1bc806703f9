"""Hub pages, kept rendered in the widget cache.

A visitor (nobody logged in, no session) sees the same page as every other visitor, so
it is rendered once and kept beside the widgets' envelopes, under the hub's *page
version*. Whatever changes a hub page changes that version:

- the backend, for every event it sends to a hub's pages (a rebuilt widget, a new
  layout), after the widget's envelope is stored and before the event goes out;
- the web app, for every change it makes to a hub (hubs.changes), once it is committed.

A logged-in reader's page is kept for them alone (per hub, language and edit mode),
under the hub's version and their own *reader version*, which changes with what their
page shows of them beside the hub (the navbar's counts of unread entries and of
requests to answer):

- the backend, for every event it sends to the reader's own channel (a stream entry,
  a join request to one of their hubs), before the event goes out;
- the web app, after every change the reader makes (opening My Stream, marking an
  entry, following a hub...), and for the owners of a hub someone asks to join.

A page is kept per language (the browser or the reader chooses it), all under one
version. A kept page is served only while its versions are the current ones, so it is
never older than what a page kept live by hubs-sse shows. The versions are read (or
made) before the page is rendered: a change landing during the render gives a new
version, and the page rendered from older data is never served. A version is a new
random token each time, so one lost from the cache (evicted, memcached restarted) is
never mistaken for an older one.

What differs from one serving to the next is filled in each time: the moment it was
served (where its streams begin) and, for a reader, the session's CSRF token. Their
marks are derived from the site's secret, so no text a hub shows can contain them.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from dogpile.cache.api import NO_VALUE
from flask import Flask, current_app, g, request

from hubs.cache import widget_cache
from hubs.i18n import current_locale

# Raise when what is kept changes shape, so a deployed version never reads an older one's.
PAGE_FORMAT = 3
# Requests that change nothing of their reader's.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _mark(app, purpose: str) -> str:
    secret = str(app.config["SECRET_KEY"]).encode("utf-8", "surrogatepass")
    return "hubs-mark-" + hmac.new(secret, purpose.encode(), hashlib.sha256).hexdigest()[:24]


def marks() -> tuple[str, str]:
    """This site's marks of the moment a page is served and of the CSRF token."""
    app = current_app._get_current_object()
    found = app.extensions.get("hubs_page_marks")
    if found is None:
        found = app.extensions["hubs_page_marks"] = (_mark(app, "since"), _mark(app, "csrf"))
    return found


def since_mark() -> str:
    return marks()[0]


def hub_path(prefix: str, name: str) -> str:
    """A hub's page path ("/t/design/"), as Hub.url_path gives it."""
    return f"/{prefix}/{name}/"


def _version_key(path: str) -> str:
    return f"hubs:page-version:{_digest(path)}"


def _reader_key(username: str) -> str:
    return f"hubs:reader-version:{_digest(username)}"


def _page_key(path: str, locale: str, reader: str | None = None, variant: str = "") -> str:
    # Under the site's marks too: a page kept before the secret changed has marks that
    # nothing would fill in.
    where = path if reader is None else chr(0).join([path, reader, variant])
    return f"hubs:page:v{PAGE_FORMAT}:{_digest(since_mark())[:8]}:{locale}:{_digest(where)}"


def _digest(text: str) -> str:
    """The text as a key may hold it (memcached keys: no spaces, 250 bytes at most)."""
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


def hub_changed(path: str) -> None:
    """Give the hub of page ``path`` a new version: its kept pages are not served again."""
    widget_cache.region.set(_version_key(path), secrets.token_hex(8))


def reader_changed(username: str) -> None:
    """Give ``username`` a new reader version: the pages kept for them are not served
    again (what they show of the reader beside the hub changed)."""
    widget_cache.region.set(_reader_key(username), secrets.token_hex(8))


def serve(
    path: str,
    render: Callable[[], tuple[str, float | None]],
    since: str,
    reader: str | None = None,
    variant: str = "",
    csrf_token: Callable[[], str] | None = None,
) -> str:
    """The page of ``path`` for a visitor (``reader`` None) or for the reader named: the
    kept one while its versions hold, else ``render()``'s, kept when it says until when
    it may be (None: not at all, e.g. some widget was not cached yet). ``variant`` tells
    apart a reader's pages of one path (edit mode). ``since`` and ``csrf_token()`` are
    filled in where the page has their marks."""
    version_keys = [_version_key(path)] + ([_reader_key(reader)] if reader else [])
    page_key = _page_key(path, current_locale(), reader, variant)
    if reader is None:  # one key: memcached's get costs less than a get_multi
        versions = [widget_cache.region.get(version_keys[0])]
    else:
        versions = widget_cache.region.get_multi(version_keys)
    if NO_VALUE not in versions:
        page = _recalled.get(page_key)
        if not _current(page, versions):
            page = widget_cache.region.get(page_key)
            if _current(page, versions):
                _recalled.put(page_key, page)
        if _current(page, versions):
            return _fill(page["html"], since, csrf_token)
    for position, key in enumerate(version_keys):
        if versions[position] is NO_VALUE:
            versions[position] = secrets.token_hex(8)
            widget_cache.region.set(key, versions[position])
    html, until = render()
    if until is not None:
        page = {"versions": versions, "html": html, "until": until}
        widget_cache.region.set(page_key, page)
        _recalled.put(page_key, page)
    return _fill(html, since, csrf_token)


def _current(page, versions: list[str]) -> bool:
    """Whether a kept ``page`` may be served: kept under these versions, and fresh."""
    return (
        page is not None
        and page is not NO_VALUE
        and page["versions"] == versions
        and time.time() < page["until"]
    )


class _Recalled:
    """The pages this process served last, by key, so a page is not read from the cache
    (and unpickled) at each serving: only its versions are. At most ``size`` of them."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._pages: OrderedDict[str, dict] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> dict | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: str, page: dict) -> None:
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)


# A few MB at most: hub pages are tens of KB.
_recalled = _Recalled(size=200)


def _fill(html: str, since: str, csrf_token: Callable[[], str] | None) -> str:
    since_at, csrf_at = marks()
    html = html.replace(since_at, since)
    return html.replace(csrf_at, csrf_token()) if csrf_token is not None else html


def init_app(app: Flask) -> None:
    """After every change a logged-in reader makes (opening My Stream reads it, marking
    an entry, following a hub...), the pages kept for them are rendered anew."""

    @app.after_request
    def _a_reader_changed_something(response):
        user = g.get("user")
        if user is not None and request.method not in SAFE_METHODS and response.status_code < 400:
            reader_changed(user.username)
        return response
