"""fedmsg.meta processor for hubs' own messages, so feeds can show them, and the
sentences telling them in the reader's language.

Registered under the ``fedmsg.meta`` entry point in setup.py. Message fields (all
optional but topic-specific ones): hub_id, hub_name, hub_type, hub_url, username,
agent, role, old_role, changed_keys, widget_id, widget_label.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fedmsg.meta.base import BaseProcessor

from hubs.i18n import DEFAULT_LOCALE, _, force_locale, ngettext
from hubs.messages import topic_suffix

SITE = "https://hubs.fedoraproject.org"

# The body fields a sentence reads: what an entry keeps to tell it again in any language.
SENTENCE_FIELDS = (
    "hub_name",
    "hub_type",
    "username",
    "agent",
    "role",
    "old_role",
    "changed_keys",
    "widget_label",
    "channel",
    "approved",
)


def N_(msgid: str) -> str:
    """Marks ``msgid`` for extraction; it is translated where it is used."""
    return msgid


def _event(topic: str) -> str:
    return topic_suffix(topic).removeprefix("hubs.")


def _is_team(msg: Mapping[str, Any]) -> bool:
    return msg.get("hub_type") == "team"


# The roles a hubs message names, as the reader's language says them.
_ROLES = {
    "owner": N_("owner"),
    "member": N_("member"),
    "subscriber": N_("subscriber"),
    "stargazer": N_("stargazer"),
}


def role_name(role: Any, default: str = "?") -> str:
    """A role as the reader's language names it; ``default`` (a msgid) when there is none."""
    if not role:
        return _(default)
    return _(_ROLES[role]) if isinstance(role, str) and role in _ROLES else str(role)


# Each hubs event's sentence about a team hub and about a user hub: whole sentences, so
# that a translation can put the hub's name where its grammar wants it.
_SENTENCES: dict[str, tuple[str, str]] = {
    "hub.created": (
        N_("%(agent)s created the %(hub)s team hub"),
        N_("%(agent)s created the %(hub)s user hub"),
    ),
    "hub.updated": (
        N_("%(agent)s updated the settings of the %(hub)s team hub"),
        N_("%(agent)s updated the settings of the %(hub)s user hub"),
    ),
    "hub.updated+keys": (
        N_("%(agent)s updated the settings of the %(hub)s team hub (%(keys)s)"),
        N_("%(agent)s updated the settings of the %(hub)s user hub (%(keys)s)"),
    ),
    "widget.created": (
        N_("%(agent)s added %(widget)s to the %(hub)s team hub"),
        N_("%(agent)s added %(widget)s to the %(hub)s user hub"),
    ),
    "widget.updated": (
        N_("%(agent)s changed %(widget)s on the %(hub)s team hub"),
        N_("%(agent)s changed %(widget)s on the %(hub)s user hub"),
    ),
    "widget.deleted": (
        N_("%(agent)s removed %(widget)s from the %(hub)s team hub"),
        N_("%(agent)s removed %(widget)s from the %(hub)s user hub"),
    ),
    "help.resolved": (
        N_("%(agent)s marked a call for help in %(channel)s as resolved on the %(hub)s team hub"),
        N_("%(agent)s marked a call for help in %(channel)s as resolved on the %(hub)s user hub"),
    ),
    "user.role.added": (
        N_("%(agent)s made %(username)s %(role)s of the %(hub)s team hub"),
        N_("%(agent)s made %(username)s %(role)s of the %(hub)s user hub"),
    ),
    "user.role.changed": (
        N_(
            "%(agent)s changed %(username)s's role in the %(hub)s team hub "
            "from %(old_role)s to %(role)s"
        ),
        N_(
            "%(agent)s changed %(username)s's role in the %(hub)s user hub "
            "from %(old_role)s to %(role)s"
        ),
    ),
    "user.role.removed": (
        N_("%(agent)s removed %(username)s (%(old_role)s) from the %(hub)s team hub"),
        N_("%(agent)s removed %(username)s (%(old_role)s) from the %(hub)s user hub"),
    ),
    "hub.join.requested": (
        N_("%(username)s asked to join the %(hub)s team hub"),
        N_("%(username)s asked to join the %(hub)s user hub"),
    ),
    "hub.join.answered+approved": (
        N_("%(agent)s approved %(username)s's request to join the %(hub)s team hub"),
        N_("%(agent)s approved %(username)s's request to join the %(hub)s user hub"),
    ),
    "hub.join.answered+declined": (
        N_("%(agent)s declined %(username)s's request to join the %(hub)s team hub"),
        N_("%(agent)s declined %(username)s's request to join the %(hub)s user hub"),
    ),
    "other": (
        N_("%(agent)s did something on the %(hub)s team hub"),
        N_("%(agent)s did something on the %(hub)s user hub"),
    ),
}


def _sentence_key(event: str, body: Mapping[str, Any]) -> str:
    if event == "hub.updated" and body.get("changed_keys"):
        return "hub.updated+keys"
    if event == "hub.join.answered":
        return f"hub.join.answered+{'approved' if body.get('approved') else 'declined'}"
    return event if event in _SENTENCES else "other"


def sentence_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    """What of a hubs message's body its sentence reads (to keep it small where stored)."""
    return {key: body[key] for key in SENTENCE_FIELDS if key in body}


def describe(topic: str, body: Mapping[str, Any]) -> str:
    """One sentence for a hubs message of ``topic`` with fields ``body``, in the
    reader's language."""
    event = _event(topic)
    if event == "user.created":
        return _("%(username)s joined Fedora Hubs", username=body.get("username") or _("someone"))
    agent = body.get("agent") or body.get("username") or _("someone")
    keys = body.get("changed_keys")
    fields = {
        "agent": agent,
        "hub": body.get("hub_name", "?"),
        "username": body.get("username") or _("someone"),
        "widget": body.get("widget_label") or _("a widget"),
        "channel": body.get("channel") or _("a meeting"),
        "role": role_name(body.get("role"), N_("a member") if event == "user.role.added" else "?"),
        "old_role": role_name(body.get("old_role") or body.get("role"), N_("member"))
        if event == "user.role.removed"
        else role_name(body.get("old_role")),
        "keys": ", ".join(map(str, keys)) if isinstance(keys, list) else "",
    }
    team, user = _SENTENCES[_sentence_key(event, body)]
    return _(team if _is_team(body) else user, **fields)


def english_description(topic: str, body: Mapping[str, Any]) -> str:
    """:func:`describe` in English, for other consumers of the bus."""
    with force_locale(DEFAULT_LOCALE):
        return describe(topic, body)


def _one_kind(event: str, team: bool, widgets: int, **fields: Any) -> str:
    """A run of one kind of widget change: "nirik changed 9 widgets of the ... hub"."""
    if event == "widget.created" and team:
        return ngettext(
            "%(agent)s added %(num)d widget to the %(hub)s team hub",
            "%(agent)s added %(num)d widgets to the %(hub)s team hub",
            widgets,
            **fields,
        )
    if event == "widget.created":
        return ngettext(
            "%(agent)s added %(num)d widget to the %(hub)s user hub",
            "%(agent)s added %(num)d widgets to the %(hub)s user hub",
            widgets,
            **fields,
        )
    if event == "widget.deleted" and team:
        return ngettext(
            "%(agent)s removed %(num)d widget from the %(hub)s team hub",
            "%(agent)s removed %(num)d widgets from the %(hub)s team hub",
            widgets,
            **fields,
        )
    if event == "widget.deleted":
        return ngettext(
            "%(agent)s removed %(num)d widget from the %(hub)s user hub",
            "%(agent)s removed %(num)d widgets from the %(hub)s user hub",
            widgets,
            **fields,
        )
    if team:
        return ngettext(
            "%(agent)s changed %(num)d widget of the %(hub)s team hub",
            "%(agent)s changed %(num)d widgets of the %(hub)s team hub",
            widgets,
            **fields,
        )
    return ngettext(
        "%(agent)s changed %(num)d widget of the %(hub)s user hub",
        "%(agent)s changed %(num)d widgets of the %(hub)s user hub",
        widgets,
        **fields,
    )


def _edit_phrase(event: str, count: int) -> str:
    """What a run did ``count`` times of one ``event``, as a part of its sentence."""
    match event:
        case "hub.created":
            return ngettext("created the hub", "created the hub %(num)d times", count)
        case "hub.updated":
            return ngettext("updated its settings", "updated its settings %(num)d times", count)
        case "widget.created":
            return ngettext("added %(num)d widget", "added %(num)d widgets", count)
        case "widget.updated":
            return ngettext("changed %(num)d widget", "changed %(num)d widgets", count)
        case "widget.deleted":
            return ngettext("removed %(num)d widget", "removed %(num)d widgets", count)
        case "help.resolved":
            return ngettext(
                "resolved %(num)d call for help", "resolved %(num)d calls for help", count
            )
        case "user.role.added":
            return ngettext("gave a role to %(num)d person", "gave a role to %(num)d people", count)
        case "user.role.changed":
            return ngettext(
                "changed the role of %(num)d person", "changed the role of %(num)d people", count
            )
        case "user.role.removed":
            return ngettext(
                "took a role from %(num)d person", "took a role from %(num)d people", count
            )
        case "hub.join.requested":
            return ngettext("asked to join", "asked to join %(num)d times", count)
        case _:  # hub.join.answered
            return ngettext(
                "answered the request of %(num)d person",
                "answered the request of %(num)d people",
                count,
            )


# The order a run's parts are told in.
_EDIT_ORDER = (
    "hub.created",
    "hub.updated",
    "widget.created",
    "widget.updated",
    "widget.deleted",
    "help.resolved",
    "user.role.added",
    "user.role.changed",
    "user.role.removed",
    "hub.join.requested",
    "hub.join.answered",
)
_ONE_KIND = ("widget.updated", "widget.created", "widget.deleted")


def _listed(parts: list[str]) -> str:
    if len(parts) == 1:
        return parts[0]
    return _("%(items)s and %(last)s", items=_(", ").join(parts[:-1]), last=parts[-1])


def describe_edits(
    agent: str, hub: Mapping[str, Any], events: Mapping[str, int], widgets: int = 0
) -> str:
    """One sentence for consecutive hubs changes by ``agent`` to one hub (``hub``: its
    hub_name and hub_type), ``events`` counting them by event ("widget.updated": 9), of
    ``widgets`` different widgets: "nirik changed 9 widgets of the infrastructure team
    hub", "nirik changed 2 widgets of the design team hub (5 changes)"; in the reader's
    language."""
    total = sum(events.values())
    team = _is_team(hub)
    fields = {"agent": agent, "hub": hub.get("hub_name", "?")}
    if len(events) == 1 and next(iter(events)) in _ONE_KIND:
        (event,) = events
        widgets = widgets or total
        told = _one_kind(event, team, widgets, **fields)
        if widgets == total:
            return told
        changes = ngettext("%(num)d change", "%(num)d changes", total)
        return _("%(sentence)s (%(changes)s)", sentence=told, changes=changes)
    parts = [_edit_phrase(event, events[event]) for event in _EDIT_ORDER if events.get(event)]
    others = total - sum(events.get(event, 0) for event in _EDIT_ORDER)
    if others:
        parts.append(ngettext("made %(num)d other change", "made %(num)d other changes", others))
    listed = _listed(parts)
    if team:
        return ngettext(
            "%(agent)s made %(num)d change to the %(hub)s team hub: %(changes)s",
            "%(agent)s made %(num)d changes to the %(hub)s team hub: %(changes)s",
            total,
            changes=listed,
            **fields,
        )
    return ngettext(
        "%(agent)s made %(num)d change to the %(hub)s user hub: %(changes)s",
        "%(agent)s made %(num)d changes to the %(hub)s user hub: %(changes)s",
        total,
        changes=listed,
        **fields,
    )


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
        return english_description(msg["topic"], msg.get("msg") or {})

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
