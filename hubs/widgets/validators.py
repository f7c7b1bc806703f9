"""Validators of widget arguments: each takes a raw value (from a form or JSON) and
returns the clean value, or raises ValueError with a message for the user: what the
value must be ("must be text"), said of the setting it is about, in the reader's
language."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from hubs.accounts import is_account_name
from hubs.i18n import _, ngettext

Validator = Callable[[Any], Any]

# Group names of Fedora's account system: what a team hub's URL /t/<name>/ is made of.
TEAM_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


def has_lone_surrogate(value: str) -> bool:
    """Whether ``value`` holds half of a character (a surrogate without its pair)."""
    return any("\ud800" <= char <= "\udfff" for char in value)


def storable(value: str) -> str:
    """Refuse what no database column may hold: NUL characters (PostgreSQL refuses
    them) and lone surrogates (halves of a character, which cannot be encoded)."""
    if "\x00" in value:
        raise ValueError(_("must not contain NUL characters"))
    if has_lone_surrogate(value):
        raise ValueError(_("must not contain half of a character (a lone surrogate)"))
    return value


def text(max_length: int = 10_000, required: bool = False) -> Validator:
    def validate(value: Any) -> str:
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise ValueError(_("must be text"))
        value = storable(value).strip()
        if required and not value:
            raise ValueError(_("is required"))
        if len(value) > max_length:
            raise ValueError(_("must be at most %(max)d characters long", max=max_length))
        return value

    return validate


@dataclass(frozen=True)
class Integer:
    """A whole number from ``minimum`` to ``maximum``; a form edits it in a number input
    with those bounds."""

    minimum: int
    maximum: int

    def __call__(self, value: Any) -> int:
        if isinstance(value, bool):
            raise ValueError(_("must be a whole number"))
        if isinstance(value, str):
            value = value.strip()
            if not re.fullmatch(r"[+-]?\d{1,9}", value):
                raise ValueError(_("must be a whole number"))
            value = int(value)
        if not isinstance(value, int):
            raise ValueError(_("must be a whole number"))
        if not self.minimum <= value <= self.maximum:
            raise ValueError(
                _("must be between %(min)d and %(max)d", min=self.minimum, max=self.maximum)
            )
        return value


def integer(minimum: int, maximum: int) -> Integer:
    return Integer(minimum, maximum)


@dataclass(frozen=True)
class Choice:
    """One of ``choices`` (letter case and spaces around aside), or ``default`` for an
    empty value; a form edits it in a select."""

    choices: tuple[str, ...]
    default: str | None = None

    def __call__(self, value: Any) -> str:
        if self.default is not None and (
            value is None or (isinstance(value, str) and not value.strip())
        ):
            return self.default
        if isinstance(value, str) and value.strip().lower() in self.choices:
            return value.strip().lower()
        quoted = [f'"{choice}"' for choice in self.choices]
        raise ValueError(
            _("must be %(choices)s or %(last)s", choices=", ".join(quoted[:-1]), last=quoted[-1])
        )


def url(value: Any) -> str:
    """An http(s) URL; other schemes (javascript:, data:) are refused."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(_("must be a web address"))
    value = storable(value).strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(value) > 2048:
        raise ValueError(_("must be an http:// or https:// address"))
    return value


def username(value: Any) -> str:
    if not isinstance(value, str) or not is_account_name(value.strip()):
        raise ValueError(_("must be a Fedora account name"))
    return value.strip()


def team_name(value: Any) -> str:
    if not isinstance(value, str) or not TEAM_NAME_RE.fullmatch(value):
        raise ValueError(
            _(
                "must be 1 to 64 lowercase letters, digits, '.', '_' or '-', "
                "starting with a letter or digit (like a Fedora group name)"
            )
        )
    return value


def links_from_text(lines: str) -> list[dict[str, str]]:
    """Links as a form's text area holds them, one a line: "Title | https://address"."""
    links = []
    for line in lines.splitlines():
        if line.strip():
            title, _bar, address = line.partition("|")
            links.append({"title": title.strip(), "url": address.strip()})
    return links


def link_list(max_links: int = 50) -> Validator:
    """A list of {"title", "url"} links, e.g. a team's rules or documents; or, as a form
    (or the edit dialog) sends it, their text (:func:`links_from_text`)."""
    check_title = text(max_length=200, required=True)

    def validate(value: Any) -> list[dict[str, str]]:
        if value is None or value == "":
            return []
        if isinstance(value, str):
            value = links_from_text(storable(value))
        if not isinstance(value, list):
            raise ValueError(_("must be a list of links"))
        if len(value) > max_links:
            raise ValueError(
                ngettext(
                    "must hold at most %(num)d link", "must hold at most %(num)d links", max_links
                )
            )
        links = []
        for position, item in enumerate(value, start=1):
            if not isinstance(item, dict):
                raise ValueError(
                    _("link %(position)d must have a title and an address", position=position)
                )
            try:
                links.append({"title": check_title(item.get("title")), "url": url(item.get("url"))})
            except ValueError as error:
                raise ValueError(
                    # the link's problem is a validator's own message ("must be a web address")
                    _("link %(position)d: %(problem)s", position=position, problem=error)
                ) from None
        return links

    return validate


def optional(validator: Validator) -> Validator:
    """``validator``, except that an empty value is allowed (and stored as "")."""

    def validate(value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return ""
        return validator(value)

    return validate


EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def email(value: Any) -> str:
    if not isinstance(value, str) or not EMAIL_RE.match(value.strip()) or len(value) > 256:
        raise ValueError(_("must be an email address"))
    return value.strip()


CHANNEL_RE = re.compile(r"^#[\w.+-]{1,64}(:[\w.-]{1,128})?$")


def channels(value: Any) -> list[str]:
    """Chat rooms, one per line or comma: IRC "#fedora-design" or Matrix
    "#design:fedoraproject.org"."""
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [part for part in re.split(r"[\s,]+", value) if part]
    if not isinstance(value, list) or len(value) > 10:
        raise ValueError(_("must be at most 10 chat rooms"))
    for room in value:
        if not isinstance(room, str) or not CHANNEL_RE.match(room):
            raise ValueError(_("%(room)s is not a chat room like #fedora-design", room=repr(room)))
    return value
