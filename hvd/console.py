"""A VM's UART3 console on TCP, speaking enough telnet for ``telnet`` and ``nc``.

Telnet (RFC 854, options RFC 857 ECHO and RFC 858 SUPPRESS-GO-AHEAD): on connect the server
says ``IAC WILL ECHO`` and ``IAC WILL SUPPRESS-GO-AHEAD`` (the guest echoes; no go-aheads), which
puts a telnet client in character mode. Client negotiation is answered per RFC 854's rules
(only a change of state is acknowledged, so negotiation cannot loop); unsupported options are
refused. ``IAC IAC`` is a 0xFF data byte, other commands and subnegotiations are stripped,
``IAC IP`` becomes Ctrl-C. Input ``CR NUL`` and ``CR LF`` both become one CR (the Enter key);
output ``IAC`` is doubled and a bare ``CR`` is sent as ``CR NUL``.

The :class:`ConsoleHub` takes guest output from the vCPU thread without ever blocking it (a
bounded pending buffer, oldest bytes dropped on overflow), and on the trio side appends it to
the scrollback (replayed to late clients), the console log and every client's bounded output
buffer. Client input is paced (a token bucket shared by the console's clients) before it goes
to the guest, so a flooding client is held back by TCP instead of filling queues. A client whose backlog overflows (it does not read) is disconnected.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from pathlib import Path
from typing import Any, Callable

import trio

log = logging.getLogger("hvd.console")

IAC, DONT, DO, WONT, WILL, SB, SE = 255, 254, 253, 252, 251, 250, 240
NOP, DM, BRK, IP, AO, AYT, EC, EL, GA = 241, 242, 243, 244, 245, 246, 247, 248, 249
OPT_BINARY, OPT_ECHO, OPT_SGA = 0, 1, 3

SCROLLBACK = 64 * 1024
PENDING_MAX = 1 << 20
CLIENT_BUF_MAX = 2 << 20
CLIENT_SNDBUF = 64 * 1024
LOG_MAX = 8 << 20
MAX_CLIENTS = 16
SB_MAX = 256
#: host -> guest input pacing, shared by a console's clients: a UART at 115200 baud takes about
#: 11.5 KB/s and its RX FIFO holds 64 bytes, so faster input is only ever dropped by the device;
#: pacing it keeps every queue between a flooding client and the guest bounded (TCP pushes back)
INPUT_RATE = 64 * 1024
INPUT_BURST = 4096

#: options the server performs itself (answers DO with WILL) / lets the client perform
LOCAL_OK = (OPT_ECHO, OPT_SGA, OPT_BINARY)
REMOTE_OK = (OPT_SGA, OPT_BINARY)
GREETING = bytes([IAC, WILL, OPT_ECHO, IAC, WILL, OPT_SGA])


class TelnetDecoder:
    """Client -> guest. :meth:`feed` returns (data for the guest, negotiation replies)."""

    def __init__(self) -> None:
        self.state = "data"
        self.cmd = 0
        self.sb_len = 0
        self.cr = False
        # options on; the server announced WILL ECHO / WILL SGA in GREETING
        self.local: set[int] = {OPT_ECHO, OPT_SGA}
        self.remote: set[int] = set()

    def feed(self, chunk: bytes) -> tuple[bytes, bytes]:
        out = bytearray()
        reply = bytearray()
        for b in chunk:
            st = self.state
            if st == "data":
                if b == IAC:
                    self.state = "iac"
                    continue
                if self.cr:
                    self.cr = False
                    if b in (0, 0x0A):  # CR NUL / CR LF: the CR already went out
                        continue
                if b == 0x0D:
                    self.cr = True
                out.append(b)
            elif st == "iac":
                self.state = "data"
                if b == IAC:
                    self.cr = False
                    out.append(IAC)
                elif b in (DO, DONT, WILL, WONT):
                    self.cmd = b
                    self.state = "opt"
                elif b == SB:
                    self.sb_len = 0
                    self.state = "sb"
                elif b == IP:
                    out.append(0x03)
                # NOP, DM, BRK, AO, AYT, EC, EL, GA, stray SE: stripped
            elif st == "opt":
                self.state = "data"
                reply += self._negotiate(self.cmd, b)
            elif st == "sb":
                if b == IAC:
                    self.state = "sb_iac"
                else:
                    self.sb_len += 1
                    if self.sb_len > SB_MAX:  # runaway subnegotiation: give up on it
                        self.state = "data"
            elif st == "sb_iac":
                self.state = "data" if b == SE else "sb"
        return bytes(out), bytes(reply)

    def _negotiate(self, cmd: int, opt: int) -> bytes:
        if cmd == DO:
            if opt in self.local:
                return b""
            if opt in LOCAL_OK:
                self.local.add(opt)
                return bytes([IAC, WILL, opt])
            return bytes([IAC, WONT, opt])
        if cmd == DONT:
            if opt in self.local:
                self.local.discard(opt)
                return bytes([IAC, WONT, opt])
            return b""
        if cmd == WILL:
            if opt in self.remote:
                return b""
            if opt in REMOTE_OK:
                self.remote.add(opt)
                return bytes([IAC, DO, opt])
            return bytes([IAC, DONT, opt])
        # WONT
        if opt in self.remote:
            self.remote.discard(opt)
            return bytes([IAC, DONT, opt])
        return b""


class TelnetEncoder:
    """Guest -> client: double IAC, send a bare CR as CR NUL (stateful across chunks)."""

    def __init__(self) -> None:
        self.cr = False

    def encode(self, data: bytes) -> bytes:
        if not data:
            return b""
        out = bytearray()
        if self.cr and data[0] != 0x0A:
            out.append(0)
        self.cr = False
        body = data.replace(b"\xff", b"\xff\xff")
        if b"\r" in body:
            body = body.replace(b"\r", b"\r\x00").replace(b"\r\x00\n", b"\r\n")
            if body.endswith(b"\r\x00"):
                body = body[:-1]
                self.cr = True
        out += body
        return bytes(out)


class _Client:
    def __init__(self, stream: trio.SocketStream, peer: str) -> None:
        self.stream = stream
        self.peer = peer
        self.buf = bytearray()
        self.ready = trio.Event()
        self.encoder = TelnetEncoder()
        self.scope = trio.CancelScope()
        self.dropped = False

    def push_raw(self, data: bytes) -> bool:
        if len(self.buf) + len(data) > CLIENT_BUF_MAX:
            if self.buf:  # a backlog that keeps growing: the client does not read
                self.dropped = True
                self.scope.cancel()
                return False
            data = data[-CLIENT_BUF_MAX:]  # one huge burst: keep its newest part
        self.buf += data
        self.ready.set()
        return True

    def push(self, data: bytes) -> bool:
        return self.push_raw(self.encoder.encode(data))


class ConsoleHub:
    """Guest UART output fan-out (scrollback, log, clients) and client input to the guest.

    Create it inside the trio run (it remembers the trio token); ``guest_output`` may be called
    from any thread; run :meth:`pump` as a task.
    """

    def __init__(
        self,
        name: str,
        send_input: Callable[[bytes], Any] | None = None,
        log_path: Path | None = None,
        scrollback: int = SCROLLBACK,
    ) -> None:
        self.name = name
        self.send_input = send_input
        self.log_path = log_path
        self.scrollback_max = scrollback
        self.scrollback = bytearray()
        self.clients: set[_Client] = set()
        self.dropped_bytes = 0
        self.dropped_clients = 0
        self._lock = threading.Lock()
        self._pending = bytearray()
        self._wake_scheduled = False
        self._wake = trio.Event()
        self._token = trio.lowlevel.current_trio_token()
        self._log: Any = None
        self._closed = False
        self._tokens = float(INPUT_BURST)
        self._refilled = trio.current_time()

    # -- vCPU thread side ------------------------------------------------------------------
    def guest_output(self, data: bytes) -> None:
        """Console listener: never blocks, never raises."""
        with self._lock:
            if self._closed:
                return
            self._pending += data
            over = len(self._pending) - PENDING_MAX
            if over > 0:
                del self._pending[:over]
                self.dropped_bytes += over
            if self._wake_scheduled:
                return
            self._wake_scheduled = True
        try:
            self._token.run_sync_soon(self._wake.set)
        except trio.RunFinishedError:
            pass

    # -- trio side -------------------------------------------------------------------------
    async def pump(self) -> None:
        try:
            while True:
                await self._wake.wait()
                self._wake = trio.Event()
                with self._lock:
                    data = bytes(self._pending)
                    self._pending.clear()
                    self._wake_scheduled = False
                if data:
                    self._distribute(data)
        finally:
            self.close()

    def _distribute(self, data: bytes) -> None:
        self.scrollback += data
        over = len(self.scrollback) - self.scrollback_max
        if over > 0:
            del self.scrollback[:over]
        self._write_log(data)
        for c in list(self.clients):
            if not c.push(data):
                self._drop(c, "does not read its output")

    def _drop(self, c: _Client, why: str) -> None:
        if c in self.clients:
            self.clients.discard(c)
            self.dropped_clients += 1
            log.warning("console %s: dropping client %s: %s", self.name, c.peer, why)

    def _write_log(self, data: bytes) -> None:
        if self.log_path is None:
            return
        try:
            if self._log is None:
                self.log_path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                self._log = os.fdopen(fd, "ab", buffering=0)
            self._log.write(data)
            if self._log.tell() > LOG_MAX:
                self._log.close()
                os.replace(self.log_path, str(self.log_path) + ".1")
                self._log = None
        except OSError as e:
            log.error("console %s: cannot write log %s: %s", self.name, self.log_path, e)
            self.log_path = None

    def close(self) -> None:
        with self._lock:
            self._closed = True
        if self._log is not None:
            try:
                self._log.close()
            except OSError:
                pass
            self._log = None
        for c in list(self.clients):
            c.scope.cancel()

    async def handle_client(self, stream: trio.SocketStream) -> None:
        try:
            peer = "%s:%s" % stream.socket.getpeername()[:2]
        except OSError:
            peer = "?"
        if len(self.clients) >= MAX_CLIENTS:
            log.warning("console %s: refusing %s: too many clients", self.name, peer)
            with trio.move_on_after(1):
                try:
                    await stream.send_all(b"hvd: too many console clients\r\n")
                except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
                    pass
            await trio.aclose_forcefully(stream)
            return
        try:  # keep the kernel's share of a slow client's backlog small too
            stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, CLIENT_SNDBUF)
        except OSError:
            pass
        c = _Client(stream, peer)
        c.push_raw(GREETING)
        c.push(bytes(self.scrollback))
        self.clients.add(c)
        log.info("console %s: client %s connected", self.name, peer)
        try:
            with c.scope:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._client_writer, c)
                    await self._client_reader(c)
                    nursery.cancel_scope.cancel()
        except Exception as e:  # a client's broken connection must never reach the daemon
            if not _is_disconnect(e):
                log.exception("console %s: client %s failed", self.name, peer)
        finally:
            self.clients.discard(c)
            await trio.aclose_forcefully(stream)
            log.info("console %s: client %s disconnected", self.name, peer)

    async def _client_writer(self, c: _Client) -> None:
        while True:
            await c.ready.wait()
            c.ready = trio.Event()
            while c.buf:
                chunk = bytes(c.buf[:65536])
                del c.buf[: len(chunk)]
                await c.stream.send_all(chunk)

    async def _pace(self, n: int) -> None:
        """Token bucket (INPUT_RATE bytes/s, INPUT_BURST deep) shared by all clients."""
        now = trio.current_time()
        self._tokens = min(INPUT_BURST, self._tokens + (now - self._refilled) * INPUT_RATE)
        self._refilled = now
        self._tokens -= n
        if self._tokens < 0:
            await trio.sleep(-self._tokens / INPUT_RATE)

    async def _client_reader(self, c: _Client) -> None:
        dec = TelnetDecoder()
        while True:
            data = await c.stream.receive_some(4096)
            if not data:
                return
            text, reply = dec.feed(data)
            if reply and not c.push_raw(reply):
                return
            if text:
                await self._pace(len(text))
            if text and self.send_input is not None:
                try:
                    self.send_input(text)
                except Exception:  # the VM refusing input must not end the console
                    log.exception("console %s: input refused", self.name)
            await trio.sleep(0)


def _is_disconnect(e: BaseException) -> bool:
    """True when ``e`` (or every exception in a group) is just a connection going away."""
    if isinstance(e, BaseExceptionGroup):
        return all(_is_disconnect(x) for x in e.exceptions)
    return isinstance(e, (trio.BrokenResourceError, trio.ClosedResourceError, OSError))


async def serve_console(
    hub: ConsoleHub,
    host: str,
    port: int,
    *,
    task_status: trio.TaskStatus[tuple[str, int]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Listen on host:port (port 0: any free port) and serve clients; reports the bound address."""
    listeners = await trio.open_tcp_listeners(port, host=host)
    addr = listeners[0].socket.getsockname()
    task_status.started((addr[0], addr[1]))
    await trio.serve_listeners(hub.handle_client, listeners)
