"""RA's game catalogue: every game with achievements, and when it was last refreshed.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalogue_games",
        sa.Column("game_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("console_id", sa.Integer, nullable=False),
        sa.Column("console", sa.String(64), nullable=False),
        sa.Column("icon", sa.String(128), nullable=False),
        sa.Column("achievements", sa.Integer, nullable=False),
        sa.Column("points", sa.Integer, nullable=False),
        sa.Column("search_key", sa.String(400), nullable=False),
    )
    op.create_index("ix_catalogue_games_console_id", "catalogue_games", ["console_id"])
    state = op.create_table(
        "catalogue_state",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refresh_owner", sa.String(64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
    )
    op.bulk_insert(
        state, [{"id": 1, "refreshed_at": None, "refresh_owner": None, "lease_until": None}]
    )


def downgrade() -> None:
    op.drop_table("catalogue_state")
    op.drop_index("ix_catalogue_games_console_id", table_name="catalogue_games")
    op.drop_table("catalogue_games")
