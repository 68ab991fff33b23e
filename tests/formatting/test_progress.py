"""The /progress reply built from hand-made ProgressReports: content, links and Discord's limits."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import discord
import pytest

from bot.formatting.progress import (
    COMPLETED,
    DESCRIPTION_LIMIT,
    EMBEDS_PER_MESSAGE,
    MASTERED,
    MESSAGE_LIMIT,
    game_block,
    progress_messages,
    totals,
)
from bot.formatting.urls import SiteUrls
from bot.models.progress import GameEntry, ProgressReport
from bot.models.ra import GameInfo, GameProgress, UserProfile

FETCHED = datetime(2024, 5, 17, 12, 30, 5, tzinfo=UTC)
URLS = SiteUrls()
PROFILE = UserProfile("MaxMilyin", "00003EMFWR7XB8SDPEHB3K56ZQ", "/UserPic/MaxMilyin.png", 550, 260)


def progress(
    game_id: int,
    possible: int,
    possible_score: int,
    achieved: int = 0,
    score: int = 0,
    achieved_hardcore: int = 0,
    score_hardcore: int = 0,
) -> GameProgress:
    return GameProgress(
        game_id, possible, possible_score, achieved, score, achieved_hardcore, score_hardcore
    )


def entry(
    game_id: int,
    possible: int = 20,
    possible_score: int = 300,
    achieved: int = 0,
    score: int = 0,
    achieved_hardcore: int = 0,
    score_hardcore: int = 0,
    *,
    title: str | None = None,
    console: str = "SNES/Super Famicom",
    icon: str | None = None,
) -> GameEntry:
    info = GameInfo(
        game_id,
        title if title is not None else f"Game number {game_id}",
        console,
        icon if icon is not None else f"/Images/{game_id:06d}.png",
    )
    return GameEntry(
        game_id,
        progress(
            game_id, possible, possible_score, achieved, score, achieved_hardcore, score_hardcore
        ),
        info,
    )


def unknown(game_id: int) -> GameEntry:
    return GameEntry(game_id, progress(game_id, 0, 0), None)


def report(*games: GameEntry, profile: UserProfile = PROFILE) -> ProgressReport:
    return ProgressReport(profile, list(games), FETCHED)


def all_embeds(messages: list[list[discord.Embed]]) -> list[discord.Embed]:
    return [embed for message in messages for embed in message]


def whole_text(messages: list[list[discord.Embed]]) -> str:
    parts = []
    for embed in all_embeds(messages):
        parts.append(embed.title or "")
        parts.append(embed.description or "")
        parts.extend(f"{f.name}\n{f.value}" for f in embed.fields)
    return "\n".join(parts)


# -- one game's block ----------------------------------------------------------------------------


def test_hardcore_line_comes_first_and_softcore_shown_when_different() -> None:
    block = game_block(
        entry(1, 23, 400, achieved=15, score=200, achieved_hardcore=10, score_hardcore=150), URLS
    )
    lines = block.split("\n")
    assert len(lines) == 3
    assert "HC" in lines[1] and "**10/23**" in lines[1] and "150/400 pts" in lines[1]
    assert "43%" in lines[1]
    assert "SC" in lines[2] and "**15/23**" in lines[2] and "200/400 pts" in lines[2]
    assert "65%" in lines[2]


def test_softcore_line_omitted_when_same_as_hardcore() -> None:
    block = game_block(
        entry(1, 23, 400, achieved=10, score=150, achieved_hardcore=10, score_hardcore=150), URLS
    )
    assert "SC" not in block
    assert block.count("\n") == 1
    assert "HC **10/23**" in block


def test_softcore_line_shown_when_only_points_differ() -> None:
    block = game_block(
        entry(1, 23, 400, achieved=10, score=160, achieved_hardcore=10, score_hardcore=150), URLS
    )
    assert "SC" in block


def test_no_progress_is_a_zero_hardcore_line() -> None:
    block = game_block(entry(1, 23, 400), URLS)
    assert "HC **0/23**" in block and "0/400 pts" in block and "0%" in block
    assert MASTERED not in block and COMPLETED not in block


def test_large_numbers_have_thousands_separators() -> None:
    block = game_block(
        entry(
            1, 1200, 12000, achieved_hardcore=1100, achieved=1100, score_hardcore=11000, score=11000
        ),
        URLS,
    )
    assert "**1,100/1,200**" in block and "11,000/12,000 pts" in block


def test_mastered_mark() -> None:
    block = game_block(
        entry(1, 23, 400, achieved=23, score=400, achieved_hardcore=23, score_hardcore=400), URLS
    )
    first = block.split("\n")[0]
    assert f"{MASTERED} Mastered" in first
    assert COMPLETED not in block
    assert "100%" in block
    assert "SC" not in block


def test_completed_mark_when_softcore_complete_only() -> None:
    block = game_block(
        entry(1, 23, 400, achieved=23, score=400, achieved_hardcore=5, score_hardcore=50), URLS
    )
    first = block.split("\n")[0]
    assert f"{COMPLETED} Completed" in first
    assert MASTERED not in block
    hc, sc = block.split("\n")[1:]
    assert "21%" in hc and "100%" in sc


def test_no_mark_when_one_short() -> None:
    block = game_block(
        entry(1, 23, 400, achieved=22, score=390, achieved_hardcore=22, score_hardcore=390), URLS
    )
    assert MASTERED not in block and COMPLETED not in block
    assert "95%" in block and "100%" not in block


def test_unknown_game_said_plainly_not_as_zero_percent() -> None:
    block = game_block(unknown(999999), URLS)
    assert "999999" in block
    assert "does not know" in block
    assert "%" not in block
    assert "0/0" not in block
    assert "█" not in block and "░" not in block


def test_game_without_achievements() -> None:
    block = game_block(entry(5, 0, 0, title="Homebrew Demo"), URLS)
    assert "Homebrew Demo" in block
    assert "no achievements for this game now" in block
    assert "%" not in block
    assert "0/0" not in block
    assert "does not know" not in block


def test_title_links_to_the_game_page_and_console_shown() -> None:
    block = game_block(entry(14402, title="Dragon Quest III", console="SNES/Super Famicom"), URLS)
    first = block.split("\n")[0]
    assert "**[Dragon Quest III](https://retroachievements.org/game/14402)**" in first
    assert "SNES/Super Famicom" in first


def test_custom_site_base_used_for_game_links() -> None:
    urls = SiteUrls(site="https://ra.example.test", media="https://media.example.test")
    block = game_block(entry(228), urls)
    assert "(https://ra.example.test/game/228)" in block
    assert "retroachievements.org" not in block


def test_game_without_console_has_no_dangling_separator() -> None:
    block = game_block(entry(3, console=""), URLS)
    first = block.split("\n")[0]
    assert first.endswith(")**")


def test_markdown_and_mentions_in_title_and_console_are_escaped() -> None:
    title = "**Evil** [click](https://evil.example) @everyone <@123456789012345678> `x` ||s||"
    block = game_block(entry(7, title=title, console="@here _Con_"), URLS)
    first = block.split("\n")[0]
    assert "@everyone" not in block and "@here" not in block
    assert "<@123456789012345678>" not in block
    assert "**Evil**" not in block
    assert "`x`" not in block and "||s||" not in block
    assert "_Con_" not in block
    # The only live link is ours, to the game page.
    live_brackets = [
        m.group(2) for m in re.finditer(r"(\\*)([\[\]])", first) if len(m.group(1)) % 2 == 0
    ]
    assert live_brackets == ["[", "]"]
    assert first.startswith("**[") and "](https://retroachievements.org/game/7)**" in first


def test_newlines_in_title_do_not_break_the_block() -> None:
    block = game_block(entry(7, title="Line one\n# Heading\n> quote"), URLS)
    assert block.count("\n") == 1  # title line + hardcore line


def test_long_title_truncated() -> None:
    block = game_block(entry(7, title="T" * 1000), URLS)
    assert "T" * 200 not in block
    assert "…" in block


# -- totals --------------------------------------------------------------------------------------


def test_totals_sum_known_games_only() -> None:
    games = [
        entry(1, 10, 100, achieved=10, score=100, achieved_hardcore=10, score_hardcore=100),
        entry(2, 20, 200, achieved=20, score=200, achieved_hardcore=5, score_hardcore=50),
        entry(3, 30, 300, achieved=3, score=30, achieved_hardcore=0, score_hardcore=0),
        entry(4, 0, 0),
        unknown(5),
    ]
    lines, summary = totals(games)
    hc, sc = lines.split("\n")
    assert "HC **15/60**" in hc and "150/600 pts" in hc and "25%" in hc
    assert "SC **33/60**" in sc and "330/600 pts" in sc and "55%" in sc
    assert f"{MASTERED} 1 mastered" in summary
    assert f"{COMPLETED} 1 completed" in summary  # mastered is not counted again as completed


# -- the whole reply -----------------------------------------------------------------------------


def test_single_game_reply() -> None:
    messages = progress_messages(report(entry(14402, title="Dragon Quest III")), URLS)
    assert len(messages) == 1 and len(messages[0]) == 1
    embed = messages[0][0]
    assert embed.author.name == "MaxMilyin"
    assert embed.author.url == "https://retroachievements.org/user/MaxMilyin"
    assert embed.author.icon_url == "https://media.retroachievements.org/UserPic/MaxMilyin.png"
    assert embed.thumbnail.url == "https://media.retroachievements.org/Images/014402.png"
    assert embed.title == "Progress on 1 game"
    assert embed.fields == []  # no totals for one game
    assert embed.footer.text
    assert embed.timestamp == FETCHED
    assert "Dragon Quest III" in (embed.description or "")


def test_single_unknown_game_uses_user_picture_as_thumbnail() -> None:
    embed = progress_messages(report(unknown(42)), URLS)[0][0]
    assert embed.thumbnail.url == "https://media.retroachievements.org/UserPic/MaxMilyin.png"
    assert "does not know" in (embed.description or "")


def test_several_games_use_user_picture_and_show_totals() -> None:
    messages = progress_messages(report(entry(1), entry(2), unknown(3)), URLS)
    embeds = all_embeds(messages)
    first, last = embeds[0], embeds[-1]
    assert first.title == "Progress on 3 games"
    assert first.thumbnail.url == "https://media.retroachievements.org/UserPic/MaxMilyin.png"
    assert [f.name for f in last.fields] == ["Totals"]
    assert last.footer.text
    assert last.timestamp == FETCHED


def test_custom_site_and_media_bases_honoured() -> None:
    urls = SiteUrls(site="https://ra.example.test", media="https://cdn.example.test")
    messages = progress_messages(report(entry(9, icon="Images/000009.png")), urls)
    embed = messages[0][0]
    assert embed.author.url == "https://ra.example.test/user/MaxMilyin"
    assert embed.author.icon_url == "https://cdn.example.test/UserPic/MaxMilyin.png"
    assert embed.thumbnail.url == "https://cdn.example.test/Images/000009.png"
    assert "(https://ra.example.test/game/9)" in (embed.description or "")


def test_absolute_picture_urls_kept_and_missing_pictures_omitted() -> None:
    profile = UserProfile("Scott", "", "https://cdn.example.test/u/Scott.png", 0, 0)
    embed = progress_messages(report(entry(9, icon=""), profile=profile), URLS)[0][0]
    assert embed.author.icon_url == "https://cdn.example.test/u/Scott.png"
    assert embed.thumbnail.url == "https://cdn.example.test/u/Scott.png"

    bare = UserProfile("Scott", "", "", 0, 0)
    embed = progress_messages(report(entry(1), entry(2), profile=bare), URLS)[0][0]
    assert embed.author.icon_url is None
    assert embed.thumbnail.url is None


def test_author_link_quotes_the_name() -> None:
    profile = UserProfile("a b/c?d", "", "", 0, 0)
    embed = progress_messages(report(entry(1), profile=profile), URLS)[0][0]
    assert embed.author.url == "https://retroachievements.org/user/a%20b%2Fc%3Fd"


def test_totals_field_only_for_more_than_one_game() -> None:
    one = all_embeds(progress_messages(report(entry(1)), URLS))
    two = all_embeds(progress_messages(report(entry(1), entry(2)), URLS))
    assert all(e.fields == [] for e in one)
    assert [f.name for e in two for f in e.fields] == ["Totals"]
    assert two[-1].fields[0].name == "Totals"


def test_games_in_order() -> None:
    ids = [14402, 1, 228, 3]
    text = whole_text(progress_messages(report(*(entry(i) for i in ids)), URLS))
    positions = [text.index(f"/game/{i})") for i in ids]
    assert positions == sorted(positions)


def test_timestamp_and_footer_only_on_the_last_embed() -> None:
    games = [entry(i, title=f"{i} " + "Long title " * 10) for i in range(1, 51)]
    embeds = all_embeds(progress_messages(report(*games), URLS))
    assert len(embeds) > 1
    assert embeds[-1].timestamp == FETCHED
    assert embeds[-1].footer.text
    assert all(e.timestamp is None and e.footer.text is None for e in embeds[:-1])
    assert embeds[0].author.name == "MaxMilyin"
    assert all(e.author.name is None for e in embeds[1:])


def _check_limits_and_coverage(messages: list[list[discord.Embed]], ids: list[int]) -> None:
    assert messages and all(messages)
    for message in messages:
        assert len(message) <= EMBEDS_PER_MESSAGE
        assert sum(len(embed) for embed in message) <= MESSAGE_LIMIT
        for embed in message:
            assert len(embed.description or "") <= DESCRIPTION_LIMIT
            assert len(embed.title or "") <= 256
            for field in embed.fields:
                assert len(field.name) <= 256 and len(field.value) <= 1024
    text = "\n".join(e.description or "" for e in all_embeds(messages))
    found = [
        int(linked or unknown_id)
        for linked, unknown_id in re.findall(
            r"\]\(https://retroachievements\.org/game/(\d+)\)\*\*|\*\*Game (\d+)\*\*", text
        )
    ]
    assert found == ids  # every game exactly once, in the order asked


@pytest.mark.parametrize("count", [2, 10, 30, 50])
def test_many_games_with_long_titles_stay_within_discord_limits(count: int) -> None:
    games = [
        entry(
            1000 + i,
            possible=100 + i,
            possible_score=1000 + i,
            achieved=50 + i,
            score=500,
            achieved_hardcore=i,
            score_hardcore=100,
            title=f"Title {i} " + "Long *title* _with_ ~markup~ " * 20,
            console="Console with a rather long name " * 3,
        )
        for i in range(count)
    ]
    ids = [g.game_id for g in games]
    messages = progress_messages(report(*games), URLS)
    _check_limits_and_coverage(messages, ids)


def test_fifty_games_of_every_kind_stay_within_limits() -> None:
    games: list[GameEntry] = []
    for i in range(50):
        game_id = 5000 + i
        if i % 7 == 0:
            games.append(unknown(game_id))
        elif i % 5 == 0:
            games.append(entry(game_id, 0, 0, title="@everyone " * 30))
        else:
            games.append(
                entry(
                    game_id,
                    40,
                    400,
                    achieved=40,
                    score=400,
                    achieved_hardcore=i % 41,
                    score_hardcore=i,
                    title="[x](https://evil.example) **" * 15,
                )
            )
    messages = progress_messages(report(*games), URLS)
    _check_limits_and_coverage(messages, [g.game_id for g in games])
    assert "@everyone" not in whole_text(messages)
    assert len(all_embeds(messages)) > 1


def test_small_reply_is_one_embed() -> None:
    messages = progress_messages(report(*(entry(i) for i in range(1, 6))), URLS)
    assert len(messages) == 1 and len(messages[0]) == 1
