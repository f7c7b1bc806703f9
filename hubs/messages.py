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


def topic_category(topic: str) -> str:
    """The service a topic comes from, as the store keeps it: "...bodhi.update.comment" ->
    "bodhi"."""
    return topic_suffix(topic).split(".", 1)[0][:64]


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
# A request to join a team hub, made or answered: its owners' count of pending ones moves.
JOIN_TOPICS = ("hubs.hub.join.requested", "hubs.hub.join.answered")

# Changes that alter a hub page around its widgets' contents: which widgets it shows, and
# its header (summary, avatar, counts). A widget moved is a hubs.widget.updated whose
# changed_keys name its column or position; a new config only redraws the widget itself.
LAYOUT_TOPICS = ("hubs.widget.created", "hubs.widget.deleted", "hubs.hub.updated", *ROLE_TOPICS)
_HUB_PREFIXES = {"user": "u", "team": "t"}


def layout_changed(message: dict[str, Any]) -> str | None:
    """The page path ("/t/infrastructure/") of the hub whose layout or header ``message``
    changes, or None when it changes no hub page's layout."""
    fields = body(message)
    changed_keys = fields.get("changed_keys")
    moved = (
        is_hubs_message(message, "hubs.widget.updated")
        and isinstance(changed_keys, list)
        and bool({"column", "position"} & {key for key in changed_keys if isinstance(key, str)})
    )
    if not (moved or is_hubs_message(message, *LAYOUT_TOPICS)):
        return None
    prefix, name = _HUB_PREFIXES.get(fields.get("hub_type")), fields.get("hub_name")
    if prefix is None or not isinstance(name, str) or not name or "/" in name:
        return None
    return f"/{prefix}/{name}/"
