"""Board pictures drawn off the event loop: one worker thread, a time limit, never an error.

A picture is a bonus on top of the text: when pictures are turned off (`LEADERBOARD_IMAGES`),
when drawing fails or takes longer than `timeout`, the board goes out as text alone and the
reason is logged. One thread draws at a time, so a burst of boards queues instead of taking
both cores from the event loop, and Pillow's fonts are never used by two threads at once.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from bot.formatting.board_image import BoardPicture, render_png

log = logging.getLogger(__name__)

TIMEOUT = 2.0  # seconds a picture may take, queueing included (a page turn has 3 s to answer)


class BoardPictures:
    def __init__(self, *, enabled: bool = True, timeout: float = TIMEOUT) -> None:
        self.enabled = enabled
        self.timeout = timeout
        self.drawn = 0
        self.failed = 0
        self._executor: ThreadPoolExecutor | None = None

    async def render(self, picture: BoardPicture) -> bytes | None:
        """The picture as PNG bytes, or None (turned off, failed, too slow)."""
        if not self.enabled:
            return None
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="picture")
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._executor, render_png, picture)
        try:
            png = await asyncio.wait_for(future, self.timeout)
        except TimeoutError:
            self.failed += 1
            log.warning("a board picture took over %.1f s: sending the text alone", self.timeout)
            return None
        except Exception:
            self.failed += 1
            log.exception("could not draw a board picture: sending the text alone")
            return None
        self.drawn += 1
        return png

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
