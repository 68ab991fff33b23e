"""Per-guild token buckets, driven by an injected clock."""

from __future__ import annotations

import pytest

from bot.services.guild_limits import GuildRateLimited, GuildRateLimits

GUILD = ("guild", 111111111111111111)
OTHER_GUILD = ("guild", 222222222222222222)


class Clock:
    def __init__(self, now: float = 5000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def limits(default: int = 6, ceiling: int = 60) -> tuple[GuildRateLimits, Clock]:
    clock = Clock()
    return GuildRateLimits(default, ceiling, clock=clock), clock


def drain(rl: GuildRateLimits, key: object, n: int) -> None:
    for _ in range(n):
        rl.take(key)  # type: ignore[arg-type]


def retry_after(rl: GuildRateLimits, key: object) -> float:
    with pytest.raises(GuildRateLimited) as info:
        rl.take(key)  # type: ignore[arg-type]
    return info.value.retry_after


def test_bucket_empties_after_per_minute_commands() -> None:
    rl, _ = limits(default=6)
    drain(rl, GUILD, 6)
    with pytest.raises(GuildRateLimited):
        rl.take(GUILD)


def test_retry_after_is_the_time_to_the_next_token() -> None:
    rl, _ = limits(default=6)  # one token every 10 s
    drain(rl, GUILD, 6)
    assert retry_after(rl, GUILD) == pytest.approx(10.0)


def test_retry_after_shrinks_as_time_passes() -> None:
    rl, clock = limits(default=6)
    drain(rl, GUILD, 6)
    clock.now += 4
    assert retry_after(rl, GUILD) == pytest.approx(6.0)
    clock.now += 5.5
    assert retry_after(rl, GUILD) == pytest.approx(0.5)


def test_refused_commands_do_not_push_the_next_token_back() -> None:
    rl, clock = limits(default=6)
    drain(rl, GUILD, 6)
    for _ in range(20):
        retry_after(rl, GUILD)
    clock.now += 10
    rl.take(GUILD)


def test_refill_over_time() -> None:
    rl, clock = limits(default=6)
    drain(rl, GUILD, 6)
    clock.now += 10
    rl.take(GUILD)  # one token back after 10 s
    with pytest.raises(GuildRateLimited):
        rl.take(GUILD)
    clock.now += 30
    drain(rl, GUILD, 3)
    with pytest.raises(GuildRateLimited):
        rl.take(GUILD)


def test_refill_never_exceeds_the_bucket_size() -> None:
    rl, clock = limits(default=6)
    rl.take(GUILD)
    clock.now += 3600
    drain(rl, GUILD, 6)
    with pytest.raises(GuildRateLimited):
        rl.take(GUILD)


def test_guilds_are_independent() -> None:
    rl, _ = limits(default=3)
    drain(rl, GUILD, 3)
    with pytest.raises(GuildRateLimited):
        rl.take(GUILD)
    drain(rl, OTHER_GUILD, 3)
    with pytest.raises(GuildRateLimited):
        rl.take(OTHER_GUILD)


def test_dm_keys_are_per_user_and_separate_from_guilds() -> None:
    rl, _ = limits(default=2)
    same_number = 111111111111111111
    drain(rl, ("guild", same_number), 2)
    drain(rl, ("user", same_number), 2)  # a user whose id equals a guild id: own bucket
    drain(rl, ("user", 333333333333333333), 2)
    for key in (("guild", same_number), ("user", same_number), ("user", 333333333333333333)):
        with pytest.raises(GuildRateLimited):
            rl.take(key)


def test_default_above_ceiling_is_clamped() -> None:
    rl = GuildRateLimits(100, 10, clock=Clock())
    assert rl.default_per_minute == 10
    assert rl.limit_for(GUILD) == 10
    drain(rl, GUILD, 10)
    with pytest.raises(GuildRateLimited):
        rl.take(GUILD)


@pytest.mark.parametrize(
    ("asked", "in_force"), [(5, 5), (60, 60), (61, 60), (10_000, 60), (1, 1), (0, 1), (-3, 1)]
)
def test_set_limit_clamps_to_ceiling_and_one(asked: int, in_force: int) -> None:
    rl, _ = limits(default=6, ceiling=60)
    assert rl.set_limit(GUILD, asked) == in_force
    assert rl.limit_for(GUILD) == in_force
    assert rl.limit_for(OTHER_GUILD) == 6


def test_lowered_limit_is_enforced() -> None:
    rl, clock = limits(default=20)
    rl.set_limit(GUILD, 2)
    drain(rl, GUILD, 2)
    assert retry_after(rl, GUILD) == pytest.approx(30.0)
    clock.now += 30
    rl.take(GUILD)


def test_set_limit_none_goes_back_to_default() -> None:
    rl, _ = limits(default=6)
    rl.set_limit(GUILD, 2)
    assert rl.set_limit(GUILD, None) == 6
    assert rl.limit_for(GUILD) == 6


def test_changing_the_limit_does_not_refill_an_empty_bucket() -> None:
    # Otherwise a guild admin could refill the guild's budget at will by changing the rate.
    rl, _ = limits(default=6, ceiling=60)
    drain(rl, GUILD, 6)
    rl.set_limit(GUILD, 5)
    with pytest.raises(GuildRateLimited):
        rl.take(GUILD)
    rl.set_limit(GUILD, 60)
    with pytest.raises(GuildRateLimited):
        rl.take(GUILD)
    rl.set_limit(GUILD, None)
    with pytest.raises(GuildRateLimited):
        rl.take(GUILD)


def test_lowering_the_limit_caps_saved_tokens() -> None:
    rl, _ = limits(default=20)
    rl.take(GUILD)  # 19 left
    rl.set_limit(GUILD, 3)
    drain(rl, GUILD, 3)
    with pytest.raises(GuildRateLimited):
        rl.take(GUILD)


def test_raised_limit_refills_at_the_new_rate() -> None:
    rl, clock = limits(default=6, ceiling=60)
    drain(rl, GUILD, 6)
    rl.set_limit(GUILD, 60)  # one token a second now
    clock.now += 1
    rl.take(GUILD)
    assert retry_after(rl, GUILD) == pytest.approx(1.0)


def test_forgetting_refilled_buckets_keeps_the_ones_still_short() -> None:
    rl, clock = limits(default=2)  # one token every 30 s
    for guild_id in range(10_000):
        rl.take(("guild", guild_id))
    rl.take(("guild", 5))  # guild 5 is empty, the others have 1 of 2 left
    clock.now += 30  # the others are full again, guild 5 has 1
    rl.take(("guild", "newcomer"))  # a new bucket: full ones may be forgotten now
    rl.take(("guild", 5))
    with pytest.raises(GuildRateLimited):
        rl.take(("guild", 5))
    drain(rl, ("guild", 6), 2)
    with pytest.raises(GuildRateLimited):
        rl.take(("guild", 6))
