"""A hub's history: the state each revision keeps, the sentence telling each change,
the difference of two states, and the layout document that export and import
exchange. ``hubs.changes`` records the revisions and applies restores and imports;
this module only reads and describes."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hubs.i18n import DEFAULT_LOCALE, _, force_locale, ngettext
from hubs.meta import role_name
from hubs.models import MAX_LEFT_WIDTH, MIN_LEFT_WIDTH, Column, Hub, HubRevision, Widget
from hubs.widgets import get_widget_type
from hubs.widgets.base import TITLE, InvalidConfig

# What a layout document says it is, and the version of its shape.
SCHEMA = "fedora-hubs/layout"
SCHEMA_VERSION = 1


# -- the state a revision keeps ----------------------------------------------------------


def widget_state(widget: Widget) -> dict[str, Any]:
    """A widget as a revision keeps it: its config with the defaults filled in, so two
    states compare equal whatever the stored config left out."""
    widget_type = get_widget_type(widget.plugin)
    config = widget_type.config_of(widget) if widget_type else dict(widget.config or {})
    return {
        "id": widget.id,
        "plugin": widget.plugin,
        "column": widget.column.value,
        "position": widget.position,
        "config": config,
        "title": widget.title,
    }


def hub_state(settings: Mapping[str, Any], widgets: Iterable[Widget]) -> dict[str, Any]:
    """The settings and widgets of a hub (widgets in page order), as JSON."""
    ordered = sorted(widgets, key=lambda w: (w.column.value, w.position, w.id))
    return {"settings": dict(settings), "widgets": [widget_state(w) for w in ordered]}


def columns_of(state: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Each column's widgets, top to bottom, as plugin, config and title when it has its
    own (no ids)."""
    columns: dict[str, list[dict[str, Any]]] = {column.value: [] for column in Column}
    ordered = sorted(state["widgets"], key=lambda w: (w["column"], w["position"], w["id"]))
    for widget in ordered:
        item = {"plugin": widget["plugin"], "config": widget["config"]}
        if widget.get("title"):  # revisions kept before titles existed have none
            item["title"] = widget["title"]
        columns[widget["column"]].append(item)
    return columns


def look_of(state: Mapping[str, Any]) -> dict[str, Any]:
    """What a visitor sees of a state: its settings and its columns. Two states that
    look the same are equal, whatever ids their widgets have."""
    return {"settings": dict(state["settings"]), "columns": columns_of(state)}


def layout_document(state: Mapping[str, Any]) -> dict[str, Any]:
    """The export of a state: the layout (left column's width, each column's widgets and
    their configs), with no memberships, settings text or ids."""
    return {
        "schema": SCHEMA,
        "version": SCHEMA_VERSION,
        "left_width": state["settings"]["left_width"],
        "columns": columns_of(state),
    }


def add_revision(
    session: Session,
    hub: Hub,
    agent: str,
    kind: str,
    sentence: Event | str,
    state: dict,
    keep: int,
) -> HubRevision:
    """Record a revision of ``hub`` in the session's transaction (``sentence``: its event,
    or a sentence told once and for all), then forget the oldest beyond the ``keep``
    newest, except the hub's first."""
    event = None if isinstance(sentence, str) else dict(sentence)
    told = sentence if isinstance(sentence, str) else english(sentence)
    revision = HubRevision(
        hub_id=hub.id, agent=agent, kind=kind, sentence=told, event=event, state=state
    )
    session.add(revision)
    session.flush()
    of_hub = HubRevision.hub_id == hub.id
    oldest_kept = (
        sa.select(HubRevision.id)
        .where(of_hub)
        .order_by(HubRevision.id.desc())
        .offset(max(keep, 1) - 1)
        .limit(1)
        .scalar_subquery()
    )
    first = sa.select(sa.func.min(HubRevision.id)).where(of_hub).scalar_subquery()
    session.execute(
        sa.delete(HubRevision).where(of_hub, HubRevision.id < oldest_kept, HubRevision.id > first)
    )
    return revision


def revisions_page_query(hub: Hub) -> sa.Select:
    """A hub's revisions, newest first, each with how many the hub has (one query)."""
    return (
        sa.select(HubRevision, sa.func.count().over().label("total"))
        .where(HubRevision.hub_id == hub.id)
        .order_by(HubRevision.id.desc())
    )


# -- sentences ---------------------------------------------------------------------------
#
# A revision keeps its change as an event (what was done, and to what: JSON) to tell it
# in each reader's language, and the English sentence, which rows older than events
# have alone.

Event = dict[str, Any]


def widget_label(plugin: str) -> str:
    widget_type = get_widget_type(plugin)
    return str(widget_type.title) if widget_type else plugin


def line_changes(old: str, new: str) -> tuple[int, int]:
    """Lines added and removed from ``old`` to ``new``."""
    added = removed = 0
    for line in difflib.ndiff(old.splitlines(), new.splitlines()):
        added += line.startswith("+ ")
        removed += line.startswith("- ")
    return added, removed


def config_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The settings changed in a config, by name, a text's added and removed lines with it."""
    changed = sorted(key for key in set(old) | set(new) if old.get(key) != new.get(key))
    changes = []
    for key in changed:
        before, after = old.get(key), new.get(key)
        if isinstance(before, str) and isinstance(after, str):
            added, removed = line_changes(before, after)
            changes.append({"name": key, "added": added, "removed": removed})
        else:
            changes.append({"name": key})
    return changes


def config_summary(changes: list[Mapping[str, Any]]) -> str:
    """What changed in a config: "+2 lines -1" (added, removed) for one text, else the names
    of the settings, a text's line counts beside it."""
    parts = []
    for change in changes:
        if "added" not in change:
            parts.append(change["name"])
            continue
        counts = ngettext(
            "+%(num)d line \N{MINUS SIGN}%(removed)d",
            "+%(num)d lines \N{MINUS SIGN}%(removed)d",
            change["added"],
            removed=change["removed"],
        )
        parts.append(
            counts
            if len(changes) == 1
            else _("%(name)s (%(counts)s)", name=change["name"], counts=counts)
        )
    return _(", ").join(parts)


def created_sentence(agent: str, like: str | None = None) -> Event:
    return {"said": "created", "agent": agent, "like": like}


def settings_sentence(agent: str, changed: Iterable[str]) -> Event:
    return {"said": "settings", "agent": agent, "changed": list(changed)}


def added_sentence(agent: str, plugin: str, column: Column) -> Event:
    return {"said": "added", "agent": agent, "plugin": plugin, "column": column.value}


def removed_sentence(agent: str, plugin: str, column: Column) -> Event:
    return {"said": "removed", "agent": agent, "plugin": plugin, "column": column.value}


def configured_sentence(agent: str, plugin: str, old: Mapping, new: Mapping) -> Event:
    return {
        "said": "configured",
        "agent": agent,
        "plugin": plugin,
        "changes": config_changes(old, new),
    }


def moved_sentence(
    agent: str, plugin: str, was: tuple[Column, int], now: tuple[Column, int]
) -> Event:
    if was[0] != now[0]:
        direction = "across"
    else:
        direction = "up" if now[1] < was[1] else "down"
    return {
        "said": "moved",
        "agent": agent,
        "plugin": plugin,
        "column": now[0].value,
        "direction": direction,
    }


def role_sentence(agent: str, username: str, role: str, old_role: str | None = None) -> Event:
    """A role given (or changed, from ``old_role``)."""
    return {
        "said": "role",
        "agent": agent,
        "username": username,
        "role": role,
        "old_role": old_role,
    }


def unrole_sentence(agent: str, username: str, role: str) -> Event:
    """A role taken away (or given up)."""
    return {"said": "unrole", "agent": agent, "username": username, "role": role}


# A hub's first revision when it was made before revisions were kept.
BASELINE_SENTENCE: Event = {"said": "baseline"}


def restored_sentence(agent: str, revision: HubRevision) -> Event:
    return {
        "said": "restored",
        "agent": agent,
        "revision": revision.id,
        "was": revision.event,
        "sentence": revision.sentence,
    }


def imported_sentence(agent: str, widgets: int) -> Event:
    return {"said": "imported", "agent": agent, "widgets": widgets}


def defaults_sentence(agent: str) -> Event:
    return {"said": "defaults", "agent": agent}


def _column_sentence(event: Mapping[str, Any], widget: str) -> str:
    """An added, removed or moved widget: whole sentences for each column, so that a
    translation can name the column as its grammar wants."""
    said, left = event["said"], event["column"] == Column.left.value
    fields = {"agent": event["agent"], "widget": widget}
    if said == "added":
        if left:
            return _("%(agent)s added %(widget)s to the left column", **fields)
        return _("%(agent)s added %(widget)s to the right column", **fields)
    if said == "removed":
        if left:
            return _("%(agent)s removed %(widget)s from the left column", **fields)
        return _("%(agent)s removed %(widget)s from the right column", **fields)
    if event["direction"] == "across":
        if left:
            return _("%(agent)s moved %(widget)s to the left column", **fields)
        return _("%(agent)s moved %(widget)s to the right column", **fields)
    if event["direction"] == "up":
        if left:
            return _("%(agent)s moved %(widget)s up in the left column", **fields)
        return _("%(agent)s moved %(widget)s up in the right column", **fields)
    if left:
        return _("%(agent)s moved %(widget)s down in the left column", **fields)
    return _("%(agent)s moved %(widget)s down in the right column", **fields)


def _role_sentence(event: Mapping[str, Any]) -> str:
    agent, username, role = event["agent"], event["username"], event["role"]
    if agent == username and role == "subscriber":
        return _("%(agent)s subscribed", agent=agent)
    if agent == username and role == "stargazer":
        return _("%(agent)s starred the hub", agent=agent)
    fields = {"agent": agent, "username": username, "role": role_name(role)}
    if event.get("old_role") is not None:
        return _(
            "%(agent)s changed %(username)s's role from %(old_role)s to %(role)s",
            old_role=role_name(event["old_role"]),
            **fields,
        )
    return _("%(agent)s made %(username)s %(role)s", **fields)


def _unrole_sentence(event: Mapping[str, Any]) -> str:
    agent, username, role = event["agent"], event["username"], event["role"]
    if agent == username and role == "subscriber":
        return _("%(agent)s unsubscribed", agent=agent)
    if agent == username and role == "stargazer":
        return _("%(agent)s unstarred the hub", agent=agent)
    if agent == username:
        return _("%(agent)s left (%(role)s)", agent=agent, role=role_name(role))
    return _(
        "%(agent)s removed %(username)s (%(role)s)",
        agent=agent,
        username=username,
        role=role_name(role),
    )


def tell(event: Mapping[str, Any]) -> str:
    """A revision's event as a sentence in the reader's language."""
    said, agent = event["said"], event.get("agent")
    if said == "baseline":
        return _("The hub as it was when its history began")
    if said == "created" and event.get("like"):
        return _("%(agent)s created the hub like %(like)s", agent=agent, like=event["like"])
    if said == "created":
        return _("%(agent)s created the hub", agent=agent)
    if said == "settings":
        changed = _(", ").join(name.replace("_", " ") for name in event["changed"])
        return _("%(agent)s changed the settings: %(changed)s", agent=agent, changed=changed)
    if said in ("added", "removed", "moved"):
        return _column_sentence(event, widget_label(event["plugin"]))
    if said == "configured":
        return _(
            "%(agent)s changed the %(widget)s widget: %(changes)s",
            agent=agent,
            widget=widget_label(event["plugin"]),
            changes=config_summary(event["changes"]),
        )
    if said == "role":
        return _role_sentence(event)
    if said == "unrole":
        return _unrole_sentence(event)
    if said == "restored":
        was = tell(event["was"]) if event.get("was") else event["sentence"]
        return _(
            "%(agent)s restored revision %(revision)d (%(sentence)s)",
            agent=agent,
            revision=event["revision"],
            sentence=was,
        )
    if said == "imported":
        return ngettext(
            "%(agent)s imported a layout of %(num)d widget",
            "%(agent)s imported a layout of %(num)d widgets",
            event["widgets"],
            agent=agent,
        )
    return _("%(agent)s restored the default widgets", agent=agent)


def english(event: Mapping[str, Any]) -> str:
    """An event's sentence in English: what a revision keeps beside it."""
    with force_locale(DEFAULT_LOCALE):
        return tell(event)


def revision_sentence(revision: HubRevision) -> str:
    """What a revision did, in the reader's language when it kept its event, else its
    stored English sentence."""
    return tell(revision.event) if revision.event else revision.sentence


# -- differences -------------------------------------------------------------------------


@dataclass(frozen=True)
class ValueChange:
    """One setting, as it was and as it is: a text's lines as a unified diff."""

    name: str
    old: Any
    new: Any

    @property
    def lines(self) -> list[str]:
        if isinstance(self.old, str) and isinstance(self.new, str):
            lines = difflib.unified_diff(self.old.splitlines(), self.new.splitlines(), lineterm="")
            return [line for line in list(lines)[2:] if not line.startswith("@@")]
        return [f"-{self.old!r}", f"+{self.new!r}"]


@dataclass(frozen=True)
class WidgetChange:
    """One widget from a revision to now: "added", "removed", "moved", "changed" (its
    config, and maybe its place) or "same"."""

    widget_id: int
    label: str
    status: str
    then: tuple[str, int] | None
    now: tuple[str, int] | None
    config: list[ValueChange] = field(default_factory=list)


@dataclass(frozen=True)
class StateDiff:
    settings: list[ValueChange]
    widgets: list[WidgetChange]

    @property
    def empty(self) -> bool:
        return not self.settings and all(w.status == "same" for w in self.widgets)


def _value_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[ValueChange]:
    return [
        ValueChange(key, old.get(key), new.get(key))
        for key in sorted(set(old) | set(new))
        if old.get(key) != new.get(key)
    ]


def diff_states(then: Mapping[str, Any], now: Mapping[str, Any]) -> StateDiff:
    """How ``now`` differs from ``then``: settings, and each widget matched by id."""
    old = {w["id"]: w for w in then["widgets"]}
    new = {w["id"]: w for w in now["widgets"]}
    changes = []
    for widget_id in [*old, *(i for i in new if i not in old)]:
        before, after = old.get(widget_id), new.get(widget_id)
        place_then = (before["column"], before["position"]) if before else None
        place_now = (after["column"], after["position"]) if after else None
        label = widget_label((after or before)["plugin"])
        if before is None:
            changes.append(WidgetChange(widget_id, label, "added", None, place_now))
        elif after is None or after["plugin"] != before["plugin"]:
            changes.append(WidgetChange(widget_id, label, "removed", place_then, None))
        else:
            config = _value_changes(before["config"], after["config"])
            if before.get("title") != after.get("title"):
                config.append(ValueChange(TITLE.name, before.get("title"), after.get("title")))
            status = "changed" if config else ("moved" if place_then != place_now else "same")
            changes.append(WidgetChange(widget_id, label, status, place_then, place_now, config))
    return StateDiff(_value_changes(then["settings"], now["settings"]), changes)


# -- reading a layout document -----------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """A checked layout: the left column's width, and widgets in page order, each a
    (plugin, column, clean config, own title or None)."""

    left_width: int
    widgets: list[tuple[str, Column, dict[str, Any], str | None]]


def read_layout(document: Any, hub_type: str, max_widgets: int) -> Layout:
    """The layout ``document`` describes for a hub of ``hub_type``, each widget's config
    checked by its own validators; InvalidConfig listing every problem (by where it is
    in the document) when any is found."""
    errors: dict[str, str] = {}
    if not isinstance(document, Mapping):
        raise InvalidConfig({"document": "must be a JSON object, as the export gives"})
    for key in document:
        if key not in ("schema", "version", "left_width", "columns"):
            errors[str(key)[:100]] = "is not part of a layout document"
    if document.get("schema") != SCHEMA:
        errors["schema"] = f"must be {SCHEMA!r}"
    version = document.get("version")
    if type(version) is not int or version != SCHEMA_VERSION:
        errors["version"] = f"must be {SCHEMA_VERSION}: this is the only version Hubs reads"
    left_width = document.get("left_width")
    if type(left_width) is not int or not MIN_LEFT_WIDTH <= left_width <= MAX_LEFT_WIDTH:
        errors["left_width"] = f"must be a whole number from {MIN_LEFT_WIDTH} to {MAX_LEFT_WIDTH}"
    columns = document.get("columns")
    widgets: list[tuple[str, Column, dict[str, Any], str | None]] = []
    if not isinstance(columns, Mapping):
        errors["columns"] = "must be an object of the left and right columns' widgets"
        columns = {}
    for key in columns:
        if key not in (column.value for column in Column):
            errors[f"columns.{str(key)[:100]}"] = "is not a column: there are left and right"
    for column in Column:
        listed = columns.get(column.value, [])
        if not isinstance(listed, list):
            errors[f"columns.{column.value}"] = "must be a list of widgets"
            continue
        for index, item in enumerate(listed[: max_widgets + 1]):
            where = f"columns.{column.value}[{index}]"
            read = _read_widget(item, hub_type, where, errors)
            if read is not None:
                plugin, config, title = read
                widgets.append((plugin, column, config, title))
    count = sum(len(v) for v in columns.values() if isinstance(v, list))
    if count > max_widgets:
        errors["columns"] = f"a hub holds at most {max_widgets} widgets; this has {count}"
    if errors:
        raise InvalidConfig(errors)
    return Layout(left_width, widgets)


def _read_widget(item: Any, hub_type: str, where: str, errors: dict[str, str]):
    if not isinstance(item, Mapping) or set(item) - {"plugin", "config", "title"}:
        errors[where] = 'must be an object with "plugin", "config" and maybe "title"'
        return None
    plugin = item.get("plugin")
    widget_type = get_widget_type(plugin) if isinstance(plugin, str) else None
    if widget_type is None:
        errors[f"{where}.plugin"] = f"there is no widget named {str(plugin)[:100]!r}"
        return None
    if not widget_type.fits(hub_type):
        errors[f"{where}.plugin"] = widget_type.fit_for
        return None
    title = None
    try:
        title = TITLE.validator(item.get("title", "")) or None
    except ValueError as error:
        errors[f"{where}.title"] = str(error)
    try:
        config = widget_type.validate_config(item.get("config", {}))
    except InvalidConfig as error:
        for name, message in error.errors.items():
            errors[f"{where}.config.{str(name)[:100]}"] = message
        return None
    return plugin, config, title
