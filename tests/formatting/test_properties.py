"""Property tests over every formatter: for any names, titles and counts within RA's and
Discord's ranges, the embeds stay within Discord's limits, nothing can ping, user and RA text is
escaped, and no exception escapes (hypothesis generates the data)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import example, given, settings, target
from hypothesis import strategies as st

from bot.formatting.game_sets import (
    added_message,
    created_message,
    deleted_message,
    removed_message,
    sets_embed,
)
from bot.formatting.leaderboard import (
    board_page,
    board_page_count,
    board_title,
    board_titles,
    change_notes,
    compare_embeds,
    scheduled_board_embed,
    schedules_embed,
)
from bot.formatting.links import linked_embed
from bot.formatting.progress import progress_messages
from bot.formatting.text import escape
from bot.formatting.urls import SiteUrls
from bot.models.boards import Board, Standing, changes_since, rank_key, snapshot_of
from bot.models.game_sets import GameSet, SetChange
from bot.models.members import Link, LinkedMember
from bot.models.progress import GameEntry, ProgressReport
from bot.models.ra import GameInfo, GameProgress, UserProfile
from bot.models.schedule_times import Cadence
from bot.models.schedules import Schedule
from tests.strategies import (
    bounded,
    check_content,
    check_embed,
    check_message,
    embed_texts,
    hostile_text,
    inert,
    points,
    possible_counts,
    raw_markdown_absent,
)

PROPS = settings(max_examples=80, deadline=None)
NOW = datetime(2024, 5, 17, 12, 30, tzinfo=UTC)
URLS = SiteUrls()
game_ids = st.integers(min_value=1, max_value=10**9)


@st.composite
def game_progress(draw: st.DrawFn, game_id: int) -> GameProgress:
    possible = draw(possible_counts)
    possible_score = draw(points)
    achieved = draw(st.integers(min_value=0, max_value=possible))
    hardcore = draw(st.integers(min_value=0, max_value=achieved))
    score = draw(st.integers(min_value=0, max_value=possible_score))
    score_hardcore = draw(st.integers(min_value=0, max_value=score))
    return GameProgress(
        game_id, possible, possible_score, achieved, score, hardcore, score_hardcore
    )


def game_info(game_id: int) -> st.SearchStrategy[GameInfo | None]:
    return st.one_of(
        st.none(),
        st.builds(
            GameInfo,
            st.just(game_id),
            bounded(255),  # RA's titles
            bounded(64),
            st.sampled_from(["", "/Images/000001.png", "https://x.example/i.png"]),
        ),
    )


@st.composite
def progress_reports(draw: st.DrawFn) -> ProgressReport:
    ids = draw(st.lists(game_ids, min_size=1, max_size=50, unique=True))
    profile = UserProfile(
        draw(bounded(20)) or "x",
        "",
        draw(st.sampled_from(["", "/UserPic/x.png"])),
        draw(points),
        draw(points),
    )
    games = [GameEntry(i, draw(game_progress(i)), draw(game_info(i))) for i in ids]
    return ProgressReport(profile, games, NOW)


@st.composite
def boards(draw: st.DrawFn, max_members: int = 30) -> Board:
    ids = draw(st.lists(game_ids, min_size=1, max_size=12, unique=True))
    games = {i: draw(game_info(i)) for i in ids}
    uids = draw(
        st.lists(st.integers(min_value=1, max_value=2**63), max_size=max_members, unique=True)
    )
    standings = []
    for uid in uids:
        ra_name = draw(st.from_regex(r"[A-Za-z0-9]{2,20}", fullmatch=True))
        name = draw(st.one_of(bounded(32), st.just(ra_name)))
        member = LinkedMember(uid, Link(uid, "", ra_name, NOW), name)
        standings.append(Standing(member, {i: draw(game_progress(i)) for i in ids}))
    standings.sort(key=rank_key)
    missing = [
        LinkedMember(uid, Link(uid, "", "gone", NOW), draw(bounded(32)))
        for uid in draw(st.lists(st.integers(min_value=1, max_value=10**6), max_size=12))
    ]
    return Board(ids, games, standings, missing, draw(st.one_of(st.none(), st.just(NOW))))


def worst_board(members: int = 40, games: int = 12) -> Board:
    """Every name and title as long as allowed and made only of characters escaping doubles."""
    ids = list(range(1, games + 1))
    infos: dict[int, GameInfo | None] = {i: GameInfo(i, "_" * 255, "*" * 64, "") for i in ids}
    standings = [
        Standing(
            LinkedMember(uid, Link(uid, "", "A" * 20, NOW), "*" * 32),
            {i: GameProgress(i, 5000, 100_000, 4000, 99_999, 3999, 99_998) for i in ids},
        )
        for uid in range(1, members + 1)
    ]
    missing = [LinkedMember(10**6 + n, Link(0, "", "x", NOW), "_" * 32) for n in range(12)]
    return Board(ids, infos, standings, missing, NOW)


def board_strings(board: Board) -> list[str]:
    out = [s.name for s in board.standings] + [m.display_name for m in board.missing]
    for info in board.games.values():
        if info is not None:
            out += [info.title, info.console]
    return out


def all_text(messages: list[list[object]]) -> str:
    return "\n".join(t for embeds in messages for e in embeds for t in embed_texts(e))  # type: ignore[arg-type]


@PROPS
@given(st.one_of(hostile_text, st.text()), st.integers(min_value=2, max_value=300))
def test_escape_makes_any_text_inert_one_line_and_bounded(text: str, limit: int) -> None:
    escaped = escape(text, limit)
    inert(escaped)
    assert "\n" not in escaped
    # Each character at most doubled by escaping, mentions get one zero-width space.
    assert len(escaped) <= 2 * limit + escaped.count("\u200b")


@PROPS
@given(progress_reports())
def test_progress_reply_within_discord_limits(report: ProgressReport) -> None:
    messages = progress_messages(report, URLS)
    for embeds in messages:
        check_message(embeds)
    strings = [report.profile.display_name]
    for entry in report.games:
        if entry.info is not None:
            strings += [entry.info.title, entry.info.console]
    raw_markdown_absent(strings[1:], all_text(messages))  # type: ignore[arg-type]


@PROPS
@given(boards(), st.one_of(st.none(), bounded(32)), st.integers(min_value=-2, max_value=5))
@example(worst_board(), "*" * 32, 0)
def test_board_pages_within_discord_limits(board: Board, set_name: str | None, page: int) -> None:
    title = board_title(set_name, board.game_ids, board_titles(board))
    assert board_page_count(board) >= 1
    embed = board_page(board, page, title, URLS)
    target(len(embed))
    check_embed(embed)
    raw_markdown_absent([*board_strings(board), set_name or ""], all_text([[embed]]))


@PROPS
@given(boards(max_members=40), st.booleans(), st.one_of(bounded(32), st.none()))
@example(worst_board(), True, "*" * 32)
def test_scheduled_post_within_discord_limits(
    board: Board, stale: bool, set_name: str | None
) -> None:
    # The previous post: the same board with everyone one place lower and fewer points.
    previous = snapshot_of(board) if board.standings else None
    if previous is not None:
        for row in previous["members"].values():
            row["rank"] = int(row["rank"]) + 1
            row["points"] = int(row["points"]) - 7
            row["mastered"] = []
    changes = change_notes(changes_since(previous, board), board)
    embed = scheduled_board_embed(
        board,
        board_title(set_name, board.game_ids, board_titles(board)),
        URLS,
        changes=changes,
        stale_since=NOW - timedelta(hours=1) if stale else None,
        footer="Weekly · next post <t:1716000000:R>",
    )
    target(len(embed))
    check_embed(embed)
    raw_markdown_absent(board_strings(board), all_text([[embed]]))


@PROPS
@given(boards(max_members=11), st.lists(bounded(100), max_size=3))
@example(worst_board(11, 50), ["*" * 100] * 3)
def test_comparison_within_discord_limits(board: Board, notes: list[str]) -> None:
    messages = compare_embeds(board, URLS, [escape(n, 100) for n in notes])
    for embeds in messages:
        check_message(embeds)
    raw_markdown_absent(board_strings(board), all_text(messages))  # type: ignore[arg-type]


set_names = bounded(32).filter(bool)
titles = st.dictionaries(game_ids, bounded(255), max_size=60)


@PROPS
@given(st.lists(st.tuples(set_names, st.lists(game_ids, max_size=50)), max_size=50), titles)
def test_game_set_list_within_discord_limits(
    sets: list[tuple[str, list[int]]], known: dict[int, str]
) -> None:
    embed = sets_embed([GameSet(1, n, ids, 2, NOW) for n, ids in sets], known)
    check_embed(embed)
    raw_markdown_absent([n for n, _ in sets], all_text([[embed]]))


@PROPS
@given(
    set_names,
    st.lists(game_ids, max_size=50),
    st.lists(game_ids, max_size=50),
    st.lists(game_ids, max_size=50),
    titles,
)
def test_game_set_messages_fit_one_message(
    name: str, ids: list[int], changed: list[int], unchanged: list[int], known: dict[int, str]
) -> None:
    game_set = GameSet(1, name, ids, 2, NOW)
    change = SetChange(game_set, changed, unchanged)
    for text in (
        created_message(game_set, known),
        added_message(change, known),
        removed_message(change, known),
        deleted_message(name),
    ):
        check_content(text)
        raw_markdown_absent([name, *known.values()], text)


@PROPS
@given(
    st.lists(
        st.builds(
            Schedule,
            id=st.integers(min_value=1, max_value=10**6),
            guild_id=st.just(1),
            channel_id=st.integers(min_value=10**17, max_value=10**19),
            games=bounded(2000),
            cadence=st.sampled_from(list(Cadence)),
            hour=st.integers(0, 23),
            minute=st.integers(0, 59),
            edit_in_place=st.booleans(),
            message_id=st.none(),
            next_run=st.just(NOW),
            run_at=st.just(NOW),
            paused_reason=st.one_of(st.none(), bounded(400)),
            last_result=st.one_of(st.none(), bounded(400)),
            created_by=st.just(1),
            created_at=st.just(NOW),
        ),
        max_size=30,
    ),
    st.dictionaries(st.integers(1, 60), bounded(300), max_size=60),
)
def test_schedule_list_within_discord_limits(
    schedules: list[Schedule], titles: dict[int, str]
) -> None:
    embed = schedules_embed(schedules, titles)
    check_embed(embed)
    raw_markdown_absent([*(s.games for s in schedules), *titles.values()], all_text([[embed]]))


@PROPS
@given(bounded(20).filter(bool), st.one_of(st.none(), bounded(20)), points, points)
def test_link_reply_within_discord_limits(
    name: str, replaced: str | None, hardcore: int, softcore: int
) -> None:
    embed = linked_embed(
        UserProfile(name, "", "/UserPic/x.png", hardcore, softcore), URLS, replaced
    )
    check_embed(embed)
    raw_markdown_absent([name, replaced or ""], all_text([[embed]]))
