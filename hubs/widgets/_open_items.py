"""What the pagure and github widgets share: which lists they show, and their open
items as the template beside them (widgets/templates/_open_items.html) shows them."""

from __future__ import annotations

import dataclasses
from typing import Any

from hubs.clients import OpenItems
from hubs.entries import ago

# What a widget lists.
WHAT = ("both", "issues", "pull-requests")


def what_to_show(value: Any) -> str:
    """Which lists a widget shows: "issues", "pull-requests" or "both" (the default)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return "both"
    if not isinstance(value, str) or value.strip().lower() not in WHAT:
        raise ValueError('must be "issues", "pull-requests" or "both"')
    return value.strip().lower()


def shows_issues(what: str) -> bool:
    return what in ("both", "issues")


def shows_pull_requests(what: str) -> bool:
    return what in ("both", "pull-requests")


def listing(found: OpenItems, url: str) -> dict[str, Any]:
    """Open items as the template shows them: each item's fields, its creation time
    and age; their total ("more": it is only a lower bound)."""
    return {
        "url": url,
        "total": found.total,
        "more": found.more,
        "entries": [
            {
                **dataclasses.asdict(item),
                "created": item.created.isoformat(),
                "ago": ago(item.created),
            }
            for item in found.items
        ],
    }
