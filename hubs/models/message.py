from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hubs.models.base import Base


class Message(Base):
    """A bus message kept for feeds, stats and activity. Its users and packages are in
    their own tables, indexed for "latest messages involving these" queries."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    msg_id: Mapped[str] = mapped_column(sa.String(128), unique=True)
    topic: Mapped[str] = mapped_column(sa.String(256))
    category: Mapped[str] = mapped_column(sa.String(64), index=True)
    timestamp: Mapped[dt.datetime] = mapped_column(index=True)
    usernames: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    packages: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    body: Mapped[dict[str, Any]] = mapped_column(sa.JSON)

    users: Mapped[list[MessageUser]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )
    package_rows: Mapped[list[MessagePackage]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"<Message {self.msg_id} {self.topic}>"


class MessageUser(Base):
    __tablename__ = "message_users"
    __table_args__ = (
        sa.Index("ix_message_users_username_timestamp", "username", "timestamp"),
        # "Stored since": what a feed's refresh asks.
        sa.Index("ix_message_users_username_message_id", "username", "message_id"),
    )

    message_id: Mapped[int] = mapped_column(
        sa.ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    username: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    # Copied from the message so "latest for these users" is one index range scan.
    timestamp: Mapped[dt.datetime] = mapped_column()


class MessagePackage(Base):
    __tablename__ = "message_packages"
    __table_args__ = (sa.Index("ix_message_packages_package_timestamp", "package", "timestamp"),)

    message_id: Mapped[int] = mapped_column(
        sa.ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    package: Mapped[str] = mapped_column(sa.String(256), primary_key=True)
    timestamp: Mapped[dt.datetime] = mapped_column()
