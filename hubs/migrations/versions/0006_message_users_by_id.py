"""An index for the messages of some users stored after a given one.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_message_users_username_message_id", "message_users", ["username", "message_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_message_users_username_message_id", "message_users")
