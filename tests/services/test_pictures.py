"""Board pictures are drawn in a worker thread, and never fail a board."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading

import pytest

from bot.formatting.board_image import BoardPicture, PictureRow
from bot.services import pictures as pictures_module
from bot.services.pictures import BoardPictures

PICTURE = BoardPicture(title="Leaderboard", rows=(PictureRow(1, "Max", 10, 1, 2),))


async def test_drawn_in_a_worker_thread_off_the_event_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    threads: list[threading.Thread] = []
    real = pictures_module.render_png

    def spy(picture: BoardPicture) -> bytes:
        threads.append(threading.current_thread())
        return real(picture)

    monkeypatch.setattr(pictures_module, "render_png", spy)
    service = BoardPictures()
    try:
        png = await service.render(PICTURE)
        assert png is not None and png.startswith(b"\x89PNG")
        assert await service.render(PICTURE) is not None
    finally:
        service.close()
    assert len(threads) == 2 and threads[0] is threads[1]  # one worker thread
    assert threads[0] is not threading.main_thread()
    assert threads[0].name.startswith("picture")
    assert service.drawn == 2


async def test_turned_off_draws_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(picture: BoardPicture) -> bytes:
        raise AssertionError("must not be called")

    monkeypatch.setattr(pictures_module, "render_png", boom)
    service = BoardPictures(enabled=False)
    assert await service.render(PICTURE) is None
    assert service.drawn == service.failed == 0


async def test_a_failure_or_a_slow_picture_gives_none_and_is_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    release = threading.Event()

    def broken(picture: BoardPicture) -> bytes:
        raise OSError("no space left")

    def stuck(picture: BoardPicture) -> bytes:
        release.wait(10)
        return b""

    service = BoardPictures(timeout=0.2)
    try:
        monkeypatch.setattr(pictures_module, "render_png", broken)
        with caplog.at_level(logging.WARNING, "bot.services.pictures"):
            assert await service.render(PICTURE) is None
        assert "could not draw a board picture" in caplog.text

        monkeypatch.setattr(pictures_module, "render_png", stuck)
        with caplog.at_level(logging.WARNING, "bot.services.pictures"):
            assert await service.render(PICTURE) is None
        assert "took over 0.2 s" in caplog.text
        assert service.failed == 2
    finally:
        release.set()
        service.close()


def test_pillow_is_not_imported_until_a_board_is_drawn() -> None:
    code = (
        "import sys\n"
        "import bot.bot, bot.cogs.leaderboard, bot.posting.scheduler, bot.posting.publisher\n"
        "import bot.formatting.board_image, bot.formatting.leaderboard_picture\n"
        "assert not [m for m in sys.modules if m == 'PIL' or m.startswith('PIL.')], 'PIL loaded'\n"
        "from bot.formatting.board_image import BoardPicture, render_png\n"
        "render_png(BoardPicture(title='x'))\n"
        "assert 'PIL' in sys.modules\n"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
