"""A widget's own title, shown instead of its kind's ("Note" twice is no help).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("widgets") as batch:
        batch.add_column(sa.Column("title", sa.String(80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("widgets") as batch:
        batch.drop_column("title")
