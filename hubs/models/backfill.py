from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hubs.models.base import Base, utcnow


class Backfill(Base):
    """A person's history fetched from datagrepper into the message store: the span
    stored so far, and whether more is wanted. The table is the work queue: a backend
    (or `fedora-hubs backfill`) claims a pending row for a while, fetches what the span
    lacks, and marks it done; a failure leaves it pending, to be tried again later."""

    __tablename__ = "backfills"

    username: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    requested: Mapped[dt.datetime] = mapped_column(default=utcnow)
    days: Mapped[int] = mapped_column()
    pending: Mapped[bool] = mapped_column(default=True, index=True)
    # The span of time whose messages are all stored (None: nothing yet).
    covered_from: Mapped[dt.datetime | None] = mapped_column()
    covered_until: Mapped[dt.datetime | None] = mapped_column()
    failures: Mapped[int] = mapped_column(default=0)  # in a row, since the last success
    error: Mapped[str | None] = mapped_column(sa.String(200))
    retry_at: Mapped[dt.datetime | None] = mapped_column()
    claimed_until: Mapped[dt.datetime | None] = mapped_column()
    claimed_by: Mapped[str | None] = mapped_column(sa.String(128))

    def __repr__(self) -> str:
        return f"<Backfill {self.username} {'pending' if self.pending else 'done'}>"
