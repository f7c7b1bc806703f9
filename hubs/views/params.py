"""What URLs carry, read once and checked: database ids in paths and the paging cursor
of the feed's "More" and the stream's "Older" links. Anything out of range is a 4xx."""

from __future__ import annotations

import datetime as dt

from flask import abort, request
from werkzeug.routing import IntegerConverter

from hubs.models.base import MAX_ID


class IdConverter(IntegerConverter):
    """``<id:name>``: a row id, 1 to MAX_ID; a path with a larger one matches no route
    (404) instead of reaching the database, which would refuse it."""

    def __init__(self, url_map, **kwargs) -> None:
        super().__init__(url_map, min=1, max=MAX_ID, **kwargs)


def page_cursor(link: str, required: bool = False) -> tuple[dt.datetime, int] | None:
    """``?before=<time>&id=<id>`` of a paging link: where the next page starts, None
    for the first page (unless ``required``: the link always carries one)."""
    if "before" not in request.args and not required:
        return None
    hint = f"before must be an ISO time with its zone and id a number, as the {link} link gives"
    try:
        stamp = dt.datetime.fromisoformat(request.args["before"])
        message_id = int(request.args["id"])
    except (KeyError, ValueError, OverflowError):
        abort(400, hint)
    if stamp.tzinfo is None or not 0 <= message_id <= MAX_ID:
        abort(400, hint)
    return stamp, message_id
