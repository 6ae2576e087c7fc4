"""The GDB server: one TCP port per VM, one debugger at a time (trio).

A session pauses the VM when gdb connects (as QEMU's stub does) and then answers packets. While
the target runs, the session waits for whichever comes first: the target's stop (reported from
the vCPU thread through a thread-safe trio callback) or the client's Ctrl-C (0x03), which asks the
target to stop. Target operations can block (pausing, stepping), so they run in worker threads
(``trio.to_thread.run_sync``); the event loop never waits on the vCPU.

A second client while one is attached is told so (an ``E.`` reply to its first packet) and
closed. A client that vanishes (EOF, reset, or TCP keepalive giving up on a silent peer) ends its
session: its breakpoints and watchpoints are removed and the VM keeps its run state, so a new gdb
can attach. ``D`` (detach) lets the VM run on; ``k`` (kill) stops the VM (under ``hvd run`` the
process ends, as QEMU does).
"""

from __future__ import annotations

import logging
import math
import socket
from typing import Any

import trio

from .commands import CommandHandler, Response
from .packets import Interrupt, Malformed, Packet, PacketConnection
from .target import SIGSEGV, StopEvent, Target

log = logging.getLogger("hvd.gdbstub")

RECV_SIZE = 65536
BUSY_MESSAGE = b"E.another debugger is attached to this VM"
#: how long a refused second client gets to send its first packet
REFUSE_WAIT_S = 2.0
#: TCP keepalive for silent peers: idle seconds, probe interval, probes
KEEPALIVE = (10, 5, 3)

_GONE = object()


def _keepalive(stream: trio.abc.Stream) -> None:
    sock = getattr(stream, "socket", None)
    if sock is None:
        return
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        idle, intvl, cnt = KEEPALIVE
        if hasattr(socket, "TCP_KEEPIDLE"):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, idle)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, intvl)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, cnt)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:
        pass


class Session:
    """One connected debugger."""

    def __init__(self, server: GdbServer, stream: trio.abc.Stream) -> None:
        self.server = server
        self.target = server.target
        self.stream = stream
        self.conn = PacketConnection()
        self.handler = CommandHandler(self.target, max_packet=self.conn.max_packet)
        self._send, self._recv = trio.open_memory_channel[Any](math.inf)
        self.running = False
        self.ended = False           # D or k: the target was already told
        self._token = trio.lowlevel.current_trio_token()
        self._deferred: list[Packet] = []
        self._unsent = bytearray()

    # -- callbacks from other threads ----------------------------------------------------
    def _on_stop(self, ev: StopEvent) -> None:
        """The target stopped (any thread)."""
        try:
            self._token.run_sync_soon(self._deliver, ev)
        except trio.RunFinishedError:
            pass

    def _deliver(self, item: object) -> None:
        try:
            self._send.send_nowait(item)
        except (trio.ClosedResourceError, trio.BrokenResourceError, trio.WouldBlock):
            pass

    # -- tasks ---------------------------------------------------------------------------
    async def run(self) -> None:
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._reader)
                try:
                    stop = await trio.to_thread.run_sync(self.target.attach)
                    self.handler.last_stop = stop
                    await self._main()
                finally:
                    nursery.cancel_scope.cancel()
        finally:
            with trio.CancelScope(shield=True):
                await self._final_stop()
                # whatever is still queued (the OK to D, ...) goes out before the hang-up
                with trio.move_on_after(1.0):
                    try:
                        await self._flush()
                    except (trio.BrokenResourceError, trio.ClosedResourceError,
                            trio.BusyResourceError, OSError):
                        pass
                self._send.close()
                if not self.ended:
                    try:
                        await trio.to_thread.run_sync(self.target.disconnect)
                    except Exception:  # noqa: BLE001
                        log.exception("gdb: cleaning up after a vanished client failed")
                try:
                    await self.stream.aclose()
                except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
                    pass

    async def _final_stop(self) -> None:
        """Cancelled while the target ran (``hvd run`` ends when the guest exits): a stop that
        has already arrived (the guest's exit status) still reaches gdb before the hang-up."""
        if not self.running:
            return
        while True:
            try:
                item = self._recv.receive_nowait()
            except (trio.WouldBlock, trio.EndOfChannel, trio.ClosedResourceError):
                return
            if isinstance(item, StopEvent):
                with trio.move_on_after(1.0):
                    try:
                        await self._report_stop(item)
                    except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
                        pass
                return

    async def _reader(self) -> None:
        try:
            while True:
                data = await self.stream.receive_some(RECV_SIZE)
                if not data:
                    break
                self._send.send_nowait(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            pass
        try:
            self._send.send_nowait(_GONE)
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            pass

    async def _flush(self) -> None:
        # bytes leave the buffer only once sent: a send cancelled before it started (the VM
        # ended ``hvd run``) is retried by the shielded flush at the end of the session
        self._unsent += self.conn.data_to_send()
        if self._unsent:
            data = bytes(self._unsent)
            await self.stream.send_all(data)
            del self._unsent[:len(data)]

    async def _main(self) -> None:
        try:
            while True:
                item = await self._recv.receive()
                if item is _GONE:
                    return
                if isinstance(item, StopEvent):
                    if self.running:
                        await self._report_stop(item)
                        if await self._run_deferred():
                            return
                    continue
                for ev in self.conn.feed(item):
                    if await self._event(ev):
                        await self._flush()
                        return
                await self._flush()
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            return

    async def _report_stop(self, ev: StopEvent) -> None:
        self.running = False
        if ev.message:
            msg = ev.message if ev.message.endswith("\n") else ev.message + "\n"
            self.conn.send_packet(b"O" + msg.encode().hex().encode())
        self.conn.send_packet(self.handler.record_stop(ev))
        # shielded: when the guest's exit ends ``hvd run``, the cancellation can arrive while
        # the W packet is on its way out; gdb must still see the exit status
        with trio.CancelScope(shield=True), trio.move_on_after(2.0):
            await self._flush()

    async def _run_deferred(self) -> bool:
        while self._deferred and not self.running:
            if await self._packet(self._deferred.pop(0)):
                await self._flush()
                return True
        await self._flush()
        return False

    async def _event(self, ev: object) -> bool:
        """Handle one event; True when the session is over."""
        if isinstance(ev, Packet):
            if self.running:
                # all-stop: gdb waits for the stop reply before sending more; keep it for later
                self._deferred.append(ev)
                return False
            return await self._packet(ev)
        if isinstance(ev, Interrupt):
            if self.running:
                try:
                    await trio.to_thread.run_sync(self.target.interrupt)
                except Exception:  # noqa: BLE001
                    log.exception("gdb: interrupting the target failed")
            return False
        if isinstance(ev, Malformed) and ev.reply_error and not self.running:
            self.conn.send_packet(b"E01")
        return False

    async def _packet(self, ev: Packet) -> bool:
        resp: Response = await trio.to_thread.run_sync(self.handler.handle, ev.payload)
        if resp.no_ack:
            self.conn.start_no_ack_mode()
        for payload in resp.packets:
            self.conn.send_packet(payload)
        if resp.close:
            self.ended = True
            return True
        if resp.resume is not None:
            self.running = True
            await self._flush()
            try:
                await trio.to_thread.run_sync(self._resume, resp.resume == "s")
            except Exception as exc:  # noqa: BLE001 - report it to gdb, keep the session
                log.exception("gdb: resuming the target failed")
                await self._report_stop(StopEvent("signal", SIGSEGV, message=f"hvd: {exc!r}"))
        return False

    def _resume(self, step: bool) -> None:
        self.target.resume(step=step, on_stop=self._on_stop)


class GdbServer:
    """Serves one target to one debugger at a time."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.session: Session | None = None
        self.sessions = 0
        self.refused = 0

    async def handle_stream(self, stream: trio.abc.Stream) -> None:
        _keepalive(stream)
        if self.session is not None:
            await self._refuse(stream)
            return
        session = Session(self, stream)
        self.session = session
        self.sessions += 1
        log.info("gdb: debugger attached")
        try:
            await session.run()
        except Exception:  # noqa: BLE001 - one broken session must not end the server
            log.exception("gdb: session failed")
        finally:
            self.session = None
            log.info("gdb: debugger detached")

    async def _refuse(self, stream: trio.abc.Stream) -> None:
        """Tell a second debugger that this VM already has one, then hang up."""
        self.refused += 1
        conn = PacketConnection()
        try:
            with trio.move_on_after(REFUSE_WAIT_S):
                while True:
                    data = await stream.receive_some(RECV_SIZE)
                    if not data:
                        break
                    if any(isinstance(ev, Packet) for ev in conn.feed(data)):
                        conn.send_packet(BUSY_MESSAGE)
                        await stream.send_all(conn.data_to_send())
                        break
                    await stream.send_all(conn.data_to_send())
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            pass
        finally:
            with trio.CancelScope(shield=True):
                try:
                    await stream.aclose()
                except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
                    pass

    async def serve(self, listeners: list[trio.SocketListener]) -> None:
        await trio.serve_listeners(self.handle_stream, listeners)


async def serve_gdb(vm: Any, host: str, port: int, *, wait: bool = False,
                    task_status: trio.TaskStatus[tuple[str, int]] = trio.TASK_STATUS_IGNORED,
                    ) -> None:
    """Serve ``vm``'s GDB port until cancelled; ``task_status.started`` gets ``(host, port)``
    as bound (port 0 picks a free one).

    With ``wait`` the VM is held paused (before its vCPU starts running guest code) until a
    debugger resumes it.
    """
    from .vmtarget import VmTarget

    target = VmTarget(vm)
    if wait:
        await trio.to_thread.run_sync(target.hold)
    listeners = await trio.open_tcp_listeners(port, host=host)   # OSError: the caller says
    bound = listeners[0].socket.getsockname()[1]
    log.info("gdb: listening on %s:%d", host, bound)
    server = GdbServer(target)
    task_status.started((host, bound))
    try:
        await server.serve(listeners)
    finally:
        target.close()
