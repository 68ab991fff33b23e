"""A circuit breaker in front of RA: when RA is down, say so at once instead of queueing, but only
on evidence of an outage, never for a blip.

Retries and the per-request budget cope with a blip: one request meeting a few 503s, a 429, a
reset connection. The circuit opens only when several distinct requests failed within a rolling
window and they are a large share of the requests of that window (as Hystrix's minimum volume
and error percentage, resilience4j's `minimumNumberOfCalls`): each request counts once,
however many times it was retried, by its latest outcome (a blip a retry got through is an
answer). Open, it refuses at once with RANotAnswering, saying when to try
again; the first pause is short (`open_seconds`), and it doubles while RA stays down, up to
`max_open_seconds`. After a pause one request, and only one, goes to RA (half-open): its answer
closes the circuit, its failure opens it again, for longer.

Only "RA did not answer" counts (RAUnavailable). A 429 is RA answering (busy), and 404s, 422s
and 401s are answers too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime

from bot.ra.errors import RAUnavailable

log = logging.getLogger(__name__)

PROBE_WAIT = 1.0  # seconds a refused request is told to wait while the probe is out


class RANotAnswering(RAUnavailable):
    """Refused before asking: RA has not answered lately (the circuit is open). `probing`: a
    probe is asking RA right now, and its answer may close the circuit within a moment."""

    def __init__(self, retry_after: float, *, probing: bool = False) -> None:
        super().__init__("RA is not answering: refused without asking")
        self.retry_after = retry_after
        self.probing = probing


class CircuitBreaker:
    def __init__(
        self,
        min_failures: int = 3,
        open_seconds: float = 3.0,
        max_open_seconds: float = 30.0,
        *,
        window: float = 10.0,
        failure_rate: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if min_failures < 1 or open_seconds <= 0 or max_open_seconds < open_seconds:
            raise ValueError("min_failures >= 1 and 0 < open_seconds <= max_open_seconds")
        self.min_failures = min_failures
        self.open_seconds = open_seconds
        self.max_open_seconds = max_open_seconds
        self.window = window
        self.failure_rate = failure_rate
        self._clock = clock
        # Each request's outcome once, in the window: (when, answered, the request).
        self._outcomes: deque[tuple[float, bool, object]] = deque()
        self._counted: set[int] = set()  # ids of the requests in _outcomes
        self._opened_at: float | None = None  # monotonic; None: closed
        self._open_for = open_seconds
        self._probe: object | None = None  # the one request let through after a pause
        self._settled = asyncio.Event()  # set when the probe out has its outcome
        self._settled.set()
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

    def before_request(self, request: object = None) -> bool:
        """Raise RANotAnswering unless `request` may go to RA now; True when it is the probe
        let through after a pause (asking again for the same request is allowed)."""
        if self._opened_at is None:
            return False
        if request is not None and request is self._probe:
            return True
        wait = self.probe_in()
        if wait > 0:
            self.refused += 1
            raise RANotAnswering(wait)
        if self._probe is not None:
            self.refused += 1
            raise RANotAnswering(PROBE_WAIT, probing=True)
        self._probe = request if request is not None else object()
        self._settled.clear()
        return True

    async def wait_for_probe(self) -> None:
        """Wait (at most PROBE_WAIT) for the probe out to have its outcome: the requests of a
        command that came with it go as soon as it closed the circuit."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._settled.wait(), PROBE_WAIT)

    def succeeded(self, request: object = None) -> None:
        """RA answered this request (whatever it said)."""
        if self._opened_at is not None:
            if self._probe is None or request is not self._probe:
                return  # an answer to a request sent before the circuit opened
            log.warning("RA answers again: the circuit is closed")
            self._opened_at = None
            self._probe = None
            self._settled.set()
            self._open_for = self.open_seconds
            self.down_since = None
            self._outcomes.clear()
            self._counted.clear()
            return
        self._record(True, request)

    def failed(self, request: object = None) -> None:
        """RA did not answer this request (5xx, timeout, connection refused or reset)."""
        now = self._clock()
        if self._opened_at is not None:
            if self._probe is not None and request is self._probe:
                # RA is still down: open again, for longer.
                self._open_for = min(self.max_open_seconds, self._open_for * 2)
                self._opened_at = now
                self._probe = None
                self._settled.set()
                log.warning("RA still does not answer: refusing requests for %.0f s",
                            self._open_for)
            return
        self._record(False, request)
        failures = sum(not answered for _, answered, _ in self._outcomes)
        if (
            failures >= self.min_failures
            and failures >= self.failure_rate * len(self._outcomes)
        ):
            self._opened_at = now
            self._open_for = self.open_seconds
            self.down_since = datetime.now(UTC)
            log.warning(
                "RA did not answer %d of the last %d requests in %.0f s: refusing requests "
                "for %.0f s",
                failures,
                len(self._outcomes),
                self.window,
                self._open_for,
            )

    def done(self, request: object) -> None:
        """The request has ended: a probe that ended with no answer nor failure (no turn in
        time) lets another request probe."""
        if request is self._probe:
            self._probe = None
            self._settled.set()

    def _record(self, answered: bool, request: object) -> None:
        """One outcome per request, its latest: a request retried counts once, and a blip that
        a retry got through counts as answered."""
        now = self._clock()
        while self._outcomes and self._outcomes[0][0] < now - self.window:
            _, _, old = self._outcomes.popleft()
            self._counted.discard(id(old))
        if request is None:
            request = object()
        if id(request) in self._counted:
            for index, (at, _, seen) in enumerate(self._outcomes):
                if seen is request:
                    self._outcomes[index] = (at, answered, seen)
                    break
            return
        self._counted.add(id(request))
        self._outcomes.append((now, answered, request))
