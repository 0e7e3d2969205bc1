"""repairs: the persisted state machine of each repair, its steps, and the last valid config

Revision ID: 0004
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0001"
branch_labels = None
depends_on = None

_IDENTITY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "repairs",
        sa.Column("id", _IDENTITY, autoincrement=True, nullable=False),
        sa.Column("repository", sa.String(length=256), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("playbook", sa.String(length=128), nullable=True),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("delivery_id", sa.String(length=64), nullable=False),
        sa.Column("installation_id", sa.BigInteger(), nullable=True),
        sa.Column("detection", sa.JSON(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("playbook_source", sa.JSON(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("silenced", sa.Boolean(), nullable=False),
        sa.Column("pull_request", sa.Integer(), nullable=True),
        sa.Column("fix_branch", sa.String(length=256), nullable=True),
        sa.Column("issue", sa.Integer(), nullable=True),
        sa.Column("check_run", sa.BigInteger(), nullable=True),
        sa.Column("rerun_run_id", sa.BigInteger(), nullable=True),
        sa.Column("rerun_attempt", sa.Integer(), nullable=True),
        sa.Column("verify_sha", sa.String(length=64), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fix_pr_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("repository", "signature", "attempt", name="uq_repairs_attempt"),
    )
    op.create_index("ix_repairs_repository_state", "repairs", ["repository", "state"])
    op.create_table(
        "repair_steps",
        sa.Column("id", _IDENTITY, autoincrement=True, nullable=False),
        sa.Column("repair_id", _IDENTITY, nullable=False),
        sa.Column("phase", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("uses", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("outputs", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["repair_id"], ["repairs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("repair_id", "phase", "position", name="uq_repair_steps_position"),
    )
    op.create_index("ix_repair_steps_repair_id", "repair_steps", ["repair_id"])
    op.create_table(
        "repair_configs",
        sa.Column("repository", sa.String(length=256), nullable=False),
        sa.Column("layer", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("repository"),
    )


def downgrade() -> None:
    op.drop_table("repair_configs")
    op.drop_index("ix_repair_steps_repair_id", table_name="repair_steps")
    op.drop_table("repair_steps")
    op.drop_index("ix_repairs_repository_state", table_name="repairs")
    op.drop_table("repairs")
