"""The widget registry: every widget Hubs offers, validated at import.

Adding a widget: write its module and template, then list the module here.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType

from hubs.widgets import (
    about,
    activity,
    avatar,
    badges,
    contact,
    fedmsgstats,
    feed,
    library,
    memberships,
    rules,
    stats,
    sticky,
)
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


registry = build_registry(
    [
        about,
        activity,
        avatar,
        badges,
        contact,
        fedmsgstats,
        feed,
        library,
        memberships,
        rules,
        stats,
        sticky,
    ]
)


def get_widget_type(plugin: str) -> WidgetType | None:
    return registry.get(plugin)
