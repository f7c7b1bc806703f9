from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hubs.models.base import Base, utcnow


class ResolvedHelpRequest(Base):
    """A meetbot ``#help`` request someone marked as answered: the halp widgets stop
    showing it. Keyed by the bus message, so it is resolved on every hub at once."""

    __tablename__ = "resolved_help_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    msg_id: Mapped[str] = mapped_column(sa.String(128), unique=True)
    hub_id: Mapped[int | None] = mapped_column(sa.ForeignKey("hubs.id", ondelete="SET NULL"))
    resolved_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    resolved: Mapped[dt.datetime] = mapped_column(default=utcnow)
