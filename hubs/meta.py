"""fedmsg.meta processor for hubs' own messages, so feeds can show them.

Registered under the ``fedmsg.meta`` entry point in setup.py. Message fields (all
optional but topic-specific ones): hub_id, hub_name, hub_type, hub_url, username,
agent, role, old_role, changed_keys, widget_id, widget_label.
"""

from __future__ import annotations

from fedmsg.meta.base import BaseProcessor


def _hub(msg: dict) -> str:
    kind = "team" if msg.get("hub_type") == "team" else "user"
    return f"the {msg.get('hub_name', '?')} {kind} hub"


class HubsProcessor(BaseProcessor):
    __name__ = "hubs"
    __description__ = "Fedora Hubs"
    __link__ = "https://hubs.fedoraproject.org"
    __docs__ = "https://hubs.fedoraproject.org"
    __obj__ = "Hub changes"
    __icon__ = "https://hubs.fedoraproject.org/static/favicon.svg"

    def _event(self, msg: dict) -> str:
        return msg["topic"].split(".hubs.", 1)[-1]

    def subtitle(self, msg, **config):
        body = msg.get("msg") or {}
        event = self._event(msg)
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
        }
        return subtitles.get(event, f"{agent} did something on {_hub(body)}")

    def link(self, msg, **config):
        body = msg.get("msg") or {}
        base = body.get("hub_url") or ""
        if self._event(msg) == "user.created" and body.get("username"):
            return f"{self.__link__}/u/{body['username']}/"
        return base

    def usernames(self, msg, **config):
        body = msg.get("msg") or {}
        return {body[key] for key in ("username", "agent") if isinstance(body.get(key), str)}

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
