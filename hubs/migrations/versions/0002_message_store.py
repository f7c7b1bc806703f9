"""The message store: bus messages with their users and packages.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("msg_id", sa.String(128), nullable=False),
        sa.Column("topic", sa.String(256), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("usernames", sa.JSON(), nullable=False),
        sa.Column("packages", sa.JSON(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_messages"),
        sa.UniqueConstraint("msg_id", name="uq_messages_msg_id"),
    )
    op.create_index("ix_messages_category", "messages", ["category"])
    op.create_index("ix_messages_timestamp", "messages", ["timestamp"])
    for table, column, length in (
        ("message_users", "username", 64),
        ("message_packages", "package", 256),
    ):
        op.create_table(
            table,
            sa.Column("message_id", sa.Integer(), nullable=False),
            sa.Column(column, sa.String(length), nullable=False),
            sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
            sa.ForeignKeyConstraint(
                ["message_id"],
                ["messages.id"],
                name=f"fk_{table}_message_id_messages",
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("message_id", column, name=f"pk_{table}"),
        )
        op.create_index(f"ix_{table}_{column}_timestamp", table, [column, "timestamp"])


def downgrade() -> None:
    op.drop_table("message_packages")
    op.drop_table("message_users")
    op.drop_table("messages")
