from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hubs.models.base import Base, utcnow
from hubs.models.hub import Hub

# The longest title a widget may be given (the column's length).
MAX_WIDGET_TITLE = 80


class Column(enum.StrEnum):
    left = "left"
    right = "right"


class Widget(Base):
    __tablename__ = "widgets"
    __table_args__ = (sa.Index("ix_widgets_hub_column_position", "hub_id", "column", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hub_id: Mapped[int] = mapped_column(sa.ForeignKey("hubs.id", ondelete="CASCADE"))
    plugin: Mapped[str] = mapped_column(sa.String(64))
    column: Mapped[Column] = mapped_column(
        sa.Enum(Column, name="widget_column", native_enum=False, length=8), default=Column.left
    )
    position: Mapped[int] = mapped_column(default=0)
    config: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    # The owner's title for this panel; None: its kind's title.
    title: Mapped[str | None] = mapped_column(sa.String(MAX_WIDGET_TITLE), default=None)
    created: Mapped[dt.datetime] = mapped_column(default=utcnow)

    hub: Mapped[Hub] = relationship(back_populates="widgets")

    @property
    def url_path(self) -> str:
        return f"{self.hub.url_path}w/{self.id}/"

    def __repr__(self) -> str:
        return f"<Widget {self.id} {self.plugin}>"
