"""A leaderboard as a BoardPicture: rows, pages, changes since the previous post."""

from __future__ import annotations

from datetime import UTC, datetime

import discord

from bot.formatting.leaderboard_picture import (
    attach,
    games_line,
    page_picture,
    picture_title,
    scheduled_picture,
)
from bot.models.boards import Board, Change, Standing, changes_since, rank_key, snapshot_of
from bot.models.members import Link, LinkedMember
from bot.models.ra import GameInfo, GameProgress

AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
GAMES = {1: GameInfo(1, "Sonic the Hedgehog", "Genesis/Mega Drive", "/Images/1.png"),
         228: GameInfo(228, "Super Metroid", "SNES", "/Images/228.png")}


def standing(uid: int, name: str, hardcore: int, unlocks: int, possible: int = 50) -> Standing:
    link = Link(uid, f"ULID{uid}", f"RA{uid}", AT)
    progress = GameProgress(1, possible, 500, unlocks, hardcore, unlocks, hardcore)
    return Standing(LinkedMember(uid, link, name), {1: progress})


def board(*standings: Standing, game_ids: tuple[int, ...] = (1,)) -> Board:
    ranked = sorted(standings, key=rank_key)
    return Board(list(game_ids), {g: GAMES.get(g) for g in game_ids}, ranked, [], AT)


def test_rows_carry_rank_name_fallback_points_unlocks_possible_and_marks() -> None:
    done = standing(3, "Mastery", 500, 50)
    picture = page_picture(board(standing(1, "Low", 10, 1), done), 0, "Leaderboard · 1 game")
    first, second = picture.rows
    assert (first.rank, first.name, first.fallback_name) == (1, "Mastery", "RA3")
    assert (first.points, first.unlocks, first.possible, first.mastered) == (500, 50, 50, 1)
    assert (second.rank, second.name, second.points, second.mastered) == (2, "Low", 10, 0)
    assert first.move is None and not first.new  # /leaderboard show has nothing to compare
    assert picture.title == "Leaderboard · 1 game"
    assert picture.lines == ("Sonic the Hedgehog (Genesis/Mega Drive)",)
    assert picture.footer.startswith("2 members · figures of 2026-12-01 08:00 UTC · ")


def test_pages_have_ten_rows_ranked_from_where_the_page_starts() -> None:
    members = [standing(uid, f"m{uid:02}", 1000 - uid, 1) for uid in range(25)]
    picture = page_picture(board(*members), 2, "Leaderboard · Monthly")
    assert [r.rank for r in picture.rows] == list(range(21, 26))
    assert picture.title == "Leaderboard · Monthly · page 3/3"
    assert len(page_picture(board(*members), 99, "x").rows) == 5  # clamped to the last page


def test_changes_since_the_previous_post() -> None:
    before = board(standing(1, "A", 100, 5), standing(2, "B", 90, 5))
    after = board(standing(1, "A", 100, 5), standing(2, "B", 150, 6), standing(3, "C", 1, 1))
    moves = changes_since(snapshot_of(before), after)
    assert moves == {2: Change(1, 60), 1: Change(-1, 0), 3: Change(None, 0)}
    assert moves[3].new and not moves[1].new
    assert changes_since(None, after) == {}
    picture = scheduled_picture(after, "Leaderboard · 1 game", previous=snapshot_of(before),
                                stale_since=None, footer="Schedule #1 · 2026-12-01 08:00 UTC")
    assert [(r.name, r.move, r.gained, r.new) for r in picture.rows] == [
        ("B", 1, 60, False), ("A", -1, 0, False), ("C", None, 0, True)]
    assert picture.note == ""
    assert picture.footer.startswith("Schedule #1 · 2026-12-01 08:00 UTC · hardcore points")


def test_a_post_from_cached_figures_says_so_and_shows_no_changes() -> None:
    before = board(standing(1, "A", 100, 5))
    picture = scheduled_picture(before, "t", previous=snapshot_of(before), stale_since=AT,
                                footer="Schedule #1")
    assert picture.note == "Figures from 2026-12-01 08:00 UTC: RA was unreachable"
    assert picture.rows[0].move is None and picture.rows[0].gained == 0


def test_a_scheduled_post_shows_the_top_rows_and_counts_the_rest() -> None:
    members = [standing(uid, f"m{uid:02}", 1000 - uid, 1) for uid in range(23)]
    picture = scheduled_picture(board(*members), "t", previous=None, stale_since=None,
                                footer="Schedule #2")
    assert len(picture.rows) == 20
    assert "3 more on /leaderboard show" in picture.footer


def test_titles_are_plain_text_and_games_are_named_then_counted() -> None:
    assert picture_title("**Monthly** @everyone", 3) == "Leaderboard · **Monthly** @everyone"
    assert picture_title(None, 1) == "Leaderboard · 1 game"
    assert picture_title(None, 4) == "Leaderboard · 4 games"
    ids = [1, 228, 5, 6, 7, 8]
    line = games_line(ids, GAMES)
    assert line.startswith("Sonic the Hedgehog (Genesis/Mega Drive) · Super Metroid (SNES) · ")
    assert "Game 5 (unknown to RetroAchievements)" in line and line.endswith("+2 more")


def test_attach_points_the_embed_at_the_file() -> None:
    embed = discord.Embed(title="Leaderboard · Monthly")
    file = attach(embed, b"\x89PNG...")
    assert embed.image.url == "attachment://leaderboard.png"
    assert file.filename == "leaderboard.png" and file.description == "Leaderboard · Monthly"
    assert file.fp.read() == b"\x89PNG..."


def test_a_member_with_only_softcore_unlocks_shows_them_marked_softcore() -> None:
    link = Link(7, "ULID7", "RA7", AT)
    softcore_only = Standing(
        LinkedMember(7, link, "Casual"), {1: GameProgress(1, 50, 500, 12, 120, 0, 0)}
    )
    picture = page_picture(board(standing(1, "Hard", 10, 1), softcore_only), 0, "x")
    hard, casual = picture.rows
    assert (hard.points, hard.unlocks, hard.softcore) == (10, 1, False)
    assert (casual.points, casual.unlocks, casual.softcore) == (120, 12, True)
