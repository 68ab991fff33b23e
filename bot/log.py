"""Logging set-up with a last line of defence against leaked secrets.

The RA key travels in query strings, so the RA client redacts at the source (it never puts a URL
into an exception or a log line). This formatter is the net under that: whatever reaches a
handler, message and traceback alike, has every configured secret replaced before it is written.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable

REDACTED = "***"
# Any `y=` query parameter, whatever its value: the RA key's wire form.
_KEY_PARAM = re.compile(r"([?&]y=)[^&\s'\"]+")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Return `text` with every secret and every `y=` query value replaced by ***."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return _KEY_PARAM.sub(rf"\g<1>{REDACTED}", text)


class RedactingFormatter(logging.Formatter):
    """A formatter whose output, tracebacks included, never carries a secret."""

    def __init__(self, fmt: str, secrets: Iterable[str] = (), datefmt: str | None = None) -> None:
        super().__init__(fmt, datefmt)
        self.secrets = tuple(s for s in secrets if s)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self.secrets)


def setup_logging(level: str, secrets: Iterable[str]) -> None:
    """Send every log record to stderr through the redacting formatter."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        RedactingFormatter("%(asctime)s %(levelname)-8s %(name)s: %(message)s", secrets)
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # discord.py's gateway chatter is useful at INFO; its HTTP layer is noisy at DEBUG.
    logging.getLogger("discord.http").setLevel(max(logging.INFO, logging.getLevelName(level)))
    # Alembic narrates its plugin set-up at INFO; its upgrades are worth a line, the rest is not.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.migration").setLevel(logging.INFO)
    # aiosqlite logs every operation at DEBUG.
    logging.getLogger("aiosqlite").setLevel(max(logging.INFO, logging.getLevelName(level)))
