"""Structured logging with structlog: JSON lines in production, readable lines on a terminal."""

from __future__ import annotations

import logging
import re
import sys

import structlog

# Credentials that must never reach a log line, whichever logger wrote it (uvicorn's request lines
# carry the URL, exceptions may carry a header): `token=` / `access_token=` in a URL or message,
# Authorization header values, and anything shaped like a JWT. Values stop at a backslash so a
# JSON-escaped quote stays intact.
_REDACTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\b((?:access_|refresh_|id_)?token=)[^&\s\"'#;,\\]+"), r"\1[REDACTED]"),
    (
        re.compile(r"(?i)(\bauthorization[\"']?\s*[:=,]\s*[\"']?)(?:(?:bearer|basic)\s+)?[^\s\"',;\\]+"),
        r"\1[REDACTED]",
    ),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1[REDACTED]"),
    (re.compile(r"(?i)([\"']?(?:access_token|token)[\"']?\s*:\s*[\"'])[^\"'\\]+"), r"\1[REDACTED]"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), "[REDACTED-JWT]"),
)


def redact(line: str) -> str:
    """The line with tokens and Authorization values replaced by `[REDACTED]`."""
    for pattern, replacement in _REDACTIONS:
        line = pattern.sub(replacement, line)
    return line


class RedactingFormatter(structlog.stdlib.ProcessorFormatter):
    """structlog's formatter, with `redact` applied to every finished line (message, fields, traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        """Format, then redact."""
        return redact(super().format(record))


def configure_logging(*, process: str, level: str = "INFO", json: bool | None = None) -> None:
    """Route stdlib and structlog records through one structured renderer tagged with the process."""
    use_json = (not sys.stderr.isatty()) if json is None else json
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if use_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = RedactingFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    structlog.contextvars.bind_contextvars(process=process)
    # uvicorn (or anything else that set up logging first) may have given its loggers handlers of
    # their own that do not propagate: such lines would bypass the redacting formatter. Every line
    # goes through the root handler above.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structured logger for a module."""
    return structlog.stdlib.get_logger(name)
