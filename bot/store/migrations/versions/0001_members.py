"""Linked accounts, guild membership, guild settings, game sets.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "links",
        sa.Column("discord_user_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("ra_ulid", sa.String(26), nullable=False),
        sa.Column("ra_name", sa.String(32), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "guild_members",
        sa.Column("guild_id", sa.BigInteger, nullable=False),
        sa.Column("discord_user_id", sa.BigInteger, nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "discord_user_id"),
    )
    op.create_table(
        "guild_settings",
        sa.Column("guild_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("commands_per_minute", sa.Integer, nullable=True),
    )
    op.create_table(
        "game_sets",
        sa.Column("guild_id", sa.BigInteger, nullable=False),
        sa.Column("name_key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("game_ids", sa.Text, nullable=False),
        sa.Column("created_by", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "name_key"),
    )


def downgrade() -> None:
    for table in ("game_sets", "guild_settings", "guild_members", "links"):
        op.drop_table(table)
