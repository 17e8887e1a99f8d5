"""annotators.reviewer: the role that may change the gold layers in team mode

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("annotators", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reviewer", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("annotators", schema=None) as batch_op:
        batch_op.drop_column("reviewer")
