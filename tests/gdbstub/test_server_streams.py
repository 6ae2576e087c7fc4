"""The server over in-memory streams (no sockets): sessions, run control, robustness."""

from __future__ import annotations

import trio
import trio.testing

from hvd.gdbstub.packets import Packet, PacketConnection, checksum, frame
from hvd.gdbstub.server import BUSY_MESSAGE, GdbServer

from .fakes import STORE_PC, WATCH_ADDR, FakeTarget


class Client:
    """A minimal gdb: frames packets, acks replies, collects decoded packets."""

    def __init__(self, stream: trio.abc.Stream) -> None:
        self.stream = stream
        self.conn = PacketConnection()
        self.packets: list[bytes] = []
        self.ack = True
        self.raw = bytearray()

    async def send_raw(self, data: bytes) -> None:
        await self.stream.send_all(data)

    async def send(self, payload: bytes) -> None:
        await self.stream.send_all(frame(payload, rle=False))

    async def recv(self) -> bytes:
        with trio.fail_after(5):
            while not self.packets:
                data = await self.stream.receive_some(65536)
                if not data:
                    raise EOFError
                self.raw += data
                for ev in self.conn.feed(data):
                    if isinstance(ev, Packet):
                        self.packets.append(ev.payload)
                # the stub's acks are of no interest; ours go back only in ack mode
                out = self.conn.data_to_send()
                if self.ack and out:
                    try:
                        await self.stream.send_all(out)
                    except (trio.BrokenResourceError, trio.ClosedResourceError):
                        pass  # the stub hung up after its last reply (D, k)
            return self.packets.pop(0)

    async def cmd(self, payload: bytes) -> bytes:
        await self.send(payload)
        return await self.recv()

    async def closed(self) -> bool:
        with trio.fail_after(5):
            try:
                while True:
                    data = await self.stream.receive_some(65536)
                    if not data:
                        return True
                    self.raw += data
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                return True


async def wait_idle(server: GdbServer) -> None:
    """Until the server has finished with its session."""
    with trio.fail_after(5):
        while server.session is not None:
            await trio.sleep(0.01)


async def start(nursery: trio.Nursery, server: GdbServer) -> Client:
    client_stream, server_stream = trio.testing.memory_stream_pair()
    nursery.start_soon(server.handle_stream, server_stream)
    return Client(client_stream)


async def test_handshake_and_queries():
    target = FakeTarget()
    server = GdbServer(target)
    async with trio.open_nursery() as n:
        c = await start(n, server)
        await c.send_raw(b"+")
        reply = await c.cmd(b"qSupported:swbreak+;hwbreak+")
        assert b"qXfer:features:read+" in reply
        assert c.raw.startswith(b"+$")            # the packet was acked first
        assert await c.cmd(b"?") == b"T05thread:01;"
        assert target.attached == 1
        assert await c.cmd(b"m1000,4") == b"00000000"
        assert await c.cmd(b"qNoSuchThing") == b""
        assert await c.cmd(b"D") == b"OK"
        assert await c.closed()
    assert target.detached == 1
    assert target.disconnects == 0


async def test_no_ack_mode_over_the_stream():
    server = GdbServer(FakeTarget())
    async with trio.open_nursery() as n:
        c = await start(n, server)
        assert await c.cmd(b"QStartNoAckMode") == b"OK"
        c.ack = False
        c.conn.ack_mode = False
        before = len(c.raw)
        assert await c.cmd(b"qC") == b"QC1"
        assert b"+" not in c.raw[before:]
        await c.cmd(b"D")


async def test_bad_checksum_gets_nak_and_retry_works():
    server = GdbServer(FakeTarget())
    async with trio.open_nursery() as n:
        c = await start(n, server)
        await c.send_raw(b"$qC#00")
        await c.send(b"qC")
        assert await c.recv() == b"QC1"
        assert c.raw.startswith(b"-+")
        await c.cmd(b"D")


async def test_garbage_malformed_and_oversized():
    server = GdbServer(FakeTarget())
    async with trio.open_nursery() as n:
        c = await start(n, server)
        await c.send_raw(b"\r\nrandom junk\x00\xff")
        # truncated escape: acked, answered with an error
        body = b"X1000,1:}"
        await c.send_raw(b"$" + body + b"#%02x" % checksum(body))
        assert await c.recv() == b"E01"
        # an oversized packet: acked, answered with an error
        assert await c.cmd(b"M1000,8000:" + b"00" * 0x8000) == b"E01"
        # and the session still works
        assert await c.cmd(b"qC") == b"QC1"
        await c.cmd(b"D")


async def test_continue_interrupt_and_breakpoint():
    target = FakeTarget()
    server = GdbServer(target)
    async with trio.open_nursery() as n:
        c = await start(n, server)
        await c.cmd(b"qSupported:swbreak+")
        # Ctrl-C on a spinning target
        await c.send(b"vCont;c")
        await trio.sleep(0.05)
        assert target.running
        await c.send_raw(b"\x03")
        assert await c.recv() == b"T02thread:01;"
        assert not target.running
        # a breakpoint
        assert await c.cmd(b"Z0,1010,4") == b"OK"
        await c.send(b"c")
        assert await c.recv() == b"T05thread:01;swbreak:;"
        assert target.regs[15] == 0x1010
        assert await c.cmd(b"z0,1010,4") == b"OK"
        # a write watchpoint
        assert await c.cmd(b"Z2,%x,4" % WATCH_ADDR) == b"OK"
        await c.send(b"c")
        assert await c.recv() == b"T05thread:01;watch:%x;" % WATCH_ADDR
        assert target.regs[15] == STORE_PC
        # single step
        assert await c.cmd(b"s") == b"T05thread:01;"
        assert target.regs[15] == STORE_PC + 4
        await c.cmd(b"D")


async def test_interrupt_while_stopped_is_ignored():
    server = GdbServer(FakeTarget())
    async with trio.open_nursery() as n:
        c = await start(n, server)
        await c.send_raw(b"\x03")
        assert await c.cmd(b"qC") == b"QC1"
        await c.cmd(b"D")


async def test_program_exit_sends_W():
    target = FakeTarget()
    target.exit_pc = 0x1030
    target.exit_status = 7
    server = GdbServer(target)
    async with trio.open_nursery() as n:
        c = await start(n, server)
        await c.send(b"c")
        assert await c.recv() == b"W07"
        assert await c.cmd(b"?") == b"W07"
        assert await c.cmd(b"c") == b"E03"
        await c.stream.aclose()


async def test_second_client_is_refused_politely():
    target = FakeTarget()
    server = GdbServer(target)
    async with trio.open_nursery() as n:
        first = await start(n, server)
        assert await first.cmd(b"qC") == b"QC1"
        second = await start(n, server)
        reply = await second.cmd(b"qSupported")
        assert reply == BUSY_MESSAGE
        assert await second.closed()
        # the first is unaffected
        assert await first.cmd(b"qC") == b"QC1"
        await first.cmd(b"D")
    assert server.refused == 1


async def test_vanished_client_while_running_then_reconnect():
    target = FakeTarget()
    server = GdbServer(target)
    async with trio.open_nursery() as n:
        c = await start(n, server)
        assert await c.cmd(b"Z0,1038,4") == b"OK"
        assert await c.cmd(b"Z0,1000,4") == b"OK"
        await c.cmd(b"z0,1000,4")
        # the client disappears while the target runs (breakpoint far away in time: none hit
        # because it is removed on disconnect)
        target.tick_s = 0.01
        await c.send(b"c")
        await trio.sleep(0.02)
        await c.stream.aclose()
        await wait_idle(server)
        assert target.disconnects == 1
        assert not target.breakpoints          # the vanished client's breakpoints are gone
        # a new client attaches: the target is stopped for it and the session works
        c2 = await start(n, server)
        assert await c2.cmd(b"?") == b"T05thread:01;"
        assert not target.running
        assert await c2.cmd(b"m1000,2") == b"0000"
        await c2.cmd(b"D")


async def test_vanished_client_mid_packet():
    target = FakeTarget()
    server = GdbServer(target)
    async with trio.open_nursery() as n:
        c = await start(n, server)
        await c.send_raw(b"$m1000,")
        await c.stream.aclose()
        await wait_idle(server)
        c2 = await start(n, server)
        assert await c2.cmd(b"qC") == b"QC1"
        await c2.send(b"k")
        assert await c2.closed()
    assert target.killed


async def test_kill_closes_without_reply():
    target = FakeTarget()
    server = GdbServer(target)
    async with trio.open_nursery() as n:
        c = await start(n, server)
        await c.send(b"k")
        assert await c.closed()
    assert target.killed and target.disconnects == 0


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@given(st.lists(st.binary(max_size=64) | st.sampled_from(
    [b"$", b"#", b"}", b"*", b"+", b"-", b"\x03", frame(b"qC"), frame(b"m1000,4"), b"$g#67"]),
    max_size=30))
@settings(max_examples=60, deadline=None)
async def test_random_bytes_into_a_session_never_crash(chunks: list[bytes]):
    target = FakeTarget()
    server = GdbServer(target)
    async with trio.open_nursery() as n:
        c = await start(n, server)
        for chunk in chunks:
            await c.send_raw(chunk)
        # resynchronise: end any packet, stop the target if a 'c' slipped through, then probe
        await c.send_raw(b"#00")
        await trio.sleep(0)
        await c.send_raw(b"\x03" + frame(b"qC", rle=False))
        try:
            while await c.recv() != b"QC1":
                pass
            await c.send(b"D")
        except EOFError:
            pass  # the random input said D or k: the stub hung up, cleanly
        await c.closed()
        await wait_idle(server)


async def test_target_failures_do_not_end_the_server():
    target = FakeTarget()
    server = GdbServer(target)

    def broken_resume(**_kw):
        raise RuntimeError("vCPU gone")

    async with trio.open_nursery() as n:
        c = await start(n, server)
        target.resume = broken_resume
        await c.send(b"c")
        out = await c.recv()
        assert out.startswith(b"O")
        assert b"vCPU gone" in bytes.fromhex(out[1:].decode())
        assert await c.recv() == b"T0bthread:01;"
        assert await c.cmd(b"qC") == b"QC1"
        await c.cmd(b"D")

        def broken_attach():
            raise RuntimeError("no VM")

        target.attach = broken_attach
        c2 = await start(n, server)
        assert await c2.closed()
        await wait_idle(server)
        del target.attach
        c3 = await start(n, server)
        assert await c3.cmd(b"?") == b"T05thread:01;"
        await c3.cmd(b"D")
