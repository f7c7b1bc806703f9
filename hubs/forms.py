"""HTML forms for arguments (widget configs, hub settings): from posted fields to the
raw values their validators take, and back for display."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from hubs.widgets.base import Argument


def links_to_text(links: Any) -> str:
    if not isinstance(links, list):
        return ""
    return "\n".join(f"{link.get('title', '')} | {link.get('url', '')}" for link in links)


def text_to_links(text: str) -> list[dict[str, str]]:
    links = []
    for line in text.splitlines():
        if line.strip():
            title, _, url = line.partition("|")
            links.append({"title": title.strip(), "url": url.strip()})
    return links


def raw_from_form(arguments: Iterable[Argument], form: Mapping[str, str]) -> dict[str, Any]:
    """The values a form posted, shaped for the arguments' validators."""
    raw: dict[str, Any] = {}
    for argument in arguments:
        control = argument.control
        if control == "checkbox":
            raw[argument.name] = argument.name in form
        elif argument.name not in form:
            continue
        elif control == "links":
            raw[argument.name] = text_to_links(form[argument.name])
        else:
            raw[argument.name] = form[argument.name]
    return raw


def form_value(argument: Argument, value: Any) -> Any:
    """A value as its form control shows it."""
    if argument.control == "links":
        return links_to_text(value)
    if isinstance(value, list):  # e.g. chat rooms, edited as one line
        return " ".join(str(item) for item in value)
    if value is None:
        return ""
    return value
