"""The tables, as SQLAlchemy Core metadata. Migrations (bot/store/migrations) create them."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
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

# Scheduled leaderboard posts. `next_run` is the slot of the next period to post; `run_at` is
# when to try (the slot plus a spread offset, or a retry time within the period).
schedules = Table(
    "schedules",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("guild_id", BigInteger, nullable=False, index=True),
    Column("channel_id", BigInteger, nullable=False),
    Column("games", Text, nullable=False),  # as given: ids, links, or a set's name
    Column("cadence", String(8), nullable=False),
    Column("hour", Integer, nullable=False),
    Column("minute", Integer, nullable=False),
    Column("edit_in_place", Boolean, nullable=False),
    Column("message_id", BigInteger, nullable=True),
    Column("next_run", DateTime(timezone=True), nullable=False),
    Column("run_at", DateTime(timezone=True), nullable=False, index=True),
    Column("paused_reason", Text, nullable=True),
    Column("last_result", Text, nullable=True),
    Column("created_by", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# One row per (schedule, period): claimed before sending, marked posted after. The primary key is
# what makes a period's post happen once, across restarts and processes.
schedule_posts = Table(
    "schedule_posts",
    metadata,
    Column("schedule_id", Integer, ForeignKey("schedules.id", ondelete="CASCADE"), nullable=False),
    Column("period", DateTime(timezone=True), nullable=False),
    Column("status", String(12), nullable=False),  # "sending" | "posted"
    Column("claimed_by", String(64), nullable=False),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
    Column("message_id", BigInteger, nullable=True),
    PrimaryKeyConstraint("schedule_id", "period"),
)

# The board as last posted, for "what changed" in the next post and for posting from cache
# when RA is unreachable.
schedule_snapshots = Table(
    "schedule_snapshots",
    metadata,
    Column(
        "schedule_id",
        Integer,
        ForeignKey("schedules.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("period", DateTime(timezone=True), nullable=False),
    Column("data", Text, nullable=False),  # JSON
)

# RA's catalogue of games with achievements (API_GetGameList per console), so titles resolve and
# replies are titled without asking RA. `search_key` is the title as it is compared (folded).
catalogue_games = Table(
    "catalogue_games",
    metadata,
    Column("game_id", Integer, primary_key=True, autoincrement=False),
    Column("title", String(200), nullable=False),
    Column("console_id", Integer, nullable=False, index=True),
    Column("console", String(64), nullable=False),
    Column("icon", String(128), nullable=False),
    Column("achievements", Integer, nullable=False),
    Column("points", Integer, nullable=False),
    Column("search_key", String(400), nullable=False),
)

# One row (id 1): when the catalogue was last refreshed in full, and who is refreshing it now
# (a lease, so several processes on one database refresh it once).
catalogue_state = Table(
    "catalogue_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("refreshed_at", DateTime(timezone=True), nullable=True),
    Column("refresh_owner", String(64), nullable=True),
    Column("lease_until", DateTime(timezone=True), nullable=True),
)

# Challenges: a named window over games. `ends_at` is exclusive (the day after the inclusive end
# date, 00:00 UTC). With a channel, `next_run` is the slot of the next post (`ends_at` for the
# final one) and `run_at` when to try; both NULL once the final post is made.
challenges = Table(
    "challenges",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("guild_id", BigInteger, nullable=False),
    Column("name_key", String(64), nullable=False),
    Column("name", String(64), nullable=False),
    Column("game_ids", Text, nullable=False),  # comma-separated, in order
    Column("set_name", String(64), nullable=True),  # the game set it was made from, if any
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("channel_id", BigInteger, nullable=True),
    Column("cadence", String(8), nullable=True),  # "daily" | "weekly"; NULL: the final post only
    Column("next_run", DateTime(timezone=True), nullable=True),
    Column("run_at", DateTime(timezone=True), nullable=True, index=True),
    Column("paused_reason", Text, nullable=True),
    Column("last_result", Text, nullable=True),
    Column("created_by", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_challenges_guild_name", "guild_id", "name_key", unique=True),
)

# One row per (challenge, period), exactly as schedule_posts: claimed before sending, marked
# posted after. The final post's period is the challenge's `ends_at`.
challenge_posts = Table(
    "challenge_posts",
    metadata,
    Column(
        "challenge_id", Integer, ForeignKey("challenges.id", ondelete="CASCADE"), nullable=False
    ),
    Column("period", DateTime(timezone=True), nullable=False),
    Column("status", String(12), nullable=False),  # "sending" | "posted"
    Column("claimed_by", String(64), nullable=False),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
    Column("message_id", BigInteger, nullable=True),
    PrimaryKeyConstraint("challenge_id", "period"),
)

# The standings as last posted, for "what changed" in the next post.
challenge_snapshots = Table(
    "challenge_snapshots",
    metadata,
    Column(
        "challenge_id",
        Integer,
        ForeignKey("challenges.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("period", DateTime(timezone=True), nullable=False),
    Column("data", Text, nullable=False),  # JSON
)

# News feeds (issue 17): one per guild. `games` is the option as the moderator typed it (NULL:
# every game), resolved again at each post; `since` is when it was set (no award earned before).
feeds = Table(
    "feeds",
    metadata,
    Column("guild_id", BigInteger, primary_key=True, autoincrement=False),
    Column("channel_id", BigInteger, nullable=False),
    Column("masteries", Boolean, nullable=False),
    Column("beaten", Boolean, nullable=False),
    Column("aotw", Boolean, nullable=False),
    Column("hardcore_only", Boolean, nullable=False),
    Column("games", Text, nullable=True),
    Column("since", DateTime(timezone=True), nullable=False),
    Column("created_by", BigInteger, nullable=False),
    Column("last_post_at", DateTime(timezone=True), nullable=True),
    Column("problem", Text, nullable=True),  # the last problem posting (NULL: none since)
    Column("problem_at", DateTime(timezone=True), nullable=True),
)

# Members whose awards are announced nowhere (`/feed me announce:false`).
feed_optouts = Table(
    "feed_optouts",
    metadata,
    Column("discord_user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("since", DateTime(timezone=True), nullable=False),
)

# One row (id 1): the poller's cursor (the newest award time fully seen, and the keys of the
# awards seen at exactly that time, a JSON list), the last AOTW queued, and the poller's lease.
feed_state = Table(
    "feed_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("cursor_at", DateTime(timezone=True), nullable=True),
    Column("cursor_keys", Text, nullable=False),
    Column("aotw_key", String(64), nullable=True),
    Column("polled_at", DateTime(timezone=True), nullable=True),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_until", DateTime(timezone=True), nullable=True),
)

# The announcements: queued by the poller ("pending"), claimed by a poster ("sending"), then
# "posted" (or "expired": too old to announce). The primary key is what makes each award
# announced once per guild, across restarts and processes.
feed_posts = Table(
    "feed_posts",
    metadata,
    Column("guild_id", BigInteger, nullable=False),
    Column("award_key", String(128), nullable=False),
    Column("user_id", BigInteger, nullable=False),  # the Discord member
    Column("kind", String(16), nullable=False),  # an AwardKind value or "aotw"
    Column("at", DateTime(timezone=True), nullable=False),  # when the award was earned
    Column("data", Text, nullable=False),  # JSON: what the post shows
    Column("status", String(12), nullable=False),
    Column("claimed_by", String(64), nullable=True),
    Column("claimed_at", DateTime(timezone=True), nullable=True),
    Column("message_id", BigInteger, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("guild_id", "award_key"),
    Index("ix_feed_posts_status_at", "status", "at"),  # what waits, oldest first; expiry
    Index("ix_feed_posts_status_created_at", "status", "created_at"),  # pruning
)
