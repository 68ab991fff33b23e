"""A circuit breaker in front of RA: when RA stops answering, say so at once instead of queueing.

Retries and the per-request budget cope with a blip. When RA is down for long (every call a 5xx,
a timeout or a refused connection), each command would still wait its whole budget in the
limiter's queue, and the queue would hold every command of the last quarter minute. After
`failures` such failures in a row the circuit opens: requests are refused at once with
RANotAnswering, before they queue. After `open_seconds` requests go to RA again (half-open,
so that a command's several requests all get through): the first answer closes the circuit, a
failure opens it again at once, for twice as long, up to `max_open_seconds`, so the bot notices
RA's return within that bound.

Only "RA did not answer" counts (RAUnavailable). A 429 is RA answering (busy), and 404s, 422s
and 401s are answers too: each closes the circuit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from bot.ra.errors import RAUnavailable

log = logging.getLogger(__name__)


class RANotAnswering(RAUnavailable):
    """Refused before asking: RA has not answered lately (the circuit is open)."""

    def __init__(self, retry_after: float) -> None:
        super().__init__("RA is not answering: refused without asking")
        self.retry_after = retry_after


class CircuitBreaker:
    def __init__(
        self,
        failures: int = 5,
        open_seconds: float = 10.0,
        max_open_seconds: float = 30.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failures < 1 or open_seconds <= 0 or max_open_seconds < open_seconds:
            raise ValueError("failures >= 1 and 0 < open_seconds <= max_open_seconds")
        self.threshold = failures
        self.open_seconds = open_seconds
        self.max_open_seconds = max_open_seconds
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None  # monotonic; None: closed
        self._open_for = open_seconds
        self._half_open = False
        self.down_since: datetime | None = None  # wall clock, for /status
        self.refused = 0  # requests refused without asking RA (for benches and /status)

    @property
    def is_open(self) -> bool:
        return self._opened_at is not None

    def probe_in(self) -> float:
        """Seconds until a request may go to RA again (0: now)."""
        if self._opened_at is None:
            return 0.0
        return max(0.0, self._opened_at + self._open_for - self._clock())

    def before_request(self) -> bool:
        """Raise RANotAnswering unless this request may go to RA now; True while half-open."""
        if self._opened_at is None:
            return False
        now = self._clock()
        if now < self._opened_at + self._open_for:
            self.refused += 1
            raise RANotAnswering(self._opened_at + self._open_for - now)
        self._half_open = True
        return True

    def succeeded(self) -> None:
        """RA answered (whatever it said)."""
        if self._opened_at is not None:
            log.warning("RA answers again: the circuit is closed")
        self._failures = 0
        self._opened_at = None
        self._half_open = False
        self._open_for = self.open_seconds
        self.down_since = None

    def failed(self) -> None:
        """RA did not answer (5xx, timeout, connection refused or reset)."""
        now = self._clock()
        if self._opened_at is not None:
            if self._half_open:  # RA is still down: open again, for longer
                self._open_for = min(self.max_open_seconds, self._open_for * 2)
                self._opened_at = now
                self._half_open = False
            return
        self._failures += 1
        if self._failures >= self.threshold:
            self._opened_at = now
            self._open_for = self.open_seconds
            self.down_since = datetime.now(UTC)
            log.warning(
                "RA did not answer %d requests in a row: refusing requests for %.1f s",
                self._failures,
                self._open_for,
            )
