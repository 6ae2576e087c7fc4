"""Consoles: telnet (the real client, through pexpect), raw sockets, scrollback, abuse (fake VM)."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pexpect
import pytest

from .conftest import free_port, wait_for
from .fakevm import FakeVM
from hvd.console import GREETING

VM = '[vm.a]\nkernel = "{k}"\nserial = "tcp:127.0.0.1:{port}"\nautostart = true\n'


@pytest.fixture
def console(make_daemon: Any, kernel: Path) -> Any:
    port = free_port()
    d = make_daemon(VM.format(k=kernel, port=port))
    d.port = port
    return d


def connect(port: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return s


def read_until(s: socket.socket, token: bytes, timeout: float = 10) -> bytes:
    buf = b""
    deadline = time.monotonic() + timeout
    while token not in buf:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        data = s.recv(65536)
        if not data:
            raise AssertionError(f"EOF before {token!r}; got {buf[-200:]!r}")
        buf += data
    return buf


def test_late_client_gets_scrollback_then_live_output(console: Any) -> None:
    wait_for(lambda: FakeVM.instances and FakeVM.instances[0].status == "running")
    time.sleep(0.1)
    s = connect(console.port)
    got = read_until(s, b"hello from a\r\n")
    assert got == GREETING + b"hello from a\r\n"
    s.sendall(b"abc\r\x00def\n")  # CR NUL -> CR; LF passes through
    read_until(s, b"abc\r\x00def\n")
    assert FakeVM.instances[0].inputs == b"abc\rdef\n"
    # IAC in guest output is doubled, IAC IAC from the client is one 0xFF byte
    s.sendall(b"\xff\xff")
    read_until(s, b"\xff\xff")
    assert FakeVM.instances[0].inputs.endswith(b"\xff")
    s.close()


def test_several_clients_and_log_file(console: Any) -> None:
    clients = [connect(console.port) for _ in range(3)]
    for c in clients:
        read_until(c, b"hello from a\r\n")
    clients[1].sendall(b"shared\r\n")
    for c in clients:
        read_until(c, b"shared\r")
    log = Path(console.cfg.state_dir) / "consoles" / "a.log"
    wait_for(lambda: log.exists() and b"shared\r" in log.read_bytes())
    assert log.read_bytes().startswith(b"hello from a\r\n")
    assert log.stat().st_mode & 0o777 == 0o600
    for c in clients:
        c.close()


@pytest.mark.skipif(shutil.which("telnet") is None, reason="telnet not installed")
def test_real_telnet_character_mode(console: Any) -> None:
    child = pexpect.spawn("telnet", ["127.0.0.1", str(console.port)], timeout=10)
    try:
        child.expect("hello from a")
        # character mode: every key goes out at once, the guest (fake) echoes it
        child.send("x")
        wait_for(lambda: FakeVM.instances[0].inputs.endswith(b"x"))
        child.expect("x")
        child.send("yz\r")
        wait_for(lambda: FakeVM.instances[0].inputs.endswith(b"xyz\r"))
        assert b"\x00" not in FakeVM.instances[0].inputs and b"\xff" not in \
            FakeVM.instances[0].inputs
        child.sendcontrol("]")
        child.expect("telnet>")
        child.sendline("quit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)


def test_flooding_client_never_read_and_vanishing(console: Any) -> None:
    vm = FakeVM.instances[0]
    # 1. a client that never reads, with a tiny receive buffer
    deaf = socket.socket()
    deaf.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    deaf.connect(("127.0.0.1", console.port))
    # 2. a client that vanishes in the middle of a line
    gone = connect(console.port)
    gone.sendall(b"half a li")
    gone.close()
    # 3. a reader that takes everything
    reader = connect(console.port)
    received = bytearray()
    stop = threading.Event()

    def drain() -> None:
        reader.settimeout(0.2)
        while not stop.is_set():
            try:
                data = reader.recv(1 << 20)
            except socket.timeout:
                continue
            if not data:
                return
            received.extend(data)

    t = threading.Thread(target=drain)
    t.start()
    # 4. a client flooding input as fast as it can: paced, held back by TCP, never queued
    flooder = connect(console.port)
    flooding = threading.Event()
    sent = [0]

    stop_flood = threading.Event()

    def flood() -> None:
        flooder.settimeout(0.2)
        while not stop_flood.is_set():
            try:
                sent[0] += flooder.send(b"z" * (64 << 10))
            except socket.timeout:
                flooding.set()  # TCP pushes back
            except OSError:
                return

    f = threading.Thread(target=flood)
    f.start()
    assert flooding.wait(90)
    stop_flood.set()
    f.join()
    # 5. 4 MiB of guest output at once
    reader.sendall(b"\rflood\r")
    wait_for(lambda: b"x" * 1023 + b"\n" in received, timeout=90)
    hub = console.daemon.entries["a"].hub
    wait_for(lambda: hub.dropped_clients >= 1, timeout=90)
    # the daemon and the guest go on, and the flood reached the guest only at the paced rate
    reader.sendall(b"\ralive\r")
    wait_for(lambda: b"alive" in received, timeout=90)
    stop.set()
    t.join()
    assert len(vm.inputs) < sent[0]
    assert len(hub.clients) == 2
    assert len(hub.scrollback) <= 64 * 1024
    for s in (deaf, reader, flooder):
        s.close()
    assert vm.status == "running"


def test_too_many_clients_refused(console: Any) -> None:
    socks = [connect(console.port) for _ in range(16)]
    for s in socks:
        read_until(s, b"hello")
    extra = connect(console.port)
    assert b"too many" in read_until(extra, b"clients")
    for s in socks + [extra]:
        s.close()
