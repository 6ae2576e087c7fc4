"""Unit tests: QMP JSON framing and the telnet codec."""

from __future__ import annotations

import json

from hvd.console import (DO, DONT, GREETING, IAC, IP, SB, SE, WILL, WONT, TelnetDecoder,
                         TelnetEncoder)
from hvd.control.qmp import JsonSplitter, QmpError, parse_value
from hvd.ctl import TelnetClientFilter, encode_input

import pytest


def values(items: list) -> list:
    return [json.loads(v) for k, v in items if k == "value"]


def test_split_back_to_back_and_across_chunks() -> None:
    s = JsonSplitter()
    msg = b'{"execute": "a", "arguments": {"s": "}{\\"]["}}{"execute":"b"}\n'
    out = []
    for i in range(len(msg)):  # byte by byte
        out += s.feed(msg[i:i + 1])
    assert values(out) == [{"execute": "a", "arguments": {"s": '}{"]['}}, {"execute": "b"}]
    assert s.feed(msg) == [("value", msg[:46]), ("value", msg[46:-1])]


def test_garbage_reports_and_resyncs() -> None:
    s = JsonSplitter()
    out = s.feed(b'hello world\n{"execute":"x"}\n42\n')
    assert out[0][0] == "error" and "JSON parse error" in out[0][1]
    assert out[1] == ("value", b'{"execute":"x"}')
    assert out[2] == ("error", "QMP input must be a JSON object")
    # garbage directly followed by an object: error first, then the object
    out = s.feed(b'xx{"a":1}')
    assert [k for k, _ in out] == ["error", "value"]


def test_oversized_message_is_dropped_without_storing() -> None:
    s = JsonSplitter(max_message=1000)
    out = s.feed(b'{"execute": "' + b"a" * 5000)
    assert out == [("error", "QMP input larger than 1000 bytes, discarded")]
    assert len(s.buf) == 0
    out = s.feed(b"a" * 100000 + b'"}{"execute":"ok"}')
    assert out == [("value", b'{"execute":"ok"}')]


def test_deep_nesting_is_bounded() -> None:
    s = JsonSplitter(max_depth=10)
    out = s.feed(b"[" * 100000)
    assert [k for k, _ in out] == ["error"]
    out = s.feed(b"]" * 100000 + b'{"x":1}')
    assert out == [("value", b'{"x":1}')]


def test_parse_value_errors() -> None:
    for bad in (b'{"a":}', b"{\xff}", b'{"a": NaN}'):
        with pytest.raises(QmpError):
            parse_value(bad)


def test_telnet_decoder_strips_and_negotiates() -> None:
    d = TelnetDecoder()
    # client agrees to what the server offered: no reply (no loops), DO LINEMODE refused
    data, reply = d.feed(bytes([IAC, DO, 1, IAC, DO, 3, IAC, DO, 34]) + b"ab")
    assert data == b"ab" and reply == bytes([IAC, WONT, 34])
    # client offers terminal type / NAWS: refused; offers SGA: accepted once
    data, reply = d.feed(bytes([IAC, WILL, 24, IAC, WILL, 31, IAC, WILL, 3, IAC, WILL, 3]))
    assert data == b"" and reply == bytes([IAC, DONT, 24, IAC, DONT, 31, IAC, DO, 3])
    # DONT ECHO turns echo off (acknowledged with WONT), repeated: silence
    assert d.feed(bytes([IAC, DONT, 1, IAC, DONT, 1])) == (b"", bytes([IAC, WONT, 1]))
    # subnegotiation stripped, IAC IAC is 0xFF, IP is Ctrl-C, split across chunks
    data1, _ = d.feed(bytes([IAC, SB, 31, 0, 80, 0]))
    data2, _ = d.feed(bytes([24, IAC, SE]) + b"x" + bytes([IAC, IAC, IAC]))
    data3, _ = d.feed(bytes([IP]) + b"y")
    assert data1 + data2 + data3 == b"x\xff\x03y"


def test_telnet_decoder_cr_handling() -> None:
    d = TelnetDecoder()
    assert d.feed(b"ls\r\x00pwd\r\nx\ny\r") == (b"ls\rpwd\rx\ny\r", b"")
    assert d.feed(b"\n") == (b"", b"")  # CR LF split over two reads
    assert d.feed(b"\rz") == (b"\rz", b"")


def test_telnet_encoder() -> None:
    e = TelnetEncoder()
    assert e.encode(b"a\r\nb\xffc") == b"a\r\nb\xff\xffc"
    assert e.encode(b"bare\rcr") == b"bare\r\x00cr"
    assert e.encode(b"end\r") == b"end\r"
    assert e.encode(b"\nnext") == b"\nnext"
    assert e.encode(b"x\r") == b"x\r"
    assert e.encode(b"y") == b"\x00y"
    assert GREETING == bytes([IAC, WILL, 1, IAC, WILL, 3])


def test_ctl_telnet_client_filter() -> None:
    f = TelnetClientFilter()
    text, reply = f.feed(GREETING + b"hi\r\x00there\xff\xff" + bytes([IAC, DO, 24]))
    assert text == b"hi\rthere\xff"
    assert reply == bytes([IAC, DO, 1, IAC, DO, 3, IAC, WONT, 24])
    assert encode_input(b"a\rb\r\n\xff") == b"a\r\x00b\r\n\xff\xff"


async def test_console_hub_never_blocks_the_guest(tmp_path) -> None:
    import threading

    import trio

    from hvd.console import LOG_MAX, PENDING_MAX, ConsoleHub

    hub = ConsoleHub("t", None, tmp_path / "t.log")
    chunk = b"y" * 65536
    done = threading.Event()

    def guest() -> None:  # the vCPU thread: 4 MiB with nobody draining yet
        for _ in range(64):
            hub.guest_output(chunk)
        done.set()

    await trio.to_thread.run_sync(guest)
    assert done.is_set()
    assert hub.dropped_bytes == 64 * 65536 - PENDING_MAX
    async with trio.open_nursery() as n:
        n.start_soon(hub.pump)
        with trio.fail_after(5):
            while len(hub.scrollback) < hub.scrollback_max:
                await trio.sleep(0.01)
        n.cancel_scope.cancel()
    assert len(hub.scrollback) == hub.scrollback_max
    assert (tmp_path / "t.log").stat().st_size == PENDING_MAX < LOG_MAX
    hub.guest_output(b"after close")  # ignored, no error
