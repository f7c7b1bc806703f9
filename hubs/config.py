"""Layered configuration, shared by the web app, the daemons and the scripts."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import runpy
import secrets
from typing import Any
from urllib.parse import urlsplit

from hubs import default_config

CONFIG_ENVVAR = "HUBS_CONFIG"


def _uppercase(namespace: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in namespace.items() if key.isupper()}


# Keys that were ever published (defaults and examples of this project): anyone can sign
# a session cookie with them, so no process starts with one.
PUBLIC_SECRET_KEYS = frozenset(
    {
        "change-me-in-production",
        "replace with a long random string",
        "hubs-development-secret-key-change-me",
    }
)
SECRET_KEY_FILE = "secret-key"


class InsecureConfig(RuntimeError):
    """A setting that would let anyone in: the process refuses to start."""


class NotForProduction(RuntimeError):
    """A development-only setting on a site that is not a development one: the process
    refuses to start."""


def load_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Defaults, then the file named by $HUBS_CONFIG, then ``overrides``."""
    config = _uppercase(vars(default_config))
    path = os.environ.get(CONFIG_ENVVAR)
    if path:
        if not os.path.isfile(path):
            raise RuntimeError(f"{CONFIG_ENVVAR} names {path!r}, which is not a file")
        config.update(_uppercase(runpy.run_path(path)))
    if overrides:
        config.update(overrides)
    config["SECRET_KEY"] = secret_key(config)
    refuse_demo_mode_outside_development(config)
    if config["BUS"] not in BUSES:
        raise RuntimeError(f"BUS is {config['BUS']!r}: it must be one of {', '.join(BUSES)}")
    return config


BUSES = ("fedmsg", "fedora-messaging")

# Host names that are this machine.
LOOPBACK_NAMES = ("localhost", "localhost.localdomain")


def is_development_site(config: dict[str, Any]) -> bool:
    """Whether the site is a development one: served on this machine (SITE_URL), people
    logging in at a provider on this machine too (`make run`'s oidc-provider-mock)."""
    return all(_on_this_machine(config[name]) for name in ("SITE_URL", "OIDC_ISSUER"))


def _on_this_machine(url: Any) -> bool:
    host = (urlsplit(url).hostname or "") if isinstance(url, str) else ""
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def refuse_demo_mode_outside_development(config: dict[str, Any]) -> None:
    """Demo mode shows recorded answers as if they were Fedora's: never on a real site."""
    if not isinstance(config["DEMO_MODE"], bool):
        raise RuntimeError(f"DEMO_MODE is {config['DEMO_MODE']!r}: it must be True or False")
    if config["DEMO_MODE"] and not is_development_site(config):
        raise NotForProduction(
            f"DEMO_MODE is on, but this is no development site (SITE_URL is "
            f"{config['SITE_URL']!r}, OIDC_ISSUER {config['OIDC_ISSUER']!r}): demo mode "
            "shows recorded answers instead of Fedora's services, for `make run` on this "
            "machine only. Remove DEMO_MODE (and HUBS_DEMO_MODE from the environment)."
        )


def secret_key(config: dict[str, Any]) -> str:
    """The key signing session cookies. Unset (the embedded default), a random key made
    once in VAR_DIR, so the web app, its workers and hubs-sse on this machine share it;
    a published or empty key is refused."""
    key = config.get("SECRET_KEY")
    if key is None:
        return _key_in_var_dir(config["VAR_DIR"])
    if not isinstance(key, str) or not key.strip():
        raise InsecureConfig("SECRET_KEY is empty: set a long random string (or leave it unset)")
    if key in PUBLIC_SECRET_KEYS:
        raise InsecureConfig(
            f"SECRET_KEY is {key!r}, a published example: anyone could sign a session "
            'cookie. Set your own, e.g. python -c "import secrets; print(secrets.token_hex(32))"'
        )
    return key


def _key_in_var_dir(var_dir: str) -> str:
    path = os.path.join(var_dir, SECRET_KEY_FILE)
    with contextlib.suppress(FileNotFoundError), open(path) as handle:
        key = handle.read().strip()
        if key:
            return key
    os.makedirs(var_dir, exist_ok=True)
    key = secrets.token_hex(32)
    # Exclusive creation: of two processes starting at once, both read the first's key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        with open(path) as handle:
            return handle.read().strip() or _raise_empty(path)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


def _raise_empty(path: str) -> str:
    raise InsecureConfig(f"{path} is empty: delete it and a new key is made")
