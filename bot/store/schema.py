"""The tables, as SQLAlchemy Core metadata. Migrations (bot/store/migrations) create them."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

metadata = MetaData()

# A Discord user's RA account: one per Discord user, the same in every guild.
links = Table(
    "links",
    metadata,
    Column("discord_user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("ra_ulid", String(26), nullable=False),
    Column("ra_name", String(32), nullable=False),
    Column("linked_at", DateTime(timezone=True), nullable=False),
)

# Who belongs to a guild, as far as the bot knows without the privileged members intent: users
# seen using the bot there. Checked lazily (a member look-up by id) when a board is built.
guild_members = Table(
    "guild_members",
    metadata,
    Column("guild_id", BigInteger, nullable=False),
    Column("discord_user_id", BigInteger, nullable=False),
    Column("seen_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("guild_id", "discord_user_id"),
)

# A guild's own settings (NULL: the operator's default).
guild_settings = Table(
    "guild_settings",
    metadata,
    Column("guild_id", BigInteger, primary_key=True, autoincrement=False),
    Column("commands_per_minute", Integer, nullable=True),
)

# Named game lists of a guild. `name_key` is the case-folded name (unique per guild).
game_sets = Table(
    "game_sets",
    metadata,
    Column("guild_id", BigInteger, nullable=False),
    Column("name_key", String(64), nullable=False),
    Column("name", String(64), nullable=False),
    Column("game_ids", Text, nullable=False),  # comma-separated, in order
    Column("created_by", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("guild_id", "name_key"),
)
