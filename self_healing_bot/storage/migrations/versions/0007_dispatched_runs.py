"""dispatched runs: the workflow run a repair dispatched (retraining) and its URL

A repair whose playbook dispatched a workflow now waits for that run's completed event, matched
by its id, and keeps the run's URL as evidence.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("repairs") as batch:
        batch.add_column(sa.Column("dispatched_run_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("dispatched_run_url", sa.String(length=512), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("repairs") as batch:
        batch.drop_column("dispatched_run_url")
        batch.drop_column("dispatched_run_id")
