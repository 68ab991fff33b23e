"""News feeds: each guild's feed, the members opted out, the poller's state and the queue of
announcements with their claims.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feeds",
        sa.Column("guild_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("channel_id", sa.BigInteger, nullable=False),
        sa.Column("masteries", sa.Boolean, nullable=False),
        sa.Column("beaten", sa.Boolean, nullable=False),
        sa.Column("aotw", sa.Boolean, nullable=False),
        sa.Column("hardcore_only", sa.Boolean, nullable=False),
        sa.Column("games", sa.Text, nullable=True),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.BigInteger, nullable=False),
        sa.Column("last_post_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("problem", sa.Text, nullable=True),
        sa.Column("problem_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "feed_optouts",
        sa.Column("discord_user_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
    )
    state = op.create_table(
        "feed_state",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("cursor_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cursor_keys", sa.Text, nullable=False),
        sa.Column("aotw_key", sa.String(64), nullable=True),
        sa.Column("polled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
    )
    op.bulk_insert(
        state,
        [
            {
                "id": 1,
                "cursor_at": None,
                "cursor_keys": "[]",
                "aotw_key": None,
                "polled_at": None,
                "lease_owner": None,
                "lease_until": None,
            }
        ],
    )
    op.create_table(
        "feed_posts",
        sa.Column("guild_id", sa.BigInteger, nullable=False),
        sa.Column("award_key", sa.String(128), nullable=False),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message_id", sa.BigInteger, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "award_key"),
    )
    op.create_index("ix_feed_posts_status_at", "feed_posts", ["status", "at"])
    op.create_index("ix_feed_posts_status_created_at", "feed_posts", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_feed_posts_status_created_at", table_name="feed_posts")
    op.drop_index("ix_feed_posts_status_at", table_name="feed_posts")
    op.drop_table("feed_posts")
    op.drop_table("feed_state")
    op.drop_table("feed_optouts")
    op.drop_table("feeds")
