"""The GDB remote protocol's wire format, sans-IO.

A packet is ``$`` *payload* ``#`` *cc* where *cc* is the modulo-256 sum of the payload's bytes
as it travels (after escaping and run-length coding) in two lower-case hex digits. Inside the
payload:

- ``}`` escapes the next byte, which is XOR-ed with 0x20 (``#``, ``$``, ``}`` and ``*`` must be
  escaped in binary data);
- ``*`` repeats the previous byte ``ord(next) - 29`` more times (run-length coding). The count
  byte is never ``#`` or ``$`` (6 and 7 repeats are written some other way).

Outside a packet the receiver sees ``+`` (ack), ``-`` (nak: send the last packet again) and the
single byte ``0x03`` (Ctrl-C: interrupt the running target). Anything else there is line noise
and is skipped. After ``QStartNoAckMode`` is acknowledged neither side sends acks any more.

:class:`PacketConnection` is the receiving and sending state machine: :meth:`~PacketConnection.feed`
takes whatever bytes arrived and returns :class:`Event` objects; every byte the connection
itself wants to send (acks, naks, retransmissions) and every packet passed to
:meth:`~PacketConnection.send_packet` is collected for :meth:`~PacketConnection.data_to_send`.
Nothing here ever raises on input: malformed input becomes a :class:`Malformed` event.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, auto

#: the largest payload, as sent on the wire (escaped), that the stub accepts; advertised to gdb
#: as ``PacketSize`` in the ``qSupported`` reply
MAX_PACKET = 0x4000
#: naks in a row after which the stub stops retransmitting the same packet
MAX_RETRANSMIT = 8

INTERRUPT = 0x03
_HEX = b"0123456789abcdef"
_MUST_ESCAPE = frozenset(b"#$}*")
_RLE_MIN_RUN = 4            # a run this long or longer is worth "c*n" (3 bytes)
_RLE_MAX_REPEAT = 126 - 29  # the largest count a printable byte can carry
_RLE_FORBIDDEN = {ord("#") - 29, ord("$") - 29}  # 6 and 7 repeats


# ------------------------------------------------------------------------------------------
# events
class Event:
    """Something the peer sent."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Packet(Event):
    """A packet whose checksum matched (or no-ack mode), payload unescaped and expanded."""

    payload: bytes


@dataclass(frozen=True, slots=True)
class Interrupt(Event):
    """The 0x03 byte outside a packet: the peer wants the running target stopped."""


@dataclass(frozen=True, slots=True)
class Ack(Event):
    """``+``: the peer received our last packet."""


@dataclass(frozen=True, slots=True)
class Nak(Event):
    """``-``: the peer wants our last packet again (already queued for retransmission)."""


class Problem(Enum):
    BAD_CHECKSUM = auto()   # answered with '-' (in ack mode): the peer sends it again
    OVERSIZED = auto()      # too long: acknowledged, the command layer answers with an error
    BAD_ESCAPE = auto()     # '}' or '*' with nothing valid after it
    TRUNCATED = auto()      # a new '$' arrived before the previous packet ended


@dataclass(frozen=True, slots=True)
class Malformed(Event):
    """A packet that could not be used. ``reply_error`` says the peer waits for a reply."""

    problem: Problem
    reply_error: bool


# ------------------------------------------------------------------------------------------
# encoding helpers
def checksum(data: bytes) -> int:
    return sum(data) & 0xFF


def escape(data: bytes) -> bytes:
    """Escape the bytes that cannot appear literally in a packet (binary replies)."""
    if not any(b in _MUST_ESCAPE for b in data):
        return data
    out = bytearray()
    for b in data:
        if b in _MUST_ESCAPE:
            out.append(0x7D)
            out.append(b ^ 0x20)
        else:
            out.append(b)
    return bytes(out)


def rle_encode(data: bytes) -> bytes:
    """Run-length code an already escaped payload.

    Only runs of plain bytes are coded: never an escape sequence (``}`` and the byte after it),
    because the decoder repeats the last byte *as it travels*, before unescaping.
    """
    out = bytearray()
    i = 0
    n = len(data)
    while i < n:
        b = data[i]
        if b == 0x7D and i + 1 < n:   # an escape pair is copied unchanged
            out += data[i:i + 2]
            i += 2
            continue
        j = i + 1
        while j < n and data[j] == b:
            j += 1
        run = j - i
        i = j
        out.append(b)
        repeats = run - 1
        while repeats > 0:
            if repeats + 1 < _RLE_MIN_RUN:
                out += bytes([b]) * repeats
                break
            r = min(repeats, _RLE_MAX_REPEAT)
            while r in _RLE_FORBIDDEN:
                r -= 1
            out.append(0x2A)
            out.append(r + 29)
            repeats -= r
            if repeats > 0:
                # the next chunk needs a byte of its own to repeat
                out.append(b)
                repeats -= 1
    return bytes(out)


def frame(payload: bytes, *, rle: bool = True, binary: bool = False) -> bytes:
    """Build ``$payload#cs``. ``binary`` escapes payload bytes that need it first."""
    body = escape(payload) if binary else payload
    if rle:
        body = rle_encode(body)
    cs = checksum(body)
    return b"$" + body + b"#" + bytes((_HEX[cs >> 4], _HEX[cs & 15]))


def _hexval(b: int) -> int:
    if 0x30 <= b <= 0x39:
        return b - 0x30
    b |= 0x20
    if 0x61 <= b <= 0x66:
        return b - 0x61 + 10
    return -1


# ------------------------------------------------------------------------------------------
# the state machine
class _State(Enum):
    IDLE = auto()
    BODY = auto()
    CS1 = auto()
    CS2 = auto()


class PacketConnection:
    """Receiving and sending half of a GDB remote connection (stub side), without I/O."""

    def __init__(self, max_packet: int = MAX_PACKET) -> None:
        self.max_packet = max_packet
        self.ack_mode = True
        self._out = bytearray()
        self._state = _State.IDLE
        self._raw = bytearray()       # the packet body as received (for the checksum)
        self._sum = 0
        self._oversized = False
        self._cs_hi = 0
        self._last_sent: bytes | None = None
        self._naks = 0
        self._pending_noack = False
        # statistics, for tests and `monitor info gdb`
        self.packets_in = 0
        self.packets_out = 0
        self.bad_checksums = 0
        self.noise_bytes = 0

    # -- sending ---------------------------------------------------------------------------
    def send_packet(self, payload: bytes, *, rle: bool = True, binary: bool = False) -> None:
        data = frame(payload, rle=rle, binary=binary)
        self._last_sent = data if self.ack_mode else None
        self._naks = 0
        self.packets_out += 1
        self._out += data
        if self._pending_noack:
            # the reply to QStartNoAckMode is the last packet sent in ack mode; the peer
            # acknowledges it and stops acking after that
            self._pending_noack = False
            self.ack_mode = False
            self._last_sent = None

    def start_no_ack_mode(self) -> None:
        """Call before sending the ``OK`` that answers ``QStartNoAckMode``."""
        self._pending_noack = True

    def data_to_send(self) -> bytes:
        data = bytes(self._out)
        self._out.clear()
        return data

    # -- receiving -------------------------------------------------------------------------
    def feed(self, data: bytes) -> list[Event]:
        events: list[Event] = []
        for b in data:
            ev = self._byte(b)
            if ev is not None:
                events.append(ev)
        return events

    def _byte(self, b: int) -> Event | None:
        st = self._state
        if st is _State.BODY:
            if b == 0x23:  # '#'
                self._state = _State.CS1
                return None
            if b == 0x24:  # '$': the previous packet was cut short; start again
                self._begin()
                return Malformed(Problem.TRUNCATED, reply_error=False)
            self._sum += b
            if len(self._raw) < self.max_packet:
                self._raw.append(b)
            else:
                self._oversized = True
            return None
        if st is _State.IDLE:
            if b == 0x24:
                self._begin()
                return None
            if b == 0x2B:  # '+'
                self._last_sent = None
                self._naks = 0
                return Ack()
            if b == 0x2D:  # '-'
                if self._last_sent is not None and self._naks < MAX_RETRANSMIT:
                    self._naks += 1
                    self._out += self._last_sent
                return Nak()
            if b == INTERRUPT:
                return Interrupt()
            self.noise_bytes += 1
            return None
        if st is _State.CS1:
            self._cs_hi = _hexval(b)
            self._state = _State.CS2
            return None
        # CS2
        self._state = _State.IDLE
        lo = _hexval(b)
        good = self._cs_hi >= 0 and lo >= 0 and ((self._cs_hi << 4) | lo) == (self._sum & 0xFF)
        if not self.ack_mode:
            good = True  # checksums are not checked without acks (the peer may send "00")
        if not good:
            self.bad_checksums += 1
            self._out += b"-"
            self._raw.clear()
            return Malformed(Problem.BAD_CHECKSUM, reply_error=False)
        if self.ack_mode:
            self._out += b"+"
        self.packets_in += 1
        if self._oversized:
            self._raw.clear()
            return Malformed(Problem.OVERSIZED, reply_error=True)
        payload = decode_body(bytes(self._raw))
        self._raw.clear()
        if payload is None:
            return Malformed(Problem.BAD_ESCAPE, reply_error=True)
        return Packet(payload)

    def _begin(self) -> None:
        self._state = _State.BODY
        self._raw.clear()
        self._sum = 0
        self._oversized = False


def decode_body(raw: bytes) -> bytes | None:
    """Undo escaping and run-length coding of a received payload; None when malformed."""
    if 0x7D not in raw and 0x2A not in raw:
        return raw
    out = bytearray()
    i = 0
    n = len(raw)
    while i < n:
        b = raw[i]
        if b == 0x7D:
            if i + 1 >= n:
                return None
            out.append(raw[i + 1] ^ 0x20)
            i += 2
        elif b == 0x2A:
            if i + 1 >= n or not out:
                return None
            count = raw[i + 1] - 29
            if count < 0:
                return None
            out += bytes((out[-1],)) * count
            i += 2
        else:
            out.append(b)
            i += 1
    return bytes(out)
