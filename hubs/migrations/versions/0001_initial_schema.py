"""Users, hubs, their memberships and widgets.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("fullname", sa.String(256), nullable=False),
        sa.Column("email", sa.String(256), nullable=True),
        _timestamp("created"),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )
    op.create_table(
        "hubs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column(
            "type",
            sa.Enum("user", "team", name="hub_type", native_enum=False, length=8),
            nullable=False,
        ),
        sa.Column("summary", sa.String(256), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("avatar", sa.String(512), nullable=True),
        sa.Column("left_width", sa.Integer(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        _timestamp("created"),
        _timestamp("last_activity", nullable=True),
        sa.CheckConstraint("left_width BETWEEN 1 AND 11", name="ck_hubs_left_width_range"),
        sa.PrimaryKeyConstraint("id", name="pk_hubs"),
        sa.UniqueConstraint("type", "name", name="uq_hubs_type_name"),
    )
    op.create_table(
        "memberships",
        sa.Column("hub_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "owner",
                "member",
                "subscriber",
                "stargazer",
                name="role",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        _timestamp("created"),
        sa.ForeignKeyConstraint(
            ["hub_id"], ["hubs.id"], name="fk_memberships_hub_id_hubs", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_memberships_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("hub_id", "user_id", "role", name="pk_memberships"),
    )
    op.create_index("ix_memberships_user_id", "memberships", ["user_id"])
    op.create_table(
        "widgets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hub_id", sa.Integer(), nullable=False),
        sa.Column("plugin", sa.String(64), nullable=False),
        sa.Column(
            "column",
            sa.Enum("left", "right", name="widget_column", native_enum=False, length=8),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        _timestamp("created"),
        sa.ForeignKeyConstraint(
            ["hub_id"], ["hubs.id"], name="fk_widgets_hub_id_hubs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_widgets"),
    )
    op.create_index("ix_widgets_hub_column_position", "widgets", ["hub_id", "column", "position"])


def downgrade() -> None:
    op.drop_table("widgets")
    op.drop_table("memberships")
    op.drop_table("hubs")
    op.drop_table("users")
