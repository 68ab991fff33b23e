"""RABot's sharding pieces without a gateway: the shard options, and IDENTIFY turns across
processes through a Redis lock per max_concurrency bucket (Discord: one IDENTIFY per bucket per
5 seconds)."""

from __future__ import annotations

import asyncio
import time

import pytest

import bot.gateway as gateway_module
from bot.bot import RABot
from bot.config import Settings
from bot.redis_link import RedisLink
from tests.fakes.redis_server import PrivateRedis

REQUIRED = {
    "DISCORD_TOKEN": "MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789",
    "RA_API_KEY": "Xq7Lm2Rt9Vb4Nc6Hd8Jf1Kg3Ps5Wz0Ya",
}
SPACING = 0.6


def make_bot(**env: str) -> RABot:
    return RABot(Settings.from_env({**REQUIRED, **env}, env_file=None))


def test_shard_settings_reach_discord_py() -> None:
    bot = make_bot(SHARD_COUNT="4", SHARD_IDS="1,3")
    assert (bot.shard_count, bot.shard_ids) == (4, [1, 3])
    bot = make_bot()
    assert (bot.shard_count, bot.shard_ids) == (None, None)  # Discord's recommendation


async def identify_times(bots: list[tuple[RABot, int]]) -> list[float]:
    began = time.monotonic()

    async def one(bot: RABot, shard: int) -> float:
        await bot.before_identify_hook(shard, initial=True)
        return time.monotonic() - began

    return list(await asyncio.gather(*(one(b, s) for b, s in bots)))


def with_redis(bot: RABot, url: str, prefix: str, max_concurrency: int) -> RABot:
    bot.redis = RedisLink(url, prefix=prefix)
    bot.max_concurrency = max_concurrency
    return bot


async def test_identifies_of_two_processes_in_one_bucket_take_turns(
    shared_redis: str, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gateway_module, "IDENTIFY_SPACING", SPACING)
    bots = [with_redis(make_bot(), shared_redis, redis_prefix, 1) for _ in range(2)]
    try:
        times = sorted(await identify_times([(bots[0], 0), (bots[1], 1)]))
    finally:
        for b in bots:
            assert b.redis is not None
            await b.redis.close()
    assert times[0] < SPACING / 2  # the first goes at once
    assert times[1] >= SPACING * 0.9  # the second waits for the bucket's lock to expire


async def test_identifies_in_different_buckets_go_together(
    shared_redis: str, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gateway_module, "IDENTIFY_SPACING", SPACING)
    bots = [with_redis(make_bot(), shared_redis, redis_prefix, 2) for _ in range(2)]
    try:
        times = await identify_times([(bots[0], 0), (bots[1], 1)])
    finally:
        for b in bots:
            assert b.redis is not None
            await b.redis.close()
    assert max(times) < SPACING / 2  # max_concurrency 2: shards 0 and 1 are two buckets


async def test_without_redis_identify_falls_back_to_discord_py(
    private_redis: PrivateRedis, redis_prefix: str
) -> None:
    bot = with_redis(make_bot(), private_redis.url, redis_prefix, 1)
    private_redis.stop()
    try:
        (took,) = await identify_times([(bot, 0)])  # initial: discord.py does not wait
    finally:
        assert bot.redis is not None
        await bot.redis.close()
    assert took < 2.0


async def test_check_says_whether_redis_answers(
    shared_redis: str, private_redis: PrivateRedis
) -> None:
    from bot.check import check_redis

    assert await check_redis(Settings.from_env(REQUIRED, env_file=None)) is None
    settings = Settings.from_env({**REQUIRED, "REDIS_URL": shared_redis}, env_file=None)
    assert await check_redis(settings) is None
    private_redis.stop()
    url = private_redis.url.replace("redis://", "redis://:sekrit@")
    problem = await check_redis(Settings.from_env({**REQUIRED, "REDIS_URL": url}, env_file=None))
    assert problem is not None
    assert problem.startswith(f"REDIS_URL: Redis does not answer at 127.0.0.1:{private_redis.port}")
    assert "sekrit" not in problem


def test_without_redis_a_process_with_some_shards_keeps_to_its_share() -> None:
    from bot.bot import local_limiter
    from bot.ra.shared_budget import SPARE

    def settings(**env: str) -> Settings:
        return Settings.from_env({**REQUIRED, **env}, env_file=None)

    whole = local_limiter(settings(RA_REQUESTS_PER_SECOND="4", RA_MAX_IN_FLIGHT="4"))
    assert (whole.interval, whole.max_in_flight) == (0.25, 4)
    half = local_limiter(
        settings(RA_REQUESTS_PER_SECOND="4", RA_MAX_IN_FLIGHT="4", SHARD_COUNT="4", SHARD_IDS="0,1")
    )
    assert half.interval == pytest.approx(0.5 * (1 + SPARE))
    assert half.max_in_flight == 2
    third = local_limiter(settings(RA_MAX_IN_FLIGHT="2", SHARD_COUNT="3", SHARD_IDS="2"))
    assert third.max_in_flight == 1  # at least one


async def test_a_redis_that_does_not_answer_at_start_up_is_said_once(
    private_redis: PrivateRedis, redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    link = RedisLink(private_redis.url, prefix=redis_prefix)
    try:
        assert await link.probe()
        private_redis.stop()
        assert not await link.probe()
        assert not await link.usable()  # on the share until RECHECK has passed
    finally:
        await link.close()
    assert [r.getMessage() for r in caplog.records if "Redis unreachable" in r.getMessage()]
