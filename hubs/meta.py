"""fedmsg.meta processor for hubs' own messages, so feeds can show them.

Registered under the ``fedmsg.meta`` entry point in setup.py. Message fields (all
optional but topic-specific ones): hub_id, hub_name, hub_type, hub_url, username,
agent, role, old_role, changed_keys, widget_id, widget_label.
"""

from __future__ import annotations

from fedmsg.meta.base import BaseProcessor

from hubs.messages import topic_suffix

SITE = "https://hubs.fedoraproject.org"


def _hub(msg: dict) -> str:
    kind = "team" if msg.get("hub_type") == "team" else "user"
    return f"the {msg.get('hub_name', '?')} {kind} hub"


def _event(topic: str) -> str:
    return topic_suffix(topic).removeprefix("hubs.")


def describe(topic: str, body: dict) -> str:
    """One sentence for a hubs message of ``topic`` with fields ``body``."""
    event = _event(topic)
    agent = body.get("agent") or body.get("username") or "someone"
    username = body.get("username", "someone")
    widget = body.get("widget_label") or "a widget"
    subtitles = {
        "user.created": f"{username} joined Fedora Hubs",
        "hub.created": f"{agent} created {_hub(body)}",
        "hub.updated": f"{agent} updated the settings of {_hub(body)}"
        + (f" ({', '.join(body['changed_keys'])})" if body.get("changed_keys") else ""),
        "widget.created": f"{agent} added {widget} to {_hub(body)}",
        "widget.updated": f"{agent} changed {widget} on {_hub(body)}",
        "widget.deleted": f"{agent} removed {widget} from {_hub(body)}",
        "help.resolved": f"{agent} marked a call for help in "
        f"{body.get('channel', 'a meeting')} as resolved on {_hub(body)}",
        "user.role.added": f"{agent} made {username} {body.get('role', 'a member')} of "
        f"{_hub(body)}",
        "user.role.changed": f"{agent} changed {username}'s role in {_hub(body)} from "
        f"{body.get('old_role', '?')} to {body.get('role', '?')}",
        "user.role.removed": f"{agent} removed {username} "
        f"({body.get('old_role') or body.get('role') or 'member'}) from {_hub(body)}",
        "hub.join.requested": f"{username} asked to join {_hub(body)}",
        "hub.join.answered": f"{agent} {'approved' if body.get('approved') else 'declined'} "
        f"{username}'s request to join {_hub(body)}",
    }
    return subtitles.get(event, f"{agent} did something on {_hub(body)}")


# How a run of one person's changes to one hub reads, by event: (verb, what it counts).
_EDIT_PHRASES = {
    "hub.created": ("created the hub", None),
    "hub.updated": ("updated its settings", None),
    "widget.created": ("added", "widget"),
    "widget.updated": ("changed", "widget"),
    "widget.deleted": ("removed", "widget"),
    "help.resolved": ("resolved", "call for help"),
    "user.role.added": ("gave a role to", "person"),
    "user.role.changed": ("changed the role of", "person"),
    "user.role.removed": ("took a role from", "person"),
    "hub.join.requested": ("asked to join", None),
    "hub.join.answered": ("answered the request of", "person"),
}
# A run of one kind of widget change reads on its own.
_ONE_KIND = {"widget.updated": "changed {} of", "widget.created": "added {} to",
             "widget.deleted": "removed {} from"}  # fmt: skip


def _counted(count: int, noun: str) -> str:
    if noun == "person":
        return "1 person" if count == 1 else f"{count} people"
    plural = "calls for help" if noun == "call for help" else f"{noun}s"
    return f"{count} {noun if count == 1 else plural}"


def describe_edits(agent: str, hub: dict, events: dict[str, int], widgets: int = 0) -> str:
    """One sentence for consecutive hubs changes by ``agent`` to one hub (``hub``: its
    hub_name and hub_type), ``events`` counting them by event ("widget.updated": 9), of
    ``widgets`` different widgets: "nirik changed 9 widgets of the infrastructure team
    hub", "nirik changed 2 widgets of the design team hub (5 changes)"."""
    total = sum(events.values())
    if len(events) == 1 and next(iter(events)) in _ONE_KIND:
        (event,) = events
        widgets = widgets or total
        changes = "" if widgets == total else f" ({total} changes)"
        phrase = _ONE_KIND[event].format(_counted(widgets, "widget"))
        return f"{agent} {phrase} {_hub(hub)}{changes}"
    parts = []
    for event, (verb, noun) in _EDIT_PHRASES.items():
        count = events.get(event, 0)
        if count and noun:
            parts.append(f"{verb} {_counted(count, noun)}")
        elif count:
            parts.append(verb if count == 1 else f"{verb} {count} times")
    others = total - sum(events.get(event, 0) for event in _EDIT_PHRASES)
    if others:
        parts.append(f"made {_counted(others, 'other change')}")
    listed = ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]
    return f"{agent} made {total} changes to {_hub(hub)}: {listed}"


def hub_link(topic: str, body: dict) -> str:
    """Where a hubs message points: the hub, or the new user's hub."""
    if _event(topic) == "user.created" and body.get("username"):
        return f"{SITE}/u/{body['username']}/"
    return body.get("hub_url") or ""


def people(body: dict) -> set[str]:
    """The accounts a hubs message is about: the person acted on and the one acting."""
    return {body[key] for key in ("username", "agent") if isinstance(body.get(key), str)}


class HubsProcessor(BaseProcessor):
    __name__ = "hubs"
    __description__ = "Fedora Hubs"
    __link__ = SITE
    __docs__ = SITE
    __obj__ = "Hub changes"
    __icon__ = f"{SITE}/static/favicon.svg"

    def subtitle(self, msg, **config):
        return describe(msg["topic"], msg.get("msg") or {})

    def link(self, msg, **config):
        return hub_link(msg["topic"], msg.get("msg") or {})

    def usernames(self, msg, **config):
        return people(msg.get("msg") or {})

    def agent(self, msg, **config):
        body = msg.get("msg") or {}
        return body.get("agent") or body.get("username")

    def objects(self, msg, **config):
        body = msg.get("msg") or {}
        objects = set()
        if body.get("hub_name"):
            objects.add(f"hubs/{body.get('hub_type', 'team')}/{body['hub_name']}")
        if body.get("widget_id") is not None:
            objects.add(f"widgets/{body['widget_id']}")
        return objects
