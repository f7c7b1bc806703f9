from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hubs.models.base import Base, utcnow


class HubRevision(Base):
    """One change to a hub: who made it, when, what it was (``kind``, a hubs topic such
    as "widget.updated"; its English sentence, and the event to tell it in any language,
    which revisions made before events were kept lack), and the hub's layout and settings
    after it (``state``, as :func:`hubs.revisions.hub_state` reads it)."""

    __tablename__ = "hub_revisions"
    __table_args__ = (sa.Index("ix_hub_revisions_hub_id_id", "hub_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hub_id: Mapped[int] = mapped_column(sa.ForeignKey("hubs.id", ondelete="CASCADE"))
    created: Mapped[dt.datetime] = mapped_column(default=utcnow)
    agent: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[str] = mapped_column(sa.String(32))
    sentence: Mapped[str] = mapped_column(sa.Text)
    event: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, nullable=True)
    state: Mapped[dict[str, Any]] = mapped_column(sa.JSON)

    def __repr__(self) -> str:
        return f"<HubRevision {self.id} of hub {self.hub_id}: {self.kind}>"
