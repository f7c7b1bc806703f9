from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hubs.models.base import Base, utcnow


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    fullname: Mapped[str] = mapped_column(sa.String(256), default="")
    email: Mapped[str | None] = mapped_column(sa.String(256))
    created: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # In every session cookie; logging out raises it, so older cookies open nothing.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    # The language the user chose for Hubs' pages; None follows their browser.
    locale: Mapped[str | None] = mapped_column(sa.String(16))

    memberships: Mapped[list[Membership]] = relationship(  # noqa: F821 (defined in hub.py)
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"<User {self.username}>"
