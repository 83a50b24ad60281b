"""The OSRM table travel model, against a tiny local HTTP server with canned answers (we are offline here)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from eldercare_platform.routing.osrm import UNREACHABLE_KM, OsrmError, OsrmTableTravel
from eldercare_platform.routing.problem import Point

POINTS = [Point(31.2, 121.4), Point(31.21, 121.41), Point(31.22, 121.42)]
ASKED: list[str] = []


class Canned(BaseHTTPRequestHandler):
    """Answers a table whose entries encode (source place, destination place): 1000 m × (1 + |i − j|)."""

    def do_GET(self) -> None:
        ASKED.append(self.path)
        url = urlsplit(self.path)
        if "broken" in url.path:
            self.send_response(500)
            self.end_headers()
            return
        coordinates = url.path.rsplit("/", 1)[1].split(";")
        query = parse_qs(url.query)
        sources = [int(i) for i in query["sources"][0].split(";")]
        destinations = [int(i) for i in query["destinations"][0].split(";")]
        lons = [float(c.split(",")[0]) for c in coordinates]
        place = [round((lon - 121.4) * 100) for lon in lons]
        distances = [
            [None if place[s] == 0 and place[d] == 2 else 1000.0 * (1 + abs(place[s] - place[d])) for d in destinations]
            for s in sources
        ]
        durations = [[None if x is None else x / 10 for x in row] for row in distances]
        body = json.dumps({"code": "Ok", "distances": distances, "durations": durations}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        del args


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = HTTPServer(("127.0.0.1", 0), Canned)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_the_matrix_comes_from_the_table_service_in_blocks(server: str) -> None:
    ASKED.clear()
    found = OsrmTableTravel(server, block=2).matrix(POINTS, "car")
    assert len(ASKED) == 4 and all("/table/v1/driving/" in path for path in ASKED)
    assert found.km[0, 1] == 2.0 and found.km[1, 2] == 2.0 and found.km[0, 0] == 0.0
    assert found.minutes[0, 1] == pytest.approx(200 / 60)
    assert found.km[0, 2] == UNREACHABLE_KM  # no route: never used


def test_a_failing_service_raises_its_own_error(server: str) -> None:
    with pytest.raises(OsrmError):
        OsrmTableTravel(f"{server}/broken").matrix(POINTS, "foot")
