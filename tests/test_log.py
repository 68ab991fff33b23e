"""The logging net: secrets and `y=` query values never reach the output."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator

import pytest

from bot.log import REDACTED, RedactingFormatter, redact, setup_logging

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789"
KEY = "Xq7Lm2Rt9Vb4Nc6Hd8Jf1Kg3Ps5Wz0Ya"
URL = f"https://retroachievements.org/API/API_GetUserProfile.php?u=Scott&y={KEY}"


# -- redact --------------------------------------------------------------------------------------


def test_redact_secrets() -> None:
    text = f"token {TOKEN} and key {KEY} and again {KEY}"
    out = redact(text, (TOKEN, KEY))
    assert TOKEN not in out and KEY not in out
    assert out == f"token {REDACTED} and key {REDACTED} and again {REDACTED}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (URL, "https://retroachievements.org/API/API_GetUserProfile.php?u=Scott&y=***"),
        ("GET /API/x.php?y=other-key&u=Scott", "GET /API/x.php?y=***&u=Scott"),
        (
            "url=URL('https://h/API/x.php?z=me&y=abc123')",
            "url=URL('https://h/API/x.php?z=me&y=***')",
        ),
        ('"https://h/x?y=abc"', '"https://h/x?y=***"'),
        ("a?y=1&b&y=2", "a?y=***&b&y=***"),
    ],
)
def test_redact_any_y_query_value(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_redact_leaves_other_text_alone() -> None:
    text = "fetched ?u=Scott&g=14402 in 0.2 s; y = 3; key=value; day=1"
    assert redact(text, (KEY,)) == text


def test_redact_ignores_empty_secrets() -> None:
    assert redact("nothing secret", ("", "")) == "nothing secret"


# -- RedactingFormatter --------------------------------------------------------------------------


def record(msg: str, *args: object, exc_info: object = None) -> logging.LogRecord:
    return logging.LogRecord(
        "bot.test",
        logging.ERROR,
        __file__,
        1,
        msg,
        args,
        exc_info,  # type: ignore[arg-type]
    )


def test_formatter_redacts_message_and_arguments() -> None:
    formatter = RedactingFormatter("%(levelname)s %(message)s", (TOKEN, KEY))
    out = formatter.format(record("calling %s with token %s", URL, TOKEN))
    assert KEY not in out and TOKEN not in out
    assert out.startswith("ERROR calling https://retroachievements.org/API/")
    assert "y=***" in out


def test_formatter_redacts_tracebacks() -> None:
    formatter = RedactingFormatter("%(message)s", (TOKEN, KEY))
    other_key = "Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp"  # not configured: caught by the y= rule
    try:
        raise ConnectionError(f"cannot reach {URL} (also tried ?y={other_key}) token={TOKEN}")
    except ConnectionError:
        out = formatter.format(record("RA call failed", exc_info=sys.exc_info()))
    assert "Traceback" in out and "ConnectionError" in out
    assert KEY not in out and other_key not in out and TOKEN not in out


def test_formatter_redacts_chained_tracebacks() -> None:
    formatter = RedactingFormatter("%(message)s", (KEY,))
    try:
        try:
            raise ValueError(f"inner {URL}")
        except ValueError as exc:
            raise RuntimeError(f"outer {KEY}") from exc
    except RuntimeError:
        out = formatter.format(record("failed", exc_info=sys.exc_info()))
    assert "ValueError" in out and "RuntimeError" in out
    assert KEY not in out


def test_formatter_redacts_stack_info() -> None:
    formatter = RedactingFormatter("%(message)s", (KEY,))
    rec = record("look")
    rec.stack_info = f'  File "x.py", line 1, in f\n    get("{URL}")'
    assert KEY not in formatter.format(rec)


# -- setup_logging -------------------------------------------------------------------------------


@pytest.fixture
def restore_root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    http_level = logging.getLogger("discord.http").level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("discord.http").setLevel(http_level)


def test_setup_logging_writes_redacted_lines_to_stderr(
    monkeypatch: pytest.MonkeyPatch, restore_root_logging: None
) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    setup_logging("DEBUG", (TOKEN, KEY))
    log = logging.getLogger("bot.anything")
    log.debug("request %s", URL)
    try:
        raise OSError(f"boom {KEY}")
    except OSError:
        log.exception("failed with %s", TOKEN)
    out = stream.getvalue()
    assert "request https://retroachievements.org/API/" in out
    assert "OSError" in out
    assert KEY not in out and TOKEN not in out
    assert logging.getLogger().level == logging.DEBUG
    assert logging.getLogger("discord.http").level == logging.INFO


def test_setup_logging_level(monkeypatch: pytest.MonkeyPatch, restore_root_logging: None) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    setup_logging("WARNING", ())
    logging.getLogger("bot.x").info("quiet")
    logging.getLogger("bot.x").warning("loud")
    assert "quiet" not in stream.getvalue()
    assert "loud" in stream.getvalue()
