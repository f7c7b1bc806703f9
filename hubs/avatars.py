"""Avatars for users and hubs.

In production they come from libravatar: every Fedora account has the address
<username>@fedoraproject.org, whose libravatar is the person's avatar wherever Fedora
shows one. Offline (the embedded default) Hubs draws initials on a colour instead.
"""

from __future__ import annotations

import hashlib
from urllib.parse import quote, urlencode

from flask import current_app

LOCAL_AVATAR_PATH = "/avatar/{name}.svg"


def libravatar_url(email: str, size: int = 64) -> str:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    query = urlencode({"s": size, "d": "retro"})
    return f"{current_app.config['LIBRAVATAR_URL']}{digest}?{query}"


def user_avatar(username: str, size: int = 64) -> str:
    if current_app.config["AVATARS"] == "libravatar":
        return libravatar_url(f"{username}@{current_app.config['FEDORA_EMAIL_DOMAIN']}", size)
    return LOCAL_AVATAR_PATH.format(name=quote(username, safe=""))


def hub_avatar(hub, size: int = 64) -> str:
    """A hub's own picture if it has one, else the avatar of its name."""
    return hub.avatar or user_avatar(hub.name, size)


def initials_svg(name: str) -> str:
    """A square SVG with up to two initials of ``name`` on a colour derived from it."""
    parts = [part for part in name.replace("_", "-").replace(".", "-").split("-") if part]
    letters = "".join(part[0] for part in parts[:2]) if len(parts) > 1 else name[:2]
    hue = int(hashlib.sha256(name.encode()).hexdigest()[:4], 16) % 360
    text = "".join(c for c in letters.upper() if c.isalnum()) or "?"
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" role="img">'
        f'<rect width="64" height="64" fill="hsl({hue},45%,45%)"/>'
        '<text x="32" y="32" dy=".35em" text-anchor="middle" fill="#fff" '
        f'font-family="sans-serif" font-size="26" font-weight="600">{text}</text></svg>'
    )
