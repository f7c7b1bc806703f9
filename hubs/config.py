"""Layered configuration, shared by the web app, the daemons and the scripts."""

from __future__ import annotations

import os
import runpy
from typing import Any

from hubs import default_config

CONFIG_ENVVAR = "HUBS_CONFIG"


def _uppercase(namespace: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in namespace.items() if key.isupper()}


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
    return config
