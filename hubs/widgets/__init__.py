"""The widget registry: every widget Hubs offers, validated at import.

Adding a widget: write its module and template, then list the module here.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import import_module
from types import ModuleType

from hubs.widgets.base import WidgetContractError, WidgetType


def build_registry(modules: Iterable[ModuleType]) -> dict[str, WidgetType]:
    """Validate each widget module; raise WidgetContractError for the first bad one."""
    registry: dict[str, WidgetType] = {}
    for module in modules:
        widget_type = WidgetType(module)
        if widget_type.name in registry:
            raise WidgetContractError(widget_type.name, ["registered twice"])
        registry[widget_type.name] = widget_type
    return registry


# The widgets Hubs offers: modules of this package, one name each.
WIDGETS = (
    "about",
    "activity",
    "avatar",
    "badges",
    "bugzilla",
    "contact",
    "fedmsgstats",
    "feed",
    "github",
    "halp",
    "library",
    "meetings",
    "memberships",
    "pagure",
    "roster",
    "rules",
    "stats",
    "sticky",
    "updates2stable",
)

registry = build_registry(import_module(f"hubs.widgets.{name}") for name in WIDGETS)


def get_widget_type(plugin: str) -> WidgetType | None:
    return registry.get(plugin)


def widget_label(widget) -> str:
    """How pages and sentences name ``widget``: its own title, else its kind's (or, for
    a kind no longer offered, its plugin's name)."""
    widget_type = registry.get(widget.plugin)
    return widget_type.label_of(widget) if widget_type else widget.title or widget.plugin
