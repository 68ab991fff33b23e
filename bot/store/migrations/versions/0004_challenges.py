"""Challenges: named windows over games, their posts (one per period) and snapshots.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "challenges",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("guild_id", sa.BigInteger, nullable=False),
        sa.Column("name_key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("game_ids", sa.Text, nullable=False),
        sa.Column("set_name", sa.String(64), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel_id", sa.BigInteger, nullable=True),
        sa.Column("cadence", sa.String(8), nullable=True),
        sa.Column("next_run", sa.DateTime(timezone=True), nullable=True),
        sa.Column("run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paused_reason", sa.Text, nullable=True),
        sa.Column("last_result", sa.Text, nullable=True),
        sa.Column("created_by", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_challenges_guild_name", "challenges", ["guild_id", "name_key"], unique=True
    )
    op.create_index("ix_challenges_run_at", "challenges", ["run_at"])
    op.create_table(
        "challenge_posts",
        sa.Column(
            "challenge_id",
            sa.Integer,
            sa.ForeignKey("challenges.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("period", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message_id", sa.BigInteger, nullable=True),
        sa.PrimaryKeyConstraint("challenge_id", "period"),
    )
    op.create_table(
        "challenge_snapshots",
        sa.Column(
            "challenge_id",
            sa.Integer,
            sa.ForeignKey("challenges.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("period", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("challenge_snapshots")
    op.drop_table("challenge_posts")
    op.drop_index("ix_challenges_run_at", "challenges")
    op.drop_index("ix_challenges_guild_name", "challenges")
    op.drop_table("challenges")
