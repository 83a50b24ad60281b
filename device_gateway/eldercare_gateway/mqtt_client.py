"""paho's client with the gateway's hot path trimmed: read-ahead, PUBACKs per batch, direct dispatch.

Stock paho reads each packet with three or four `recv` calls (type byte, length bytes, body) and one
`select` per packet, and sends each PUBACK with a `send` of its own after waking its loop through a
socket pair; and it walks its topic-filter trie for every message even when no per-topic callback
exists. At the gateway's rates that per-packet work was most of its CPU (docs/benchmarks.md,
"Ingest"). The hooks stay inside paho's own seams: the socket-like object with `pending()` that its
TLS and WebSocket transports already use, and its outgoing packet queue. paho is pinned in
requirements.lock, and every gateway test runs through this class.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode

READ_AHEAD_BYTES = 256 * 1024
PACKETS_PER_WAKEUP = 2000  # then back to paho's loop, so keepalives and queued writes are not starved
PUBACK = 0x40


class ReadAheadSocket:
    """Serves paho's small `recv`s from one large read; `pending()` tells paho's loop not to wait."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._data = b""
        self._pos = 0

    def recv(self, bufsize: int) -> bytes:
        """Up to `bufsize` bytes, from the buffer if it has any (else one large read of the socket)."""
        if self._pos >= len(self._data):
            self._data = self._sock.recv(max(bufsize, READ_AHEAD_BYTES))  # BlockingIOError passes through
            self._pos = 0
            if not self._data:
                return b""  # the peer closed the connection
        end = self._pos + bufsize
        chunk = self._data[self._pos : end]
        self._pos = min(end, len(self._data))
        return chunk

    def buffered(self) -> int:
        """Bytes read from the socket that paho has not taken yet."""
        return len(self._data) - self._pos

    def pending(self) -> int:
        """What paho's loop checks before it waits in select(): ours plus the inner socket's (TLS)."""
        inner = self._sock.pending() if hasattr(self._sock, "pending") else 0
        return self.buffered() + int(inner)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)  # send, fileno, setblocking, close, ...


class GatewayClient(mqtt.Client):
    """A paho client that reads ahead and acknowledges a committed batch with one write."""

    def _create_socket(self) -> Any:
        return ReadAheadSocket(super()._create_socket())

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        """Handle every packet already read ahead (up to a bound), not one per select() as paho does."""
        rc = super().loop_read(max_packets)
        for _ in range(PACKETS_PER_WAKEUP):
            sock = self._sock
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS or not isinstance(sock, ReadAheadSocket) or not sock.buffered():
                break
            rc = super().loop_read(max_packets)
        return rc

    def _handle_on_message(self, message: mqtt.MQTTMessage) -> None:
        # Straight to on_message: the gateway registers no per-topic callbacks, and paho's walk of its
        # (empty) topic trie for every message was the largest single cost in its thread (py-spy).
        on_message = self.on_message
        if on_message is not None:
            with self._in_callback_mutex:
                on_message(self, self._userdata, message)

    def ack_many(self, mids: Sequence[int]) -> None:
        """PUBACK QoS 1 messages (manual-ack mode) in one queued packet: one wake-up, one send."""
        if not mids:
            return
        packet = b"".join(struct.pack("!BBH", PUBACK, 2, mid) for mid in mids)
        self._packet_queue(PUBACK, packet, 0, 0)
