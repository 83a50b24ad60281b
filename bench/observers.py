"""What the benchmarks watch: an operator's WebSocket, as the console opens it."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import threading
import time
import urllib.parse
import urllib.request

import websockets

from eldercare_platform.seed.generator import DEMO_PASSWORD


def operator_token(api: str, username: str = "operator1") -> str:
    """A bearer token for a demo operator."""
    body = urllib.parse.urlencode({"username": username, "password": DEMO_PASSWORD}).encode()
    with urllib.request.urlopen(f"{api}/api/auth/token", data=body, timeout=10) as response:
        token: str = json.loads(response.read())["access_token"]
    return token


class ConsoleWatcher:
    """An operator console's WebSocket: records the first wall time each device's alarm arrived."""

    def __init__(self, api: str) -> None:
        self.seen: dict[str, float] = {}
        self.alarm_ids: set[int] = set()
        self.resyncs = 0
        self._api = api
        self._token = operator_token(api)
        self._url = api.replace("http://", "ws://") + "/api/alarms/live?since=999999999"
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def start(self) -> ConsoleWatcher:
        """Connect in the background."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        if not self._ready.wait(20):
            raise TimeoutError("console websocket did not connect")
        return self

    async def _listen(self) -> None:
        version = 999_999_999
        while True:  # like the console: on "resync" or a dropped socket, reconnect and catch up by version
            url = self._url.replace("since=999999999", f"since={version}")
            async with websockets.connect(url, max_size=None, ping_interval=None) as socket:
                await socket.send(json.dumps({"type": "auth", "token": self._token}))  # never in the URL
                async for raw in socket:
                    message = json.loads(raw)
                    if message["type"] == "hello":
                        version = message["version"] if version == 999_999_999 else version
                        for alarm in message["missed"]:
                            self._saw(alarm)
                        if self._ready.is_set():  # a reconnection: reload the open queue, as the console does
                            for alarm in await asyncio.to_thread(self._open_queue):
                                self._saw(alarm)
                        self._ready.set()
                    elif message["type"] == "alarm":
                        self._saw(message["alarm"])
                        version = max(version, message["alarm"]["version"])
                    elif message["type"] == "resync":
                        self.resyncs += 1
                        break

    def _open_queue(self) -> list[dict[str, object]]:
        request = urllib.request.Request(f"{self._api}/api/alarms", headers={"Authorization": f"Bearer {self._token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            alarms: list[dict[str, object]] = json.loads(response.read())
        return alarms

    def _saw(self, alarm: dict[str, object]) -> None:
        self.alarm_ids.add(int(str(alarm["id"])))
        self.seen.setdefault(str(alarm["device_serial"]), time.time())

    def stop(self) -> None:
        """Cancel the listener and wait for it, then stop the loop (no coroutine left pending at exit)."""
        with contextlib.suppress(concurrent.futures.TimeoutError):
            asyncio.run_coroutine_threadsafe(self._cancel_listener(), self._loop).result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    async def _cancel_listener(self) -> None:
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
