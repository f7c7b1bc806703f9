"""What each revision did, kept as an event (JSON) so that its sentence can be told in
the reader's language; older revisions keep only their English sentence.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hub_revisions") as batch:
        batch.add_column(sa.Column("event", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("hub_revisions") as batch:
        batch.drop_column("event")
