"""Visitors' hub pages, kept rendered in the widget cache.

A visitor (nobody logged in, no session) sees the same page as every other visitor, so
it is rendered once and kept beside the widgets' envelopes, under the hub's *page
version*. Whatever changes a hub page changes that version:

- the backend, for every event it sends to a hub's pages (a rebuilt widget, a new
  layout), after the widget's envelope is stored and before the event goes out;
- the web app, for every change it makes to a hub (hubs.changes), once it is committed.

A page is kept per language (the visitor's browser chooses it), all under one version.

A kept page is served only while its version is the hub's current one, so it is never
older than what a page kept live by hubs-sse shows. The version is read (or made)
before the page is rendered: a change landing during the render gives the hub a new
version, and the page rendered from older data is never served. A version is a new
random token each time, so one lost from the cache (evicted, memcached restarted) is
never mistaken for an older one.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable

from dogpile.cache.api import NO_VALUE

from hubs.cache import widget_cache
from hubs.i18n import current_locale

# Raise when what is kept changes shape, so a deployed version never reads an older one's.
PAGE_FORMAT = 2
# Where a kept page has the moment it was served, which every serving fills in.
SINCE_MARK = "0.000-hubs-page-since"


def hub_path(prefix: str, name: str) -> str:
    """A hub's page path ("/t/design/"), as Hub.url_path gives it."""
    return f"/{prefix}/{name}/"


def _version_key(path: str) -> str:
    return f"hubs:page-version:{_digest(path)}"


def _page_key(path: str, locale: str) -> str:
    return f"hubs:page:v{PAGE_FORMAT}:{locale}:{_digest(path)}"


def _digest(path: str) -> str:
    """The path as a key may hold it (memcached keys: no spaces, 250 bytes at most)."""
    return hashlib.sha1(path.encode("utf-8", "surrogatepass")).hexdigest()


def hub_changed(path: str) -> None:
    """Give the hub of page ``path`` a new version: its kept page is not served again."""
    widget_cache.region.set(_version_key(path), secrets.token_hex(8))


def serve(path: str, render: Callable[[], tuple[str, float | None]], since: str) -> str:
    """The visitor's page of ``path``: the kept one while the hub's version holds, else
    ``render()``'s, kept when it says until when it may be (None: not at all, e.g. some
    widget was not cached yet). ``since`` replaces SINCE_MARK in the page."""
    page_key = _page_key(path, current_locale())
    version, page = widget_cache.region.get_multi([_version_key(path), page_key])
    if (
        page is not NO_VALUE
        and version is not NO_VALUE
        and page["version"] == version
        and time.time() < page["until"]
    ):
        return page["html"].replace(SINCE_MARK, since, 1)
    if version is NO_VALUE:
        version = secrets.token_hex(8)
        widget_cache.region.set(_version_key(path), version)
    html, until = render()
    if until is not None:
        widget_cache.region.set(page_key, {"version": version, "html": html, "until": until})
    return html.replace(SINCE_MARK, since, 1)
