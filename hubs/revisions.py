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
    session: Session, hub: Hub, agent: str, kind: str, sentence: str, state: dict, keep: int
) -> HubRevision:
    """Record a revision of ``hub`` in the session's transaction, then forget the oldest
    beyond the ``keep`` newest, except the hub's first."""
    revision = HubRevision(hub_id=hub.id, agent=agent, kind=kind, sentence=sentence, state=state)
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


def widget_label(plugin: str) -> str:
    widget_type = get_widget_type(plugin)
    return widget_type.title if widget_type else plugin


def _lines(count: int) -> str:
    return f"{count} line" if count == 1 else f"{count} lines"


def line_changes(old: str, new: str) -> tuple[int, int]:
    """Lines added and removed from ``old`` to ``new``."""
    added = removed = 0
    for line in difflib.ndiff(old.splitlines(), new.splitlines()):
        added += line.startswith("+ ")
        removed += line.startswith("- ")
    return added, removed


def config_summary(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """What changed in a config: "+2 lines -1" (added, removed) for one text, else the names of the
    settings, a text's line counts beside it."""
    changed = sorted(key for key in set(old) | set(new) if old.get(key) != new.get(key))
    parts = []
    for key in changed:
        before, after = old.get(key), new.get(key)
        if isinstance(before, str) and isinstance(after, str):
            added, removed = line_changes(before, after)
            counts = f"+{_lines(added)} \N{MINUS SIGN}{removed}"
            parts.append(counts if len(changed) == 1 else f"{key} ({counts})")
        else:
            parts.append(key)
    return ", ".join(parts)


def created_sentence(agent: str, like: str | None = None) -> str:
    return f"{agent} created the hub" + (f" like {like}" if like else "")


def settings_sentence(agent: str, changed: Iterable[str]) -> str:
    return f"{agent} changed the settings: {', '.join(changed).replace('_', ' ')}"


def added_sentence(agent: str, plugin: str, column: Column) -> str:
    return f"{agent} added {widget_label(plugin)} to the {column.value} column"


def removed_sentence(agent: str, plugin: str, column: Column) -> str:
    return f"{agent} removed {widget_label(plugin)} from the {column.value} column"


def configured_sentence(agent: str, plugin: str, old: Mapping, new: Mapping) -> str:
    return f"{agent} changed the {widget_label(plugin)} widget: {config_summary(old, new)}"


def moved_sentence(agent: str, plugin: str, was: tuple[Column, int], now: tuple[Column, int]):
    label = widget_label(plugin)
    if was[0] != now[0]:
        return f"{agent} moved {label} to the {now[0].value} column"
    direction = "up" if now[1] < was[1] else "down"
    return f"{agent} moved {label} {direction} in the {now[0].value} column"


def role_sentence(agent: str, username: str, role: str, old_role: str | None = None) -> str:
    """A role given (or changed, from ``old_role``)."""
    if agent == username and role == "subscriber":
        return f"{agent} subscribed"
    if agent == username and role == "stargazer":
        return f"{agent} starred the hub"
    if old_role is not None:
        return f"{agent} changed {username}'s role from {old_role} to {role}"
    return f"{agent} made {username} {role}"


def unrole_sentence(agent: str, username: str, role: str) -> str:
    """A role taken away (or given up)."""
    if agent == username:
        verbs = {"subscriber": "unsubscribed", "stargazer": "unstarred the hub"}
        return f"{agent} {verbs.get(role, f'left ({role})')}"
    return f"{agent} removed {username} ({role})"


# A hub's first revision when it was made before revisions were kept.
BASELINE_SENTENCE = "The hub as it was when its history began"


def restored_sentence(agent: str, revision: HubRevision) -> str:
    return f"{agent} restored revision {revision.id} ({revision.sentence})"


def imported_sentence(agent: str, widgets: int) -> str:
    return f"{agent} imported a layout of {widgets} widget{'s' if widgets != 1 else ''}"


def defaults_sentence(agent: str) -> str:
    return f"{agent} restored the default widgets"


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
