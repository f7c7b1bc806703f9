"""Stream reads: how far each person has read My Stream, and entries marked unread again.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stream_reads",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("last_read_id", sa.Integer(), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_stream_reads_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name="pk_stream_reads"),
    )
    op.create_table(
        "stream_unread",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("msg_id", sa.String(128), nullable=False),
        sa.Column("marked", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_stream_unread_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "msg_id", name="pk_stream_unread"),
    )


def downgrade() -> None:
    op.drop_table("stream_unread")
    op.drop_table("stream_reads")
