"""one config store: drop repair_configs (repo_configs holds the last valid config); merge heads

The executor kept its own "last valid config" table next to `repo_configs`; both held the same
thing. It now reads and writes `repo_configs` through `fetch_repo_config`, so this revision
drops `repair_configs` and joins the branches 0002-0005 into one head.

Revision ID: 0006
Revises: 0002, 0003, 0004, 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = ("0002", "0003", "0004", "0005")
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("repair_configs")


def downgrade() -> None:
    op.create_table(
        "repair_configs",
        sa.Column("repository", sa.String(length=256), nullable=False),
        sa.Column("layer", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("repository"),
    )
