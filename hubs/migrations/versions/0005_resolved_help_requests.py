"""Help requests marked as resolved.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resolved_help_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("msg_id", sa.String(128), nullable=False),
        sa.Column("hub_id", sa.Integer(), nullable=True),
        sa.Column("resolved_by", sa.Integer(), nullable=True),
        sa.Column("resolved", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["hub_id"],
            ["hubs.id"],
            name="fk_resolved_help_requests_hub_id_hubs",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by"],
            ["users.id"],
            name="fk_resolved_help_requests_resolved_by_users",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_resolved_help_requests"),
        sa.UniqueConstraint("msg_id", name="uq_resolved_help_requests_msg_id"),
    )


def downgrade() -> None:
    op.drop_table("resolved_help_requests")
