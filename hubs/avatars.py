"""Avatar URLs from libravatar, for users and hubs.

Every Fedora account has the address <username>@fedoraproject.org; its libravatar is
the person's avatar wherever Fedora shows one, so Hubs uses it too.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode

from flask import current_app


def libravatar_url(email: str, size: int = 64) -> str:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    query = urlencode({"s": size, "d": "retro"})
    return f"{current_app.config['LIBRAVATAR_URL']}{digest}?{query}"


def user_avatar(username: str, size: int = 64) -> str:
    return libravatar_url(f"{username}@{current_app.config['FEDORA_EMAIL_DOMAIN']}", size)


def hub_avatar(hub, size: int = 64) -> str:
    """A hub's own picture if it has one, else the libravatar of its name."""
    return hub.avatar or user_avatar(hub.name, size)
