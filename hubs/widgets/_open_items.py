"""What the pagure and github widgets share: which lists they show, and their open
items as the template beside them (widgets/templates/_open_items.html) shows them."""

from __future__ import annotations

import dataclasses
from typing import Any

from hubs.clients import OpenItems
from hubs.widgets.validators import Choice

# What a widget lists.
WHAT = ("issues", "pull-requests", "both")


# Which lists a widget shows: "issues", "pull-requests" or "both" (the default).
what_to_show = Choice(WHAT, default="both")


def shows_issues(what: str) -> bool:
    return what in ("both", "issues")


def shows_pull_requests(what: str) -> bool:
    return what in ("both", "pull-requests")


def listing(found: OpenItems, url: str) -> dict[str, Any]:
    """Open items as the template shows them: each item's fields and its creation time
    (the template says how long ago); their total ("more": it is only a lower bound)."""
    return {
        "url": url,
        "total": found.total,
        "more": found.more,
        "entries": [
            {
                **dataclasses.asdict(item),
                "created": item.created.isoformat(),
            }
            for item in found.items
        ],
    }
