"""Hub revisions: every change to a hub, with its sentence and the state after it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hub_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hub_id", sa.Integer(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agent", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("sentence", sa.Text(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["hub_id"], ["hubs.id"], name="fk_hub_revisions_hub_id_hubs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_hub_revisions"),
    )
    op.create_index("ix_hub_revisions_hub_id_id", "hub_revisions", ["hub_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_hub_revisions_hub_id_id", table_name="hub_revisions")
    op.drop_table("hub_revisions")
