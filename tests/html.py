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


# Elements with no end tag: they open no text of their own.
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
         "track", "wbr"}  # fmt: skip


class _RoleTexts(HTMLParser):
    def __init__(self, role: str) -> None:
        super().__init__()
        self.role = role
        self.opened: list[bool] = []  # per open element: whether it is one of the role's
        self.texts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in _VOID:
            return
        mine = dict(attrs).get("data-role") == self.role
        if mine:
            self.texts.append("")
        self.opened.append(mine)

    def handle_endtag(self, tag):
        if tag not in _VOID and self.opened:
            self.opened.pop()

    def handle_data(self, data):
        if any(self.opened):
            self.texts[-1] += data


def role_texts(html: str, role: str) -> list[str]:
    """The text inside each element whose data-role is ``role``, in page order."""
    parser = _RoleTexts(role)
    parser.feed(html)
    return parser.texts
