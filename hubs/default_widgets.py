"""The widgets a new hub starts with."""

from __future__ import annotations

from typing import Any

from hubs.models import Column, Hub, HubType, Widget

# (plugin, column, config) in display order. Only widgets that need no setting: a team's
# fedocal calendar is named after it, a user's badges and updates are theirs, and the
# halp widget of a user hub watches the channels of the user's teams.
TEAM_WIDGETS: list[tuple[str, Column, dict[str, Any]]] = [
    ("about", Column.left, {}),
    (
        "sticky",
        Column.left,
        {"text": "Welcome! New here? Say hello on the mailing list and pick an easy task."},
    ),
    ("rules", Column.left, {}),
    ("feed", Column.left, {"per_page": 10}),
    ("halp", Column.left, {}),
    ("stats", Column.right, {}),
    ("meetings", Column.right, {}),
    ("activity", Column.right, {}),
    ("fedmsgstats", Column.right, {}),
    ("contact", Column.right, {}),
    ("avatar", Column.right, {"size": 160}),
]

USER_WIDGETS: list[tuple[str, Column, dict[str, Any]]] = [
    ("about", Column.left, {}),
    ("sticky", Column.left, {"text": ""}),
    ("feed", Column.left, {"per_page": 10}),
    ("badges", Column.left, {}),
    ("updates2stable", Column.left, {}),
    ("avatar", Column.right, {"size": 160}),
    ("stats", Column.right, {}),
    ("activity", Column.right, {}),
    ("fedmsgstats", Column.right, {}),
    ("halp", Column.right, {}),
    ("memberships", Column.right, {}),
]


def default_layout(hub_type: HubType) -> list[tuple[str, Column, dict[str, Any]]]:
    """The widgets a hub of ``hub_type`` starts with (and gets back with "Restore defaults")."""
    return TEAM_WIDGETS if hub_type is HubType.team else USER_WIDGETS


def default_widgets(hub: Hub) -> list[Widget]:
    """New Widget rows for ``hub``'s type, positioned within each column."""
    layout = default_layout(hub.type)
    positions = {Column.left: 0, Column.right: 0}
    widgets = []
    for plugin, column, config in layout:
        widgets.append(
            Widget(hub=hub, plugin=plugin, column=column, position=positions[column], config=config)
        )
        positions[column] += 1
    return widgets
