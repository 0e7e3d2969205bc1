"""detections, failure signature history, last valid repository configs

Revision ID: 0003
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "detections",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("delivery_id", sa.String(length=64), nullable=False),
        sa.Column("repository", sa.String(length=256), nullable=False),
        sa.Column("detector", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("job", sa.String(length=256), nullable=True),
        sa.Column("step", sa.String(length=256), nullable=True),
        sa.Column("head_sha", sa.String(length=64), nullable=True),
        sa.Column("run_id", sa.BigInteger(), nullable=True),
        sa.Column("occurrence", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("repository", "detector", "signature", "occurrence"),
    )
    op.create_index("ix_detections_repository_head_sha", "detections", ["repository", "head_sha"])
    op.create_index("ix_detections_repository_run_id", "detections", ["repository", "run_id"])
    op.create_table(
        "failure_signatures",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("repository", sa.String(length=256), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("commits", sa.JSON(), nullable=False),
        sa.Column("flaky", sa.Boolean(), nullable=False),
        sa.Column("ignored", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("repository", "signature"),
    )
    op.create_table(
        "repo_configs",
        sa.Column("repository", sa.String(length=256), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("repository"),
    )


def downgrade() -> None:
    op.drop_table("repo_configs")
    op.drop_table("failure_signatures")
    op.drop_index("ix_detections_repository_run_id", table_name="detections")
    op.drop_index("ix_detections_repository_head_sha", table_name="detections")
    op.drop_table("detections")
