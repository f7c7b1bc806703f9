"""Answers kept for the life of one database session.

A web request's session lives for one request; the backend's checking session lives
until a hubs message says hubs' own data changed, when the backend clears it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

from sqlalchemy.orm import Session

T = TypeVar("T")
_KEY = "hubs.memo"


def memo(session: Session, key: Hashable, compute: Callable[[], T]) -> T:
    store = session.info.setdefault(_KEY, {})
    if key not in store:
        store[key] = compute()
    return store[key]


def remember(session: Session, answers: dict[Hashable, object]) -> None:
    """Keep ``answers`` (key: answer) as memo() would have computed them."""
    session.info.setdefault(_KEY, {}).update(answers)


def forget(session: Session) -> None:
    session.info.pop(_KEY, None)
