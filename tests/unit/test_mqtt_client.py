"""The gateway's paho hooks, on a scripted socket: read-ahead semantics and the batched PUBACK bytes.

The integration tests (gateway smoke, faults, chaos) run every lane through `GatewayClient` against
a real Mosquitto; these pin the edge cases of the read-ahead buffer that a broker rarely produces.
"""

from __future__ import annotations

import struct
from collections import deque
from typing import Any

import pytest
from paho.mqtt.enums import CallbackAPIVersion

from eldercare_gateway.mqtt_client import READ_AHEAD_BYTES, GatewayClient, ReadAheadSocket


class ScriptedSocket:
    """Returns the scripted chunks one `recv` at a time; BlockingIOError when the script is empty."""

    def __init__(self, *chunks: bytes, pending: int = 0) -> None:
        self.chunks = deque(chunks)
        self.asked: list[int] = []
        self._pending = pending

    def recv(self, bufsize: int) -> bytes:
        self.asked.append(bufsize)
        if not self.chunks:
            raise BlockingIOError
        return self.chunks.popleft()

    def pending(self) -> int:
        return self._pending

    def fileno(self) -> int:
        return 42


def test_small_reads_are_served_from_one_large_read() -> None:
    inner = ScriptedSocket(b"\x30\x05hello\x30\x02hi")
    sock = ReadAheadSocket(inner)
    assert [sock.recv(1), sock.recv(1), sock.recv(5)] == [b"\x30", b"\x05", b"hello"]
    assert sock.buffered() == 4 and sock.pending() == 4
    assert [sock.recv(1), sock.recv(1), sock.recv(10)] == [b"\x30", b"\x02", b"hi"]  # never more than is there
    assert inner.asked == [READ_AHEAD_BYTES]  # one socket read for all of it
    assert sock.fileno() == 42  # everything else is the socket's


def test_empty_buffer_passes_would_block_and_eof_through() -> None:
    sock = ReadAheadSocket(ScriptedSocket(b"ab", b""))
    assert sock.recv(2) == b"ab"
    assert sock.recv(1) == b""  # the peer closed: paho sees the end of the connection
    with pytest.raises(BlockingIOError):
        sock.recv(1)
    assert sock.buffered() == 0


def test_pending_adds_the_inner_sockets_own_buffer() -> None:
    sock = ReadAheadSocket(ScriptedSocket(b"xyz", pending=7))  # e.g. TLS records already decrypted
    sock.recv(1)
    assert sock.pending() == 2 + 7


def test_ack_many_queues_one_packet_of_consecutive_pubacks(monkeypatch: pytest.MonkeyPatch) -> None:
    client = GatewayClient(CallbackAPIVersion.VERSION2, client_id="unit", manual_ack=True)
    queued: list[tuple[Any, ...]] = []
    monkeypatch.setattr(client, "_packet_queue", lambda *args: queued.append(args))
    client.ack_many([1, 300, 65535])
    client.ack_many([])
    assert len(queued) == 1
    command, packet = queued[0][0], queued[0][1]
    assert command == 0x40
    assert packet == b"".join(struct.pack("!BBH", 0x40, 2, mid) for mid in (1, 300, 65535))
