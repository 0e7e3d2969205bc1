"""drift reports and the default branch's metric history

Revision ID: 0005
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0001"
branch_labels = None
depends_on = None

_IDENTITY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "drift_reports",
        sa.Column("id", _IDENTITY, autoincrement=True, nullable=False),
        sa.Column("repository", sa.String(length=256), nullable=False),
        sa.Column("dataset", sa.String(length=512), nullable=False),
        sa.Column("ref", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_drift_reports_repository_dataset_created",
        "drift_reports",
        ["repository", "dataset", "created_at"],
    )
    op.create_table(
        "metric_history",
        sa.Column("id", _IDENTITY, autoincrement=True, nullable=False),
        sa.Column("repository", sa.String(length=256), nullable=False),
        sa.Column("metric", sa.String(length=256), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("commit_sha", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("repository", "metric", "commit_sha", name="uq_metric_history_commit"),
    )
    op.create_index(
        "ix_metric_history_repository_metric_recorded",
        "metric_history",
        ["repository", "metric", "recorded_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_metric_history_repository_metric_recorded", table_name="metric_history")
    op.drop_table("metric_history")
    op.drop_index("ix_drift_reports_repository_dataset_created", table_name="drift_reports")
    op.drop_table("drift_reports")
