"""Tokens never reach a log line: uvicorn's request lines, structlog events, exceptions, JSON or console."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator

import pytest

from eldercare_common.logging import configure_logging, get_logger, redact

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIiwicm9sZSI6Im9wZXJhdG9yIn0.c2lnbmF0dXJlLXBhcnQtb2YtdGhlLXRva2Vu"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    # An in-process uvicorn of an earlier test (the browser tests') leaves its loggers at its own level.
    uvicorn_error = logging.getLogger("uvicorn.error")
    uvicorn_level = uvicorn_error.level
    uvicorn_error.setLevel(logging.NOTSET)
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    uvicorn_error.setLevel(uvicorn_level)


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        (f'127.0.0.1:5 - "WebSocket /api/alarms/live?token={JWT}&since=3" [accepted]', "&since=3"),
        ("GET /x?access_token=opaque-secret-value HTTP/1.1", "HTTP/1.1"),
        ("Authorization: Bearer opaque-secret-value", "Authorization"),
        ("{'authorization': 'Basic b3BhcXVlLXNlY3JldC12YWx1ZQ=='}", "authorization"),
        ('{"access_token": "opaque-secret-value", "token_type": "bearer"}', "token_type"),
        (f"claims in an exception: {JWT}", "exception"),
    ],
)
def test_redact_removes_the_secret_and_keeps_the_rest(line: str, kept: str) -> None:
    redacted = redact(line)
    assert "opaque-secret-value" not in redacted and "b3BhcXVl" not in redacted and JWT not in redacted
    assert "[REDACTED" in redacted and kept in redacted


def test_redact_leaves_ordinary_words_alone() -> None:
    for line in ("the token expired", "tokens=5", "token in the URL refused: send it in the first message"):
        assert redact(line) == line


def test_every_logger_writes_redacted_lines(capsys: pytest.CaptureFixture[str], restore_logging: None) -> None:
    configure_logging(process="test", level="INFO", json=True)
    logging.getLogger("uvicorn.access").warning(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET", f"/api/alarms?token={JWT}", "1.1", 401
    )
    logging.getLogger("uvicorn.error").info('%s - "WebSocket %s" [accepted]', "127.0.0.1:5", f"/live?token={JWT}")
    get_logger("eldercare.test").info("request", headers={"authorization": f"Bearer {JWT}"})
    try:
        raise ValueError(f"bad token {JWT}")
    except ValueError:
        get_logger("eldercare.test").exception("failed")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 4
    for line in lines:
        json.loads(line)  # still valid JSON
        assert JWT not in line and "c2lnbmF0dXJl" not in line
    assert "token=[REDACTED]" in lines[0] and "token=[REDACTED]" in lines[1]


def test_uvicorns_own_handlers_cannot_bypass_redaction(
    capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    """uvicorn's default log config gives its loggers handlers that do not propagate; ours takes them over."""
    access = logging.getLogger("uvicorn.access")
    own = logging.StreamHandler(sys.stderr)
    access.addHandler(own)
    access.propagate = False
    try:
        configure_logging(process="test", level="INFO", json=True)
        access.warning('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET", f"/api/alarms?token={JWT}", "1.1", 401)
        err = capsys.readouterr().err
        assert err.count("token=[REDACTED]") == 1 and JWT not in err
        assert access.propagate and own not in access.handlers
    finally:
        access.removeHandler(own)
        access.propagate = True
