"""The hint index: from a bus message to the few widgets it may concern.

Built at start-up from every widget's hints (see hubs.widgets.base.Hints), then kept up
to date from hubs' own messages: a widget created, changed or deleted, a role changed.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from hubs.messages import body, topic_suffix
from hubs.models import Widget
from hubs.widgets.base import Hints, WidgetType

log = logging.getLogger(__name__)


@dataclass
class Entry:
    """What the index knows of one widget."""

    widget_id: int
    hub_id: int
    plugin: str
    config: dict[str, Any]
    hints: Hints
    usernames: frozenset[str] = frozenset()
    packages: frozenset[str] = frozenset()
    keys: frozenset[str] = frozenset()

    @property
    def conditional(self) -> bool:
        """Offered only for messages involving its usernames, packages or keys."""
        hints = self.hints
        return hints.usernames is not None or hints.packages is not None or hints.keys is not None


@dataclass
class HintIndex:
    registry: Mapping[str, WidgetType]
    entries: dict[int, Entry] = field(default_factory=dict)
    _by_topic: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    _by_category: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    _by_hub_topic: dict[tuple[int, str], set[int]] = field(default_factory=lambda: defaultdict(set))
    _by_user: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    _by_package: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    _by_key: dict[tuple[str, str], set[int]] = field(default_factory=lambda: defaultdict(set))
    # The widget types with keys hints, and those hints.
    _keyed_types: dict[str, Hints] = field(init=False)

    def __post_init__(self) -> None:
        self._keyed_types = {
            name: widget_type.hints
            for name, widget_type in self.registry.items()
            if widget_type.hints.keys is not None
        }

    def build(self, session: Session) -> int:
        """Index every widget of the database; returns how many."""
        widgets = session.scalars(sa.select(Widget).options(joinedload(Widget.hub))).all()
        for widget in widgets:
            self.add(session, widget)
        return len(self.entries)

    def add(self, session: Session, widget: Widget) -> Entry | None:
        """Index ``widget`` (again, if it was): its hints, users and packages as of now."""
        self.remove(widget.id)
        widget_type = self.registry.get(widget.plugin)
        if widget_type is None:
            return None
        hints = widget_type.hints
        entry = Entry(widget.id, widget.hub_id, widget.plugin, dict(widget.config or {}), hints)
        try:
            if hints.usernames is not None:
                entry.usernames = frozenset(hints.usernames(session, widget))
            if hints.packages is not None:
                entry.packages = frozenset(hints.packages(session, widget))
            if hints.keys is not None:
                entry.keys = frozenset(hints.keys(session, widget))
        except Exception:
            log.exception("Hints of widget %r failed; it is not indexed", widget)
            return None
        self.entries[widget.id] = entry
        for key, index in self._keys(entry):
            index[key].add(widget.id)
        return entry

    def remove(self, widget_id: int) -> Entry | None:
        entry = self.entries.pop(widget_id, None)
        if entry is not None:
            for key, index in self._keys(entry):
                index[key].discard(widget_id)
                if not index[key]:
                    del index[key]
        return entry

    def reindex_hub(self, session: Session, hub_id: int) -> list[int]:
        """Index the widgets of one hub again (it is new, or its people changed);
        returns their ids."""
        widgets = session.scalars(
            sa.select(Widget).where(Widget.hub_id == hub_id).options(joinedload(Widget.hub))
        ).all()
        for widget in widgets:
            self.add(session, widget)
        return [widget.id for widget in widgets]

    def involving(self, usernames: Iterable[str]) -> set[int]:
        """The widgets about any of ``usernames`` (their feeds, stats, activity...): those
        to rebuild when their history is added to the store."""
        found: set[int] = set()
        for user in usernames:
            found |= self._by_user.get(user, set())
        return found

    def _keys(self, entry: Entry) -> Iterable[tuple[Any, dict]]:
        hints = entry.hints
        if entry.conditional:
            yield from ((user, self._by_user) for user in entry.usernames)
            yield from ((package, self._by_package) for package in entry.packages)
            yield from (((entry.plugin, key), self._by_key) for key in entry.keys)
        elif hints.own_hub:
            yield from (((entry.hub_id, topic), self._by_hub_topic) for topic in hints.topics)
        else:
            yield from ((topic, self._by_topic) for topic in hints.topics)
            yield from ((category, self._by_category) for category in hints.categories)

    def candidates(
        self, message: dict[str, Any], usernames: Iterable[str], packages: Iterable[str]
    ) -> set[int]:
        """The ids of the widgets whose hints match ``message``."""
        suffix = topic_suffix(str(message.get("topic", "")))
        category = suffix.split(".", 1)[0]
        found = set(self._by_topic.get(suffix, ())) | self._by_category.get(category, set())
        hub_id = body(message).get("hub_id") if suffix.startswith("hubs.") else None
        if isinstance(hub_id, int):
            found |= self._by_hub_topic.get((hub_id, suffix), set())
        involved: set[int] = set()
        for user in usernames:
            involved |= self._by_user.get(user, set())
        for package in packages:
            involved |= self._by_package.get(package, set())
        found.update(
            widget_id
            for widget_id in involved
            if self.entries[widget_id].hints.matches_topic(suffix, category)
        )
        for plugin, hints in self._keyed_types.items():
            if hints.matches_topic(suffix, category):
                for key in hints.message_keys(message):
                    found |= self._by_key.get((plugin, key), set())
        return found
