"""Console entry point of the API process (`eldercare-api`)."""

from __future__ import annotations

import os
import tempfile

import uvicorn
from fastapi import FastAPI

from eldercare_common.logging import configure_logging
from eldercare_common.settings import load_settings
from eldercare_platform.core.config import ApiSettings
from eldercare_platform.main import create_app


def app_from_environment() -> FastAPI:
    """The app as each worker process builds it (uvicorn's factory when `ELDERCARE_WORKERS` > 1)."""
    settings = load_settings(ApiSettings)
    configure_logging(process="api", level=settings.log_level, json=settings.log_json)
    return create_app(settings)


def api() -> None:
    """Run the API with uvicorn: `ELDERCARE_WORKERS` processes on one port (default 1).

    The Python work of a request holds one core (docs/benchmarks.md, "API"), so a machine with more
    cores serves more with more workers. Everything a process runs beside requests is safe to run in
    each: the intake and the downlink publisher claim rows with SKIP LOCKED, and each live hub serves
    its own WebSockets. Metrics then come from all workers (prometheus_client multiprocess mode).
    """
    settings = load_settings(ApiSettings)
    configure_logging(process="api", level=settings.log_level, json=settings.log_json)
    common = {"host": settings.host, "port": settings.port, "log_config": None, "proxy_headers": True}
    if settings.workers == 1:
        uvicorn.run(create_app(settings), **common)  # type: ignore[arg-type]
        return
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="eldercare-api-metrics-")
    uvicorn.run(
        "eldercare_platform.cli:app_from_environment",
        factory=True,
        workers=settings.workers,
        **common,  # type: ignore[arg-type]
    )


if __name__ == "__main__":
    api()
