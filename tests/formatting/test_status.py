"""The /status embed: figures in, readable fields out."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import discord
import pytest

from bot.formatting.status import status_embed
from bot.stats import StatsSnapshot


def fields(embed: discord.Embed) -> dict[str, str]:
    return {str(f.name): str(f.value) for f in embed.fields}


def test_status_fields() -> None:
    embed = status_embed(
        latency=0.0426,
        guilds=1234,
        shards=2,
        stats=StatsSnapshot(ra_requests=15000, ra_errors=3, cache_hits=3, cache_misses=1),
    )
    assert fields(embed) == {
        "Gateway latency": "43 ms",
        "Storage": "ok",
        "RetroAchievements": "ok",
        "Servers": "1,234",
        "Shards": "2",
        "RA requests (last hour)": "15,000",
        "RA errors (last hour)": "3",
        "Waited for a turn (last hour)": "0 delayed 1 s or more, 0 refused",
        "RA queue now": "empty",
        "Cache hit rate (last hour)": "75%",
    }
    assert embed.title


def test_status_shows_the_budget_and_the_queue() -> None:
    embed = status_embed(
        latency=0.05,
        guilds=3,
        shards=1,
        stats=StatsSnapshot(
            ra_requests=2700,
            ra_errors=0,
            cache_hits=0,
            cache_misses=0,
            ra_scheduled=700,
            ra_delayed=41,
            ra_refused=2,
        ),
        budget_per_hour=10_800,
        waiting=17,
        queue_wait=3.26,
    )
    values = fields(embed)
    assert values["RA budget (last hour)"] == (
        "2,700 of 10,800 (25%): 2,000 interactive, 700 scheduled"
    )
    assert values["Waited for a turn (last hour)"] == "41 delayed 1 s or more, 2 refused"
    assert values["RA queue now"] == "17 waiting, the longest for 3.3 s"


@pytest.mark.parametrize("latency", [math.inf, math.nan])
def test_not_connected_latency(latency: float) -> None:
    embed = status_embed(latency=latency, guilds=0, shards=1, stats=StatsSnapshot(0, 0, 0, 0))
    values = fields(embed)
    assert values["Gateway latency"] == "not connected"
    assert values["Cache hit rate (last hour)"] == "no look-ups yet"


def test_all_misses_is_zero_percent_not_no_lookups() -> None:
    embed = status_embed(latency=0.1, guilds=1, shards=1, stats=StatsSnapshot(1, 0, 0, 5))
    assert fields(embed)["Cache hit rate (last hour)"] == "0%"


def test_storage_or_ra_not_answering_says_since_when() -> None:
    since = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    embed = status_embed(
        latency=0.1,
        guilds=1,
        shards=1,
        stats=StatsSnapshot(0, 0, 0, 0),
        storage_down_since=since,
        ra_down_since=since,
    )
    values = fields(embed)
    expected = f"⚠️ not answering since <t:{int(since.timestamp())}:R>"
    assert values["Storage"] == expected
    assert values["RetroAchievements"] == expected


def test_the_feed_s_cost_and_this_server_s_last_post_and_problem() -> None:
    from datetime import UTC, datetime

    from bot.models.feeds import Feed

    at = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    feed = Feed(1, 2, True, True, True, False, None, at, 3, at, "the channel was **deleted**", at)
    embed = status_embed(
        latency=0.1, guilds=1, shards=1, stats=StatsSnapshot(1, 0, 0, 5), feed_requests=120,
        feed=feed,
    )
    (field,) = [f for f in embed.fields if f.name == "News feed"]
    assert field.value == (
        f"120 RA requests in the last hour, for every server; this server's: last post "
        f"<t:{int(at.timestamp())}:R>; last problem: the channel was \\*\\*deleted\\*\\*"
    )
    quiet = status_embed(latency=0.1, guilds=1, shards=1, stats=StatsSnapshot(1, 0, 0, 5),
                         feed_requests=0)
    assert [f.value for f in quiet.fields if f.name == "News feed"] == [
        "0 RA requests in the last hour, for every server"
    ]
