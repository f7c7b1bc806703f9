from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hubs.models.base import Base, utcnow
from hubs.models.user import User


class HubType(enum.StrEnum):
    user = "user"
    team = "team"

    @property
    def url_prefix(self) -> str:
        return self.value[0]


class Role(enum.StrEnum):
    owner = "owner"
    member = "member"
    subscriber = "subscriber"
    stargazer = "stargazer"


# A hub page is a grid of 12 columns split in two; the left column takes this many.
MIN_LEFT_WIDTH, MAX_LEFT_WIDTH, DEFAULT_LEFT_WIDTH = 1, 11, 8


class Hub(Base):
    __tablename__ = "hubs"
    __table_args__ = (
        sa.UniqueConstraint("type", "name", name="uq_hubs_type_name"),
        sa.CheckConstraint(
            f"left_width BETWEEN {MIN_LEFT_WIDTH} AND {MAX_LEFT_WIDTH}", name="left_width_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    type: Mapped[HubType] = mapped_column(
        sa.Enum(HubType, name="hub_type", native_enum=False, length=8)
    )
    summary: Mapped[str] = mapped_column(sa.String(256), default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    avatar: Mapped[str | None] = mapped_column(sa.String(512))
    left_width: Mapped[int] = mapped_column(default=DEFAULT_LEFT_WIDTH)
    archived: Mapped[bool] = mapped_column(default=False)
    created: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_activity: Mapped[dt.datetime | None] = mapped_column()

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="hub", cascade="all, delete-orphan", passive_deletes=True
    )
    widgets: Mapped[list[Widget]] = relationship(  # noqa: F821 (defined in widget.py)
        back_populates="hub",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="(Widget.column, Widget.position, Widget.id)",
    )

    @property
    def url_path(self) -> str:
        return f"/{self.type.url_prefix}/{self.name}/"

    @property
    def right_width(self) -> int:
        return 12 - self.left_width

    def users_with(self, role: Role) -> list[User]:
        return [m.user for m in self.memberships if m.role == role]

    def __repr__(self) -> str:
        return f"<Hub {self.type.value}:{self.name}>"


class Membership(Base):
    """A user's role in a hub. Owner and member exclude each other; subscriber and
    stargazer stand beside them."""

    __tablename__ = "memberships"

    hub_id: Mapped[int] = mapped_column(
        sa.ForeignKey("hubs.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[Role] = mapped_column(
        sa.Enum(Role, name="role", native_enum=False, length=16), primary_key=True
    )
    created: Mapped[dt.datetime] = mapped_column(default=utcnow)

    hub: Mapped[Hub] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(back_populates="memberships")

    def __repr__(self) -> str:
        return f"<Membership {self.user_id}@{self.hub_id} {self.role.value}>"


class JoinRequest(Base):
    """A user asking to become a member of a team hub; an owner approves or declines."""

    __tablename__ = "join_requests"

    hub_id: Mapped[int] = mapped_column(
        sa.ForeignKey("hubs.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created: Mapped[dt.datetime] = mapped_column(default=utcnow)

    hub: Mapped[Hub] = relationship()
    user: Mapped[User] = relationship()


class Invitation(Base):
    """An owner asking a user to become a member or an owner of a team hub: it becomes
    theirs only once they accept (nobody is made part of a team without consent)."""

    __tablename__ = "invitations"

    hub_id: Mapped[int] = mapped_column(
        sa.ForeignKey("hubs.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[Role] = mapped_column(sa.Enum(Role, name="role", native_enum=False, length=16))
    invited_by: Mapped[str] = mapped_column(sa.String(64))
    created: Mapped[dt.datetime] = mapped_column(default=utcnow)

    hub: Mapped[Hub] = relationship()
    user: Mapped[User] = relationship()
