"""How a request reaches RA: the shared limiter, the circuit, retries, and reading the status.

Every request passes the one UpstreamLimiter (retries too); 429, 5xx, timeouts and broken
connections are retried with exponential backoff and full jitter, honouring Retry-After, within a
total time budget. The key travels in the query string, so no URL, and no aiohttp exception
(which would carry one), ever leaves this module: failures become the typed errors of
`bot.ra.errors`, whose messages name only the endpoint. What the endpoints mean is
bot/ra/client.py's.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import socket
import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Any

import aiohttp

from bot.ra.circuit import CircuitBreaker, RANotAnswering
from bot.ra.errors import (
    RABadResponse,
    RAError,
    RAKeyRejected,
    RANotUsable,
    RARateLimited,
    RARequestRejected,
    RAUnavailable,
    RAUnreachable,
    RAUserNotFound,
)
from bot.ra.limiter import Priority, UpstreamLimiter
from bot.stats import Stats

log = logging.getLogger(__name__)

USER_AGENT = "RetroAchievementsDiscordBot/0.1 (discord.py; +https://github.com/)"

# Seconds a request may wait for its turn when the work expects to queue (a leaderboard's
# fan-out: hundreds of calls at the limiter's rate); None: the retry budget covers the wait too,
# so a single command is answered within it.
queue_patience: ContextVar[float | None] = ContextVar("ra_queue_patience", default=None)
# Query parameters, or a function giving them when the request gets its turn.
Params = dict[str, str] | Callable[[], dict[str, str]]


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())



class _Retry(Exception):
    """An attempt failed in a way worth trying again."""

    def __init__(self, error: RAError, retry_after: float | None = None) -> None:
        self.error = error
        self.retry_after = retry_after


class RATransport:
    """One instance per process, sharing the bot's aiohttp session and limiter."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        api_key: str,
        limiter: UpstreamLimiter,
        base_url: str = "https://retroachievements.org/API",
        username: str = "",
        timeout: float = 8.0,
        retry_budget: float = 14.0,
        backoff_base: float = 0.5,
        stats: Stats | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
        circuit: CircuitBreaker | None = None,
    ) -> None:
        self._session = session
        # Refuses requests at once while RA does not answer (bot.ra.circuit).
        self.circuit = circuit
        self._key = api_key
        self.limiter = limiter
        self.base_url = base_url.rstrip("/")
        self._username = username
        self.timeout = timeout  # seconds one attempt may take
        self._timeout = aiohttp.ClientTimeout(total=timeout, connect=min(timeout, 5.0))
        self.retry_budget = retry_budget
        self._backoff_base = backoff_base
        self._stats = stats
        self._rng = rng or random.Random()
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"<RATransport base_url={self.base_url!r} key=***>"

    async def call(
        self,
        endpoint: str,
        params: Params,
        priority: Priority,
        *,
        not_found_user: str | None = None,
    ) -> Any:
        # [when the retry budget runs out, whether queued work has started it at its turn yet]
        deadline: list[float] = [time.monotonic() + self.retry_budget, 0.0]
        request = object()  # this request, to the circuit: counted once, however many attempts
        try:
            return await self._call(
                endpoint, params, priority, not_found_user, deadline, request
            )
        finally:
            if self.circuit is not None:
                self.circuit.done(request)

    async def _call(
        self,
        endpoint: str,
        params: Params,
        priority: Priority,
        not_found_user: str | None,
        deadline: list[float],
        request: object,
    ) -> Any:
        attempt = 0
        failed: RAError | None = None  # what the last attempt met, if it got a turn
        while True:
            no_turn: RARateLimited | None = None
            try:
                return await self._attempt(
                    endpoint, params, priority, not_found_user, deadline, request
                )
            except _Retry as retry:
                error, wait = retry.error, retry.retry_after
                failed = error
            except RARateLimited as exc:  # only a wait for a turn raises it directly
                no_turn = exc
            if no_turn is not None:
                # A retry that found no turn in time: what went wrong is what the previous
                # attempt met (RA's host unreachable, 503...), not the queue.
                raise failed if failed is not None else no_turn
            # Out of the except block, so `error` is raised with no __context__: the chain
            # would lead to the aiohttp exception, whose text may hold the URL and the key.
            if wait is None:
                wait = self._rng.uniform(0, self._backoff_base * 2**attempt)
            attempt += 1
            remaining = deadline[0] - time.monotonic()
            if wait > remaining:
                log.warning("giving up after %d attempts: %s", attempt, error)
                raise error
            if self.circuit is not None and self.circuit.is_open:
                raise error  # RA is down: retrying would only queue
            log.info("%s; retry %d in %.1fs", error, attempt, wait)
            await self._sleep(wait)

    async def _attempt(
        self,
        endpoint: str,
        params: Params,
        priority: Priority,
        not_found_user: str | None,
        deadline: list[float],
        request: object,
    ) -> Any:
        url = f"{self.base_url}/{endpoint}.php"
        # Waiting for a turn counts against the budget too, so the caller always gets an answer.
        patience = queue_patience.get()
        asked = time.monotonic()
        if self.circuit is not None:
            try:
                self.circuit.before_request(request)
            except RANotAnswering as refused:
                if not refused.probing:
                    raise
                # Another request is asking RA whether it is back: go with its answer.
                await self.circuit.wait_for_probe()
                self.circuit.before_request(request)
        try:
            wait = patience if patience is not None else deadline[0] - time.monotonic()
            async with asyncio.timeout(max(0.0, wait)):
                await self.limiter.acquire(priority)
        except TimeoutError:
            if self._stats is not None:
                self._stats.ra_refused()
            raise RARateLimited(
                f"{endpoint}: no turn to ask RA within the time allowed",
                retry_after=self.limiter.next_start_in() or None,
            ) from None
        if self._stats is not None:
            self._stats.ra_turn(time.monotonic() - asked)
        if self.circuit is not None and self.circuit.is_open:
            # It opened (or opened again) while this request waited for its turn: do not ask,
            # unless its pause is over by now.
            try:
                self.circuit.before_request(request)
            except RANotAnswering:
                self.limiter.release()
                raise
        shown = params() if callable(params) else params
        query = {"y": self._key, **shown}
        if self._username:
            query["z"] = self._username
        if patience is not None:
            # Work that expected to queue: its retry budget starts with its turn.
            # Once: the first turn starts the budget, retries after it spend the same budget.
            if not deadline[1]:
                deadline[0] = max(deadline[0], time.monotonic() + self.retry_budget)
                deadline[1] = 1.0
        failure: RAUnavailable | None = None
        started = time.monotonic()
        status = 0
        try:
            # A late attempt gets only what is left of the budget (but at least a second).
            timeout = aiohttp.ClientTimeout(
                total=min(self._timeout.total or 0, max(1.0, deadline[0] - time.monotonic())),
                connect=self._timeout.connect,
            )
            try:
                async with self._session.get(
                    url,
                    params=query,
                    timeout=timeout,
                    headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
                ) as response:
                    status = response.status
                    retry_after = _retry_after(response.headers)
                    body = await response.read()
                    content_type = response.content_type
            except TimeoutError:
                failure = RAUnavailable(f"{endpoint}: no answer in time")
            except aiohttp.ClientConnectorError as exc:
                # No connection at all: say which of the two it was, not a class name.
                resolved = not isinstance(exc.os_error, socket.gaierror)
                what = "could not be reached" if resolved else "could not be resolved"
                failure = RAUnreachable(f"{endpoint}: RA's host {what}", resolved=resolved)
            except aiohttp.ClientError as exc:
                # str(exc) may hold the URL, key included: keep only the class name.
                failure = RAUnavailable(f"{endpoint}: connection failed ({type(exc).__name__})")
        finally:
            self.limiter.release()
        log.debug(
            "%s %s -> %s in %.0f ms",
            endpoint,
            shown,  # never `query`: that one holds the key
            failure or status,
            (time.monotonic() - started) * 1000,
        )
        if failure is not None:
            self._record(False, priority)
            self._answered(False, request)
            # Raised outside the except blocks: no __context__ leads back to the aiohttp error.
            raise _Retry(failure)
        if status == 429:
            self.limiter.back_off(retry_after if retry_after is not None else 1.0)
        try:
            result = self._interpret(
                endpoint, status, content_type, body, retry_after, not_found_user
            )
        except (RAUserNotFound, RARequestRejected):
            self._record(True, priority)  # RA answered as it should: the name is the problem
            self._answered(True, request)
            raise
        except (RAKeyRejected, RANotUsable):
            self._record(False, priority)
            self._answered(True, request)  # an answer all the same
            raise
        except _Retry as retry:
            self._record(False, priority)
            # A 5xx is RA not answering; a 429 is RA answering that it is busy.
            self._answered(not isinstance(retry.error, RAUnavailable), request)
            raise
        except RAError:
            self._record(False, priority)  # an answer that is not JSON: RA is up all the same
            self._answered(True, request)
            raise
        self._record(True, priority)
        self._answered(True, request)
        return result

    def _answered(self, answered: bool, request: object) -> None:
        if self.circuit is None:
            return
        if answered:
            self.circuit.succeeded(request)
        else:
            self.circuit.failed(request)

    def _record(self, ok: bool, priority: Priority) -> None:
        if self._stats is not None:
            self._stats.ra_request(ok, scheduled=priority is Priority.SCHEDULED)

    def _interpret(
        self,
        endpoint: str,
        status: int,
        content_type: str,
        body: bytes,
        retry_after: float | None,
        not_found_user: str | None,
    ) -> Any:
        if status == 429:
            raise _Retry(RARateLimited(f"{endpoint}: RA answered 429", retry_after), retry_after)
        if status >= 500:
            raise _Retry(RAUnavailable(f"{endpoint}: RA answered {status}"), retry_after)
        if status == 401:
            raise RAKeyRejected(f"{endpoint}: RA refused the web API key (401)")
        if status == 403:
            raise RANotUsable(
                f"{endpoint}: refused with 403 by what stands in front of RA (a proxy or a "
                "firewall; RA refuses a bad key with 401)"
            )
        if status == 404 and not_found_user is not None:
            # RA's unknown user is a 404 whose body is `[]`; any other 404 is an address that
            # does not exist (RA_API_BASE_URL), not a user who does not.
            if body.strip() == b"[]":
                raise RAUserNotFound(not_found_user)
            raise RANotUsable(f"{endpoint}: no such address at RA (404): check RA_API_BASE_URL")
        if status == 422:
            raise RARequestRejected(f"{endpoint}: RA refused the request (422)")
        if status != 200:
            raise RABadResponse(f"{endpoint}: unexpected HTTP status {status}")
        if "html" in content_type:
            raise RABadResponse(f"{endpoint}: RA answered an HTML page instead of JSON")
        try:
            return json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise RABadResponse(f"{endpoint}: RA answered malformed JSON") from None
