from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hubs.models.base import Base, utcnow


class SavedNotification(Base):
    """A stream entry a user kept. It holds its own copy of the message, so it outlives
    the message store's retention."""

    __tablename__ = "saved_notifications"
    __table_args__ = (sa.UniqueConstraint("user_id", "msg_id", name="uq_saved_user_msg"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    msg_id: Mapped[str] = mapped_column(sa.String(128))
    topic: Mapped[str] = mapped_column(sa.String(256))
    timestamp: Mapped[dt.datetime] = mapped_column()
    usernames: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    body: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    saved: Mapped[dt.datetime] = mapped_column(default=utcnow)
