"""Console entry point of the API process (`eldercare-api`)."""

from __future__ import annotations

import uvicorn

from eldercare_common.logging import configure_logging
from eldercare_common.settings import load_settings
from eldercare_platform.core.config import ApiSettings
from eldercare_platform.main import create_app


def api() -> None:
    """Run the API with uvicorn (one process; scale out with more behind a load balancer)."""
    settings = load_settings(ApiSettings)
    configure_logging(process="api", level=settings.log_level, json=settings.log_json)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None, proxy_headers=True)


if __name__ == "__main__":
    api()
