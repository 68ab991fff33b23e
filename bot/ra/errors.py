"""Typed failures of the RA web API. Messages name the endpoint, never a URL or the key."""

from __future__ import annotations


class RAError(Exception):
    """Base class: something went wrong talking to RetroAchievements."""


class RAKeyRejected(RAError):
    """RA answered 401: the operator's web API key is missing, wrong or revoked."""


class RANotUsable(RAError):
    """RA's API cannot be used as the bot is set up: a 404 that is not RA's unknown user (a
    wrong RA_API_BASE_URL path), or a 403 (a proxy or firewall in front of RA; RA itself refuses
    a bad key with 401). The operator's to fix; never "no such user", never "check the key"."""


class RARequestRejected(RAError):
    """RA answered 422: a parameter (usually the user name) is not one RA accepts."""


class RAUserNotFound(RAError):
    """No RA account has that name."""

    def __init__(self, username: str) -> None:
        super().__init__(f"no RetroAchievements user {username!r}")
        self.username = username


class RARateLimited(RAError):
    """RA kept answering 429 for longer than we may wait."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RAUnavailable(RAError):
    """RA did not answer usefully: 5xx, a timeout or a broken connection, after retries."""


class RABadResponse(RAError):
    """RA answered 200 with something that is not the documented JSON (HTML, truncated JSON)."""


class RAUnreachable(RAUnavailable):
    """No connection to RA's host: its name did not resolve (`resolved` False) or it refused."""

    def __init__(self, message: str, *, resolved: bool) -> None:
        super().__init__(message)
        self.resolved = resolved
