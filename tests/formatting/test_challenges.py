"""Challenge embeds: pure, standings in, embeds out; user text inert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.formatting.challenges import (
    challenge_games,
    challenges_embed,
    standings_embed,
    standings_picture,
    window_text,
)
from bot.formatting.urls import SiteUrls
from bot.models.boards import Board, Standing, snapshot_of
from bot.models.challenge_times import State
from bot.models.challenges import Challenge, ChallengeBoard
from bot.models.members import Link, LinkedMember
from bot.models.ra import EarnedAchievement, GameInfo
from bot.models.schedule_times import Cadence
from bot.services.challenges import tally

START = datetime(2026, 12, 1, tzinfo=UTC)
END = datetime(2027, 1, 1, tzinfo=UTC)


def challenge(**overrides: object) -> Challenge:
    values: dict[str, object] = {
        "id": 7,
        "guild_id": 1,
        "name": "@everyone **December**",
        "game_ids": [1, 228],
        "set_name": None,
        "starts_at": START,
        "ends_at": END,
        "channel_id": 55,
        "cadence": Cadence.WEEKLY,
        "next_run": END,
        "run_at": END,
        "paused_reason": None,
        "last_result": None,
        "created_by": 1,
        "created_at": START,
    }
    values.update(overrides)
    return Challenge(**values)  # type: ignore[arg-type]


def member(uid: int, name: str) -> LinkedMember:
    return LinkedMember(uid, Link(uid, "01" + "A" * 24, name, START), name)


def test_window_text_says_utc_and_the_included_end_day() -> None:
    assert window_text(challenge()) == "1 Dec 2026 → 31 Dec 2026 (UTC, end day included)"
    mid_day = challenge(starts_at=START + timedelta(hours=8, minutes=5))
    assert window_text(mid_day).startswith("1 Dec 2026 08:05 → ")


def test_final_standings_call_out_the_top_three_and_keep_user_text_inert() -> None:
    standings = []
    for uid, points in ((1, 30), (2, 20), (3, 10), (4, 5)):
        unlocks = [EarnedAchievement(uid, 1, points, True, START)]
        standings.append(
            Standing(member(uid, f"<@12345678901234567{uid}>"), tally(unlocks, [1, 228]))
        )
    board = Board(
        [1, 228], {1: GameInfo(1, "Sonic", "Genesis", "/i.png"), 228: None}, standings, [], START
    )
    final = ChallengeBoard(
        challenge(), board, [member(9, "late")], State.FINISHED, END - timedelta(seconds=1)
    )
    embed = standings_embed(final, SiteUrls(), footer="Challenge #7 · final standings")
    assert embed.title == "Final standings · @\u200beveryone \\*\\*December\\*\\*"
    lines = (embed.description or "").splitlines()
    assert lines[1] == (
        "🏆 🥇 **\\<@\u200b123456789012345671>** 30 pts · "
        "🥈 **\\<@\u200b123456789012345672>** 20 pts · "
        "🥉 **\\<@\u200b123456789012345673>** 10 pts"
    )
    assert lines[-1] == "Not started: late"
    assert embed.footer.text == "Challenge #7 · final standings"


def test_the_list_orders_running_upcoming_finished_and_says_why_posts_paused() -> None:
    now = datetime(2026, 12, 10, tzinfo=UTC)
    listed = [
        challenge(
            name="Past",
            starts_at=START - timedelta(days=60),
            ends_at=START - timedelta(days=30),
            last_result="final standings posted",
        ),
        challenge(name="Next", starts_at=END, ends_at=END + timedelta(days=7), channel_id=None),
        challenge(name="Now", paused_reason="the channel was deleted"),
    ]
    embed = challenges_embed(listed, {1: "Sonic *the* Hedgehog"}, now)
    assert [f.name for f in embed.fields] == [
        "🟢 Running · Now",
        "🕒 Upcoming · Next",
        "🏁 Finished · Past",
    ]
    running, upcoming, finished = (f.value or "" for f in embed.fields)
    assert "Games: Sonic \\*the\\* Hedgehog (1), 228" in running  # as every reply names games
    assert "⏸️ Posts paused: the channel was deleted" in running
    assert "No posts (no channel)" in upcoming
    assert "Last: final standings posted" in finished


def test_a_challenge_of_a_set_names_the_set_then_its_games() -> None:
    from_set = challenge(set_name="Monthly *picks*", game_ids=list(range(1, 10)))
    assert challenge_games(from_set, {1: "Sonic"}) == (
        "Monthly \\*picks\\*: Sonic (1), 2, 3, 4, 5, 6 and 3 more"
    )


def ranked(points: list[int]) -> Board:
    standings = [
        Standing(member(uid, f"player{uid}"), tally([EarnedAchievement(uid, 1, p, True, START)],
                                                    [1, 228]))
        for uid, p in enumerate(points, start=1)
    ]
    games = {1: GameInfo(1, "Sonic", "Genesis", "/i.png"), 228: None}
    return Board([1, 228], games, standings, [], START + timedelta(days=9))


def test_the_picture_says_the_challenge_its_window_who_moved_and_who_has_not_started() -> None:
    board = ranked([30, 20, 10])
    before = snapshot_of(Board([1, 228], {}, board.standings[1::-1], [], START))  # 2 led 1
    running = ChallengeBoard(
        challenge(name="December <b>"), board, [member(9, "late")], State.RUNNING,
        START + timedelta(days=9),
    )
    picture = standings_picture(running, previous=before, footer="Challenge #7 · 2026-12-07")
    assert picture.title == "Challenge · December <b>"  # drawn as is: no markdown in a picture
    assert picture.lines == (
        "1 Dec 2026 → 31 Dec 2026 (UTC, end day included) · figures up to 2026-12-10 00:00 UTC",
        "Sonic (Genesis) · Game 228 (unknown to RetroAchievements)",
        "Not started: late",
    )
    assert [(r.rank, r.name, r.points, r.unlocks, r.possible) for r in picture.rows] == [
        (1, "player1", 30, 1, 0), (2, "player2", 20, 1, 0), (3, "player3", 10, 1, 0)
    ]
    assert [(r.move, r.gained, r.new) for r in picture.rows] == [
        (1, 0, False), (-1, 0, False), (None, 0, True)
    ]
    assert picture.footer.startswith("Challenge #7 · 2026-12-07 · earned in the window: ")

    final = ChallengeBoard(challenge(), board, [], State.FINISHED, END - timedelta(seconds=1))
    shown = standings_picture(final, footer="Challenge #7 · final standings")
    assert shown.title == "Final standings · @everyone **December**"
    assert shown.lines[0] == "1 Dec 2026 → 31 Dec 2026 (UTC, end day included)"
    assert len(shown.lines) == 2 and all(r.move is None for r in shown.rows)


def test_picture_pages_are_the_pages_of_the_text_and_upcoming_says_nothing_counts() -> None:
    board = ranked(list(range(60, 0, -2)))  # 30 members: pages of 25 and 5
    standings = ChallengeBoard(
        challenge(), board, [member(99, "late")], State.RUNNING, START + timedelta(days=9)
    )
    first, last = (standings_picture(standings, page=p) for p in (0, 1))
    assert first.title.endswith(" · page 1/2") and len(first.rows) == 25
    assert "Not started: late" not in first.lines  # listed on the last page, as in the text
    assert [r.rank for r in last.rows] == [26, 27, 28, 29, 30]
    assert last.lines[-1] == "Not started: late"
    assert last.footer.startswith("30 earned something · 1 not started · ")

    upcoming = ChallengeBoard(
        challenge(), Board([1, 228], {}, [], [], None), [member(9, "late")], State.UPCOMING, None
    )
    picture = standings_picture(upcoming, page=0)
    assert picture.note == "Starts 1 Dec 2026 (UTC): nothing counts yet"
    assert picture.rows == () and picture.empty.startswith("Nobody has earned anything")
