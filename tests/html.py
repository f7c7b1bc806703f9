"""Reading rendered HTML by its data-role hooks."""

from __future__ import annotations

from html.parser import HTMLParser


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements: list[dict[str, str]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        attributes["<tag>"] = tag
        self.elements.append(attributes)
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.scripts.append(data)


def elements(html: str) -> list[dict[str, str]]:
    parser = _Collector()
    parser.feed(html)
    return parser.elements


def with_role(html: str, role: str) -> list[dict[str, str]]:
    """Every element whose data-role is ``role``, as a dict of its attributes."""
    return [element for element in elements(html) if element.get("data-role") == role]


def widget_states(html: str) -> dict[str, str]:
    """plugin -> data-state of each widget panel on a page."""
    return {w["data-plugin"]: w["data-state"] for w in with_role(html, "widget")}
