"""Errors a command raises on purpose: each carries the one sentence the caller will read."""

from __future__ import annotations


class UserFacingError(Exception):
    """A problem the caller can fix; `message` is shown to them alone, as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadInput(UserFacingError):
    """An option the bot cannot use (malformed game list, user name RA would refuse, ...)."""


class NotLinked(UserFacingError):
    """The command needs a linked RA account and there is none."""
