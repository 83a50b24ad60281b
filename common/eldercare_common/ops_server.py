"""A tiny HTTP server for processes without their own web stack: `/health` and `/metrics`.

The gateway, the scheduler and the simulators run it on a side port so that an orchestrator can
probe them and Prometheus can scrape them, exactly like the API's own endpoints.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

HealthCheck = Callable[[], Mapping[str, str]]


def health_payload(checks: Mapping[str, str]) -> tuple[int, dict[str, object]]:
    """HTTP status and body for a set of component checks: 200 only when every check is `ok`."""
    healthy = all(value == "ok" for value in checks.values())
    return (200 if healthy else 503), {"status": "ok" if healthy else "degraded", "checks": dict(checks)}


class OpsServer:
    """Serves `/health` (JSON from a callback) and `/metrics` (Prometheus) on a background thread."""

    def __init__(self, *, host: str, port: int, health_check: HealthCheck) -> None:
        check = health_check

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.startswith("/metrics"):
                    body = generate_latest()
                    self._send(200, CONTENT_TYPE_LATEST, body)
                elif self.path.startswith("/health"):
                    try:
                        status, payload = health_payload(check())
                    except Exception as exc:  # a failing probe is an unhealthy answer, not a crash
                        status, payload = 503, {"status": "error", "error": str(exc)}
                    self._send(status, "application/json", json.dumps(payload).encode())
                else:
                    self._send(404, "text/plain", b"not found")

            def _send(self, status: int, content_type: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="ops-server", daemon=True)

    @property
    def port(self) -> int:
        """The bound port (useful when 0 asked the OS for a free one)."""
        return int(self._server.server_address[1])

    def start(self) -> OpsServer:
        """Start serving in the background."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
