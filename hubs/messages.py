"""Reading bus messages: topics without their environment prefix, hubs' own fields."""

from __future__ import annotations

import re
from typing import Any

# "org.fedoraproject.prod.", "io.pagure.dev.", "org.centos.stage."...: everything up to
# and including the first environment segment.
_PREFIX_RE = re.compile(r"^(?:[\w-]+\.)+?(?:dev|stg|stage|prod)\.")


def topic_suffix(topic: str) -> str:
    """The topic without its prefix: "org.fedoraproject.prod.bodhi.update.comment" ->
    "bodhi.update.comment". Topics without a known environment are returned whole."""
    return _PREFIX_RE.sub("", topic, count=1)


def body(message: dict[str, Any]) -> dict[str, Any]:
    """The payload of a bus message (its "msg"), or {} when it has none."""
    payload = message.get("msg") if isinstance(message, dict) else None
    return payload if isinstance(payload, dict) else {}


def is_hubs_message(message: dict[str, Any], *suffixes: str) -> bool:
    """Whether ``message`` is one of hubs' own, with one of the given topic suffixes."""
    suffix = topic_suffix(str(message.get("topic", "")))
    return suffix.startswith("hubs.") and (not suffixes or suffix in suffixes)


def concerns_hub(message: dict[str, Any], hub_id: int, *suffixes: str) -> bool:
    """A hubs message with one of ``suffixes`` about the hub ``hub_id``."""
    return is_hubs_message(message, *suffixes) and body(message).get("hub_id") == hub_id


def concerns_widget(message: dict[str, Any], widget_id: int) -> bool:
    """A hubs.widget.* message about the widget ``widget_id``."""
    return (
        is_hubs_message(message, "hubs.widget.created", "hubs.widget.updated")
        and body(message).get("widget_id") == widget_id
    )


ROLE_TOPICS = ("hubs.user.role.added", "hubs.user.role.changed", "hubs.user.role.removed")
