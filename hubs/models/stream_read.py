"""How far each person has read their stream: one marker a person, not a row a message."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hubs.models.base import Base, utcnow


class StreamRead(Base):
    """Every message of the store up to ``last_read_id`` (messages.id, in storing order)
    is read by the user, except those they marked unread again (StreamUnread)."""

    __tablename__ = "stream_reads"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # No foreign key: the message it names may be pruned, the marker stays meaningful.
    last_read_id: Mapped[int] = mapped_column(default=0)
    updated: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class StreamUnread(Base):
    """A stream entry its user marked unread again (by the msg_id the entry is keyed by)."""

    __tablename__ = "stream_unread"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    msg_id: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    marked: Mapped[dt.datetime] = mapped_column(default=utcnow)
