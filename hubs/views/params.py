"""What URLs carry, read once and checked: database ids in paths, the paging cursor
of the feed's "More" and the stream's "Older" links, and the page number of the hub
lists. Anything out of range is a 4xx."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from flask import abort, request
from werkzeug.routing import IntegerConverter

from hubs.i18n import _
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
    hint = _(
        "before must be an ISO time with its zone and id a number, as the %(link)s link gives",
        link=link,
    )
    try:
        stamp = dt.datetime.fromisoformat(request.args["before"])
        message_id = int(request.args["id"])
    except (KeyError, ValueError, OverflowError):
        abort(400, hint)
    if stamp.tzinfo is None or not 0 <= message_id <= MAX_ID:
        abort(400, hint)
    return stamp, message_id


# Hubs a list shows at once (the front page, the directory).
PER_PAGE = 50
# Far beyond any list this site holds: a larger page number is a made-up link.
MAX_PAGE = 100_000


@dataclass(frozen=True)
class Page:
    """One page of a list: its rows, its number (1 is the first) and whether more follow."""

    rows: Sequence[Any]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def page_of(rows_of: Callable[[Any], Sequence[Any]], statement, per_page: int = PER_PAGE) -> Page:
    """The page ``?page=`` asks of ``statement`` (a select), its rows read by ``rows_of``:
    one query. A page that is no number, or beyond the last, is a 400 saying so."""
    raw = request.args.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        abort(
            400, _("page must be a number from 1 to %(max)s, as the Next link gives.", max=MAX_PAGE)
        )
    number = int(raw)
    rows = rows_of(statement.limit(per_page + 1).offset((number - 1) * per_page))
    if number > 1 and not rows:
        abort(400, _("There is no page %(number)s: the list ends before it.", number=number))
    return Page(rows=rows[:per_page], number=number, has_next=len(rows) > per_page)
