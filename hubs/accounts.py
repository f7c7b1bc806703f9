"""Fedora account names: the one rule the login, the forms and hubs-sse check them by."""

from __future__ import annotations

import re
from typing import Any

# What FAS accepts: a letter, then letters, digits, ".", "_" or "-"; 64 at most.
ACCOUNT_NAME = re.compile(r"[a-z][a-z0-9_.-]{0,63}", re.IGNORECASE)


def is_account_name(value: Any) -> bool:
    return isinstance(value, str) and ACCOUNT_NAME.fullmatch(value) is not None
