"""The news feed's embeds: one award, the AOTW, many as one summary, /aotw and /feed show. Pure:
queued posts and models in, embeds out; user and RA text inert, Discord's limits kept."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import discord
import pytest
from hypothesis import example, given, settings, target
from hypothesis import strategies as st

from bot.formatting.feed import (
    DELETED_GAME,
    NO_AOTW,
    aotw_embed,
    aotw_mine_embed,
    aotw_post_embed,
    award_embed,
    feed_embed,
    fit_lines,
    summary_embed,
    summary_line,
)
from bot.formatting.urls import SiteUrls
from bot.models.awards import AchievementOfTheWeek, AwardKind, WeekUnlock
from bot.models.feeds import AOTW, EXPIRED, PENDING, POSTED, SENDING, Feed, QueuedPost
from bot.models.ra import GameInfo
from tests.strategies import (
    bounded,
    check_embed,
    embed_texts,
    no_ping,
    points,
    raw_markdown_absent,
)

URLS = SiteUrls()
AT = datetime(2024, 5, 17, 12, 30, tzinfo=UTC)
EPOCH = int(AT.timestamp())
MARKER = "Feed · 01HZXK3M4N5P6Q7R8S9T0V1W2X:1:mastered:1715949000"
HOSTILE_NAME = "@everyone <@123456789012345678> **bold**"
HOSTILE_TITLE = "[x](https://evil.example) __under__ @here"
EVIL_LINK = re.compile(r"(?<!\\)\]\(https://evil")  # a live link to it: "]" not escaped


def game_post(kind: str = "mastered", **data: Any) -> QueuedPost:
    values: dict[str, Any] = {
        "ra_name": "Scott",
        "ulid": "01HZXK3M4N5P6Q7R8S9T0V1W2X",
        "game_id": 1,
        "game_title": "Sonic the Hedgehog",
        "console_id": 1,
        "console": "Genesis/Mega Drive",
        "hardcore": AwardKind(kind).hardcore,
    }
    values.update(data)
    return QueuedPost(1, f"key:{kind}", 42, kind, AT, values, PENDING, None, None)


def aotw_post(**data: Any) -> QueuedPost:
    values: dict[str, Any] = {
        "ra_name": "Scott",
        "ulid": "01HZXK3M4N5P6Q7R8S9T0V1W2X",
        "hardcore": False,
        "achievement_id": 9001,
        "title": "Speed Demon",
        "description": "Finish Act 1 in under 30 seconds",
        "points": 25,
        "badge_url": "/Badge/250336.png",
        "game_id": 3,
        "game_title": "Super Mario Bros.",
        "console_id": 7,
        "console": "NES/Famicom",
    }
    values.update(data)
    return QueuedPost(1, "aotw:9001:0:X", 42, AOTW, AT, values, PENDING, None, None)


def week(**overrides: Any) -> AchievementOfTheWeek:
    values: dict[str, Any] = {
        "achievement_id": 9001,
        "title": "Speed Demon",
        "description": "Finish Act 1 in under 30 seconds",
        "points": 25,
        "badge_url": "/Badge/250336.png",
        "game_id": 3,
        "game_title": "Super Mario Bros.",
        "console_id": 7,
        "console": "NES/Famicom",
        "starts_at": AT - timedelta(days=2),
        "unlocks": [],
        "unlocks_count": 1234,
        "unlocks_hardcore_count": 1000,
        "total_players": 56789,
    }
    values.update(overrides)
    return AchievementOfTheWeek(**values)


def feed(**overrides: Any) -> Feed:
    values: dict[str, Any] = {
        "guild_id": 1,
        "channel_id": 55,
        "masteries": True,
        "beaten": True,
        "aotw": True,
        "hardcore_only": False,
        "games": None,
        "since": AT - timedelta(days=3),
        "created_by": 7,
        "last_post_at": None,
        "problem": None,
        "problem_at": None,
    }
    values.update(overrides)
    return Feed(**values)


def fields(embed: discord.Embed) -> dict[str, str]:
    return {str(f.name): str(f.value) for f in embed.fields}


def text_of(embed: discord.Embed) -> str:
    return "\n".join(embed_texts(embed))


def assert_inert(embed: discord.Embed, originals: list[str]) -> None:
    """Within Discord's limits, nothing can ping, no link smuggled in, no raw markdown."""
    check_embed(embed)
    rendered = text_of(embed)
    assert not EVIL_LINK.search(rendered), rendered
    raw_markdown_absent(originals, rendered)


# One award.


def test_a_mastery_names_the_member_the_game_and_when() -> None:
    embed = award_embed(game_post(), "Bob", None, URLS, MARKER)
    assert embed.title == "👑 Mastered in hardcore"
    description = embed.description or ""
    assert "**Bob** ([Scott](https://retroachievements.org/user/Scott))" in description
    assert "mastered **[Sonic the Hedgehog](https://retroachievements.org/game/1)**" in description
    assert "(Genesis/Mega Drive)" in description
    assert f"<t:{EPOCH}:f>" in description and f"<t:{EPOCH}:R>" in description
    assert embed.footer.text == MARKER
    assert embed.thumbnail.url is None  # no catalogue entry: no icon to show


@pytest.mark.parametrize(
    ("kind", "title", "verb"),
    [
        ("mastered", "👑 Mastered in hardcore", " mastered "),
        ("completed", "✅ Completed in softcore", " completed "),
        ("beaten-hardcore", "⭐ Beaten in hardcore", " beat "),
        ("beaten-softcore", "⭐ Beaten in softcore", " beat "),
    ],
)
def test_each_kind_has_its_mark_and_mode(kind: str, title: str, verb: str) -> None:
    embed = award_embed(game_post(kind), "Bob", None, URLS, MARKER)
    assert embed.title == title
    assert verb in (embed.description or "")


def test_the_mode_follows_the_kind_not_a_stray_flag() -> None:
    embed = award_embed(game_post("mastered", hardcore=False), "Bob", None, URLS, MARKER)
    assert embed.title == "👑 Mastered in hardcore"


def test_the_catalogue_title_console_and_icon_are_preferred() -> None:
    game = GameInfo(1, "Sonic the Hedgehog (Rev 1)", "Mega Drive", "/Images/085573.png")
    embed = award_embed(game_post(), "Bob", game, URLS, MARKER)
    description = embed.description or ""
    assert "[Sonic the Hedgehog (Rev 1)](https://retroachievements.org/game/1)" in description
    assert "(Mega Drive)" in description
    assert "Genesis" not in description
    assert embed.thumbnail.url == "https://media.retroachievements.org/Images/085573.png"


def test_the_awards_own_title_when_the_catalogue_has_none() -> None:
    post = game_post(game_id=228, game_title="Castlevania", console="NES")
    embed = award_embed(post, "Bob", None, URLS, MARKER)
    assert "**[Castlevania](https://retroachievements.org/game/228)** (NES)" in (
        embed.description or ""
    )


def test_a_deleted_game_is_said_without_a_link() -> None:
    embed = award_embed(game_post(game_title=None), "Bob", None, URLS, MARKER)
    description = embed.description or ""
    assert f"mastered {DELETED_GAME}" in description
    assert "/game/" not in description
    assert "Genesis" not in description


def test_an_empty_title_still_makes_a_link_with_text() -> None:
    embed = award_embed(game_post(game_title="  "), "Bob", None, URLS, MARKER)
    assert "[Game 1](https://retroachievements.org/game/1)" in (embed.description or "")


def test_hostile_names_and_titles_are_inert() -> None:
    post = game_post(ra_name="a_b*c", game_title=HOSTILE_TITLE, console="<@&1> `x`")
    embed = award_embed(post, HOSTILE_NAME, None, URLS, MARKER)
    assert_inert(embed, [HOSTILE_NAME, HOSTILE_TITLE, "a_b*c", "<@&1> `x`"])
    description = embed.description or ""
    assert "**bold**" not in description
    assert "[a\\_b\\*c](https://retroachievements.org/user/a_b%2Ac)" in description


def test_without_a_discord_name_the_ra_name_stands_alone() -> None:
    embed = award_embed(game_post(), "", None, URLS, MARKER)
    assert (embed.description or "").startswith(
        "**[Scott](https://retroachievements.org/user/Scott)** mastered"
    )


# The Achievement of the Week, earned.


def test_an_aotw_post_shows_the_achievement_its_game_and_when() -> None:
    embed = aotw_post_embed(aotw_post(), "Bob", URLS, MARKER)
    assert embed.title == "🏅 Achievement of the Week in softcore"
    description = embed.description or ""
    assert "**Bob** ([Scott](https://retroachievements.org/user/Scott))" in description
    assert "**[Speed Demon](https://retroachievements.org/achievement/9001)** · 25 points" in (
        description
    )
    assert "Finish Act 1 in under 30 seconds" in description
    assert "**[Super Mario Bros.](https://retroachievements.org/game/3)** (NES/Famicom)" in (
        description
    )
    assert f"<t:{EPOCH}:f>" in description
    assert embed.thumbnail.url == "https://media.retroachievements.org/Badge/250336.png"
    assert embed.footer.text == MARKER


def test_award_embed_hands_an_aotw_post_to_its_own_embed() -> None:
    post = aotw_post(hardcore=True)
    game = GameInfo(3, "Not this one", "Nor this", "/Images/1.png")
    embed = award_embed(post, "Bob", game, URLS, MARKER)
    assert embed.title == "🏅 Achievement of the Week in hardcore"
    assert "Not this one" not in (embed.description or "")
    assert embed.to_dict() == aotw_post_embed(post, "Bob", URLS, MARKER).to_dict()


def test_an_aotw_posts_hostile_text_is_inert() -> None:
    post = aotw_post(title=HOSTILE_TITLE, description="> quote\n# head *x*", console="@here")
    embed = aotw_post_embed(post, HOSTILE_NAME, URLS, MARKER)
    assert_inert(embed, [HOSTILE_NAME, HOSTILE_TITLE, "> quote # head *x*"])


# Many at once.


def test_a_summary_names_each_post_oldest_first() -> None:
    older = replace(game_post("beaten-softcore", game_id=5, game_title="Zelda"), user_id=7)
    older = replace(older, at=AT - timedelta(hours=1), award_key="a")
    later = replace(aotw_post(), at=AT + timedelta(minutes=1))
    posts = [later, game_post(), older]
    games = {1: GameInfo(1, "Sonic 1 (catalogue)", "MD", "")}
    embed = summary_embed(posts, {42: "Bob", 7: "Scott"}, games, URLS, MARKER)
    assert embed.title == "3 new awards to celebrate"
    assert embed.footer.text == MARKER
    lines = (embed.description or "").split("\n")
    assert len(lines) == 3
    assert lines[0].startswith("⭐ **Scott** beat **[Zelda](https://retroachievements.org/game/5)")
    assert "softcore" in lines[0]
    assert lines[1].startswith("👑 **Bob** (Scott) mastered **[Sonic 1 (catalogue)](")
    assert lines[2].startswith("🏅 **Bob** (Scott) earned the Achievement of the Week")
    assert "[Speed Demon](https://retroachievements.org/achievement/9001)" in lines[2]
    assert f"<t:{EPOCH}:R>" in lines[1]


def test_a_summary_line_without_a_name_shows_the_ra_name() -> None:
    line = summary_line(game_post(game_title=None), "", None, URLS)
    assert line.startswith(f"👑 **Scott** mastered {DELETED_GAME} · hardcore")


def worst_post(n: int) -> QueuedPost:
    """As long as allowed, made of characters that escaping doubles."""
    post = game_post(ra_name="_" * 20, game_id=10**9 + n, game_title="*" * 255, console="_" * 64)
    return replace(post, award_key=f"k{n:04}", user_id=n)


@pytest.mark.parametrize("count", [11, 300, 900])
def test_a_summary_of_hundreds_stays_within_limits_and_counts_the_rest(count: int) -> None:
    posts = [worst_post(n) for n in range(count)]
    names = {n: "*" * 32 for n in range(count)}
    embed = summary_embed(posts, names, {}, URLS, MARKER)
    check_embed(embed)
    lines = (embed.description or "").split("\n")
    match = re.fullmatch(r"…and ([\d,]+) more\.", lines[-1])
    assert match is not None, lines[-1]
    shown = lines[:-1]
    assert len(shown) + int(match.group(1).replace(",", "")) == count
    # Whole lines only: each is exactly its post's line, links and all.
    assert shown == [summary_line(p, names[p.user_id], None, URLS) for p in posts[: len(shown)]]
    assert len(shown) >= 5


def test_a_summary_that_fits_has_no_count() -> None:
    posts = [replace(game_post(), award_key=f"k{n}") for n in range(12)]
    embed = summary_embed(posts, {42: "Bob"}, {}, URLS, MARKER)
    lines = (embed.description or "").split("\n")
    assert len(lines) == 12
    assert "more" not in lines[-1]


@pytest.mark.parametrize(
    ("room", "expected"),
    [
        (100, "aaaa\nbbbb\ncccc"),
        (14, "aaaa\nbbbb\ncccc"),
        (13, "aaaa\nbbbb\n+1"),
        (12, "aaaa\nbbbb\n+1"),
        (11, "aaaa\n+2"),  # "bbbb" would fit, but not with the count after it
        (7, "aaaa\n+2"),
        (6, "+3"),
        (1, ""),
    ],
)
def test_fit_lines_keeps_whole_lines_and_counts_the_rest(room: int, expected: str) -> None:
    text = fit_lines(["aaaa", "bbbb", "cccc"], room, lambda n: f"+{n}")
    assert text == expected
    assert len(text) <= room


# /aotw


def test_no_aotw_is_one_sentence() -> None:
    for embed in (aotw_embed(None, [], 3, URLS), aotw_mine_embed(None, None, URLS)):
        assert embed.description == NO_AOTW
        assert not embed.fields


def test_aotw_shows_the_achievement_and_the_guilds_earners() -> None:
    earners = [
        ("Bob", WeekUnlock("Scott", "U1", True, AT)),
        (HOSTILE_NAME, WeekUnlock("Eve", "U2", False, AT + timedelta(hours=1))),
    ]
    embed = aotw_embed(week(), earners, 3, URLS)
    assert embed.title == "🏅 Speed Demon"
    assert embed.url == "https://retroachievements.org/achievement/9001"
    assert embed.thumbnail.url == "https://media.retroachievements.org/Badge/250336.png"
    description = embed.description or ""
    assert "Finish Act 1 in under 30 seconds" in description
    assert "**25 points** · **[Super Mario Bros.](https://retroachievements.org/game/3)**" in (
        description
    )
    assert "(NES/Famicom)" in description
    values = fields(embed)
    earned = values["Earned here (2)"].split("\n")
    assert earned[0] == f"**Bob** · hardcore · <t:{EPOCH}:f>"
    assert earned[1].endswith(f"· softcore · <t:{EPOCH + 3600}:f>")
    assert values["Not yet"] == "3 linked members here have not earned it yet."
    assert_inert(embed, [HOSTILE_NAME])


def test_aotw_with_nobody_here_yet() -> None:
    values = fields(aotw_embed(week(), [], 1, URLS))
    assert values["Earned here (0)"] == "Nobody here yet."
    assert values["Not yet"] == "1 linked member here has not earned it yet."
    values = fields(aotw_embed(week(), [], 0, URLS))
    assert values["Not yet"].startswith("Nobody here has linked an RA account yet")


def test_aotw_when_everyone_has_it() -> None:
    earners = [("Bob", WeekUnlock("Scott", "U1", True, AT))]
    assert fields(aotw_embed(week(), earners, 0, URLS))["Not yet"] == (
        "Every linked member here has earned it."
    )


def test_aotw_with_hundreds_of_earners_counts_the_rest() -> None:
    earners = [("*" * 32, WeekUnlock("x", "", n % 2 == 0, AT)) for n in range(500)]
    embed = aotw_embed(week(title="_" * 255, description="*" * 255), earners, 10, URLS)
    check_embed(embed)
    value = fields(embed)["Earned here (500)"]
    match = re.search(r"…and ([\d,]+) more\.$", value)
    assert match is not None
    assert value.count("\n") + int(match.group(1)) == 500


def test_aotw_mine_says_whether_the_caller_has_it() -> None:
    mine = aotw_mine_embed(week(), WeekUnlock("Scott", "U1", True, AT), URLS)
    assert fields(mine)["You"] == f"Earned in hardcore <t:{EPOCH}:f> (<t:{EPOCH}:R>)"
    assert mine.title == "🏅 Speed Demon"
    not_yet = aotw_mine_embed(week(), None, URLS)
    assert fields(not_yet)["You"].startswith("Not yet")


def test_aotw_hostile_text_is_inert() -> None:
    aotw = week(title=HOSTILE_TITLE, description=HOSTILE_NAME, game_title="**g**", console="@here")
    for embed in (aotw_embed(aotw, [], 0, URLS), aotw_mine_embed(aotw, None, URLS)):
        assert_inert(embed, [HOSTILE_TITLE, HOSTILE_NAME, "**g**"])


# /feed show


def test_feed_show_without_a_problem() -> None:
    embed = feed_embed(
        feed(),
        channel_mention="<#55>",
        games_text=None,
        queued={PENDING: 0, SENDING: 0, POSTED: 12, EXPIRED: 0},
        requests_last_hour=61,
    )
    assert embed.description == "Announcing in <#55>."
    values = fields(embed)
    assert values["Announces"] == (
        "👑 masteries (✅ completions too) · ⭐ beaten games · 🏅 the Achievement of the Week"
    )
    assert values["Mode"] == "hardcore and softcore"
    assert values["Games"] == "every game"
    assert values["Since"] == f"<t:{EPOCH - 3 * 86400}:f>"
    assert values["Last post"] == "nothing posted yet"
    assert "Last problem posting" not in values
    assert values["Queue"] == "nothing waiting"
    cost = values["RetroAchievements requests (last hour)"]
    assert cost.startswith("61: one poll serves every server")


def test_feed_show_with_a_problem_and_posts_waiting() -> None:
    shown = feed(
        masteries=False,
        hardcore_only=True,
        games="Monthly",
        last_post_at=AT,
        problem="Missing Permissions @everyone **now**",
        problem_at=AT + timedelta(minutes=5),
    )
    embed = feed_embed(
        shown,
        channel_mention="<#55>",
        games_text="Sonic the Hedgehog (1), Zelda (5)",
        queued={PENDING: 3, SENDING: 1, EXPIRED: 2},
        requests_last_hour=1234,
    )
    values = fields(embed)
    assert values["Announces"] == "⭐ beaten games · 🏅 the Achievement of the Week"
    assert values["Mode"] == "hardcore only"
    assert values["Games"] == "Sonic the Hedgehog (1), Zelda (5)"
    assert values["Last post"] == f"<t:{EPOCH}:f> (<t:{EPOCH}:R>)"
    problem = values["Last problem posting"]
    assert problem.startswith("Missing Permissions")
    assert problem.endswith(f"· <t:{EPOCH + 300}:f> (<t:{EPOCH + 300}:R>)")
    assert values["Queue"] == (
        "3 waiting · 1 being sent · 2 never sent: they waited longer than the catch-up window"
    )
    assert values["RetroAchievements requests (last hour)"].startswith("1,234:")
    assert_inert(embed, ["Missing Permissions @everyone **now**"])


def test_feed_show_escapes_the_stored_games_when_not_given_as_titles() -> None:
    embed = feed_embed(
        feed(games="**Monthly** @everyone", aotw=False, beaten=False, masteries=False),
        channel_mention="<#55>",
        games_text=None,
        queued={},
        requests_last_hour=0,
    )
    values = fields(embed)
    assert values["Games"] == "\\*\\*Monthly\\*\\* @\u200beveryone"
    assert values["Announces"] == "nothing: every kind is off"
    no_ping(text_of(embed))


# Properties: hostile names and titles, any kind, any number of posts.

PROPS = settings(max_examples=60, deadline=None)
kinds = st.sampled_from([*(k.value for k in AwardKind), AOTW])
markers = st.from_regex(r"Feed · [0-9A-Z]{26}:\d{1,10}:[a-z-]{4,15}:\d{10}", fullmatch=True)
badges = st.sampled_from(["", "/Badge/1.png", "Badge/1.png", "https://x.example/b.png"])
games_info = st.one_of(
    st.none(),
    st.builds(
        GameInfo,
        st.integers(min_value=1, max_value=10**9),
        bounded(255),
        bounded(64),
        st.sampled_from(["", "/Images/000001.png", "https://x.example/i.png"]),
    ),
)


@st.composite
def queued_posts(draw: st.DrawFn) -> QueuedPost:
    kind = draw(kinds)
    data: dict[str, Any] = {
        "ra_name": draw(bounded(20)),
        "ulid": "01HZXK3M4N5P6Q7R8S9T0V1W2X",
        "game_id": draw(st.integers(min_value=1, max_value=10**9)),
        "game_title": draw(st.one_of(st.none(), bounded(255))),
        "console_id": 1,
        "console": draw(bounded(64)),
        "hardcore": draw(st.booleans()),
    }
    if kind == AOTW:
        data |= {
            "achievement_id": draw(st.integers(min_value=1, max_value=10**9)),
            "title": draw(bounded(255)),
            "description": draw(bounded(255)),
            "points": draw(points),
            "badge_url": draw(badges),
            "game_title": draw(bounded(255)),
        }
    user_id = draw(st.integers(min_value=1, max_value=50))
    at = AT - timedelta(seconds=draw(st.integers(min_value=0, max_value=10**6)))
    return QueuedPost(1, draw(st.text(max_size=8)), user_id, kind, at, data, PENDING, None, None)


def post_strings(post: QueuedPost) -> list[str]:
    keys = ("ra_name", "game_title", "console", "title", "description")
    return [str(post.data[k]) for k in keys if post.data.get(k) is not None]


def worst_aotw_post() -> QueuedPost:
    return aotw_post(
        ra_name="_" * 20, title="*" * 255, description="_" * 255, console="*" * 64,
        game_title="_" * 255, badge_url="https://x.example/b.png",
    )  # fmt: skip


@PROPS
@given(queued_posts(), bounded(32), games_info, markers)
@example(worst_post(1), "*" * 32, GameInfo(1, "_" * 255, "*" * 64, "/Images/1.png"), MARKER)
@example(worst_aotw_post(), "*" * 32, None, MARKER)
def test_any_post_within_discord_limits(
    post: QueuedPost, name: str, game: GameInfo | None, marker: str
) -> None:
    embed = award_embed(post, name, game, URLS, marker)
    target(len(embed))
    check_embed(embed)
    assert embed.footer.text == marker
    extra = [game.title, game.console] if game is not None else []
    raw_markdown_absent([name, *post_strings(post), *extra], text_of(embed))


@PROPS
@given(
    st.lists(queued_posts(), min_size=11, max_size=80),
    st.dictionaries(st.integers(min_value=1, max_value=50), bounded(32)),
    st.dictionaries(st.integers(min_value=1, max_value=10**9), games_info, max_size=5),
    markers,
)
def test_any_summary_within_discord_limits(
    posts: list[QueuedPost],
    names: dict[int, str],
    games: dict[int, GameInfo | None],
    marker: str,
) -> None:
    embed = summary_embed(posts, names, games, URLS, marker)
    target(len(embed))
    check_embed(embed)
    lines = (embed.description or "").split("\n")
    match = re.fullmatch(r"…and ([\d,]+) more\.", lines[-1])
    shown = len(lines) - (1 if match else 0)
    assert shown + (int(match.group(1).replace(",", "")) if match else 0) == len(posts)
    strings = [s for post in posts for s in post_strings(post)] + list(names.values())
    raw_markdown_absent(strings, text_of(embed))


unlocks = st.builds(
    WeekUnlock, bounded(20), st.just(""), st.booleans(), st.just(AT)
)  # fmt: skip
weeks = st.builds(
    AchievementOfTheWeek,
    achievement_id=st.integers(min_value=1, max_value=10**9),
    title=bounded(255),
    description=bounded(255),
    points=points,
    badge_url=badges,
    game_id=st.integers(min_value=1, max_value=10**9),
    game_title=bounded(255),
    console_id=st.just(1),
    console=bounded(64),
    starts_at=st.one_of(st.none(), st.just(AT)),
    unlocks=st.just([]),
    unlocks_count=points,
    unlocks_hardcore_count=points,
    total_players=points,
)


@PROPS
@given(
    st.one_of(st.none(), weeks),
    st.lists(st.tuples(bounded(32), unlocks), max_size=300),
    st.integers(min_value=0, max_value=100_000),
    st.one_of(st.none(), unlocks),
)
def test_any_aotw_within_discord_limits(
    aotw: AchievementOfTheWeek | None,
    earners: list[tuple[str, WeekUnlock]],
    not_yet: int,
    mine: WeekUnlock | None,
) -> None:
    strings = [name for name, _ in earners]
    if aotw is not None:
        strings += [aotw.title, aotw.description, aotw.game_title, aotw.console]
    for embed in (aotw_embed(aotw, earners, not_yet, URLS), aotw_mine_embed(aotw, mine, URLS)):
        check_embed(embed)
        raw_markdown_absent(strings, text_of(embed))


@PROPS
@given(
    st.one_of(st.none(), bounded(2000)),
    st.one_of(st.none(), bounded(2000)),
    st.booleans(),
    st.dictionaries(st.sampled_from([PENDING, SENDING, POSTED, EXPIRED]), points),
    points,
)
def test_any_feed_show_within_discord_limits(
    games: str | None, problem: str | None, hardcore_only: bool, queued: dict[str, int], n: int
) -> None:
    shown = feed(
        games=games,
        problem=problem,
        problem_at=AT if problem is not None else None,
        hardcore_only=hardcore_only,
        last_post_at=AT,
    )
    embed = feed_embed(
        shown, channel_mention="<#55>", games_text=None, queued=queued, requests_last_hour=n
    )
    check_embed(embed)
    raw_markdown_absent([games or "", problem or ""], text_of(embed))
