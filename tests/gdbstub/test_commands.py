"""Command dispatch against the in-memory fake target."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hvd.gdbstub import tdesc
from hvd.gdbstub.commands import CommandHandler, stop_reply
from hvd.gdbstub.packets import decode_body
from hvd.gdbstub.target import BpType, StopEvent

from .fakes import FakeTarget


@pytest.fixture
def h() -> CommandHandler:
    return CommandHandler(FakeTarget())


def one(h: CommandHandler, p: bytes) -> bytes:
    r = h.handle(p)
    assert len(r.packets) == 1, r
    return r.packets[0]


def test_qsupported(h):
    reply = one(h, b"qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386")
    feats = reply.split(b";")
    assert b"qXfer:features:read+" in feats
    assert b"vContSupported+" in feats
    assert b"swbreak+" in feats and b"hwbreak+" in feats
    assert b"QStartNoAckMode+" in feats
    size = int(next(f for f in feats if f.startswith(b"PacketSize=")).split(b"=")[1], 16)
    assert size >= 0x1000
    assert h.swbreak


def test_simple_queries(h):
    assert one(h, b"?") == b"T05thread:01;"
    assert one(h, b"qAttached") == b"1"
    assert one(h, b"qAttached:1") == b"1"
    assert one(h, b"qC") == b"QC1"
    assert one(h, b"qfThreadInfo") == b"m1"
    assert one(h, b"qsThreadInfo") == b"l"
    assert one(h, b"qOffsets") == b"Text=0;Data=0;Bss=0"
    assert one(h, b"Hg0") == b"OK"
    assert one(h, b"Hc-1") == b"OK"
    assert one(h, b"T1") == b"OK"
    assert one(h, b"T2").startswith(b"E")
    assert one(h, b"vMustReplyEmpty") == b""
    assert one(h, b"vCont?") == b"vCont;c;C;s;S"
    r = h.handle(b"QStartNoAckMode")
    assert r.packets == [b"OK"] and r.no_ack


@pytest.mark.parametrize("p", [b"qFooBar", b"vFile:open:", b"!", b"R00", b"Q", b"q", b"v",
                               b"jThreadsInfo", b"\xff\xfe", b"QNonStop:1", b"qTStatus"])
def test_unknown_commands_get_empty_reply(h, p):
    assert one(h, p) == b""


def test_empty_payload(h):
    assert one(h, b"") == b""


def read_doc(h: CommandHandler, annex: bytes, step: int = 0x40) -> bytes:
    doc = b""
    off = 0
    while True:
        reply = one(h, b"qXfer:features:read:%s:%x,%x" % (annex, off, step))
        assert reply[:1] in (b"m", b"l")
        chunk = decode_body(reply[1:])
        doc += chunk
        off += len(chunk)
        if reply[:1] == b"l":
            return doc


def test_target_description(h):
    doc = read_doc(h, b"target.xml")
    assert b"<architecture>arm</architecture>" in doc
    assert b'href="arm-core.xml"' in doc
    core = one(h, b"qXfer:features:read:arm-core.xml:0,fff")
    assert core.startswith(b"l") and b"org.gnu.gdb.arm.core" in core
    for name in (b'"r0"', b'"r12"', b'"sp"', b'"lr"', b'"pc"', b'"cpsr"'):
        assert name in core
    vfp = read_doc(h, b"arm-vfp.xml", 0x3ff)
    assert b"org.gnu.gdb.arm.vfp" in vfp and b'"d31"' in vfp and b'"fpscr"' in vfp
    assert b'"q15"' in vfp and b'id="neon_d"' in vfp
    assert one(h, b"qXfer:features:read:nope.xml:0,fff").startswith(b"E")
    assert one(h, b"qXfer:features:read:target.xml:zz,10") == b"E01"
    assert one(h, b"qXfer:features:read:target.xml:100000,10") == b"l"
    assert one(h, b"qXfer:auxv:read::0,10") == b""


def test_g_and_G(h):
    t = h.target
    t.regs[0] = 0x11223344
    t.regs[15] = 0x80000000
    t.regs[tdesc.CPSR_REGNUM] = 0x600001D3
    t.regs[tdesc.D0_REGNUM] = 0x3FF0000000000000
    g = one(h, b"g")
    assert len(g) == tdesc.G_PACKET_BYTES * 2
    assert g[:8] == b"44332211"
    assert g[15 * 8:16 * 8] == b"00000080"
    assert g[16 * 8:17 * 8] == b"d3010060"
    assert g[17 * 8:17 * 8 + 16] == b"000000000000f03f"
    new = bytearray(g)
    new[0:8] = b"efbeadde"
    assert one(h, b"G" + bytes(new)) == b"OK"
    assert t.regs[0] == 0xDEADBEEF
    assert one(h, b"G123") == b"E01"
    assert one(h, b"G" + b"zz" * tdesc.G_PACKET_BYTES) == b"E01"


def test_p_and_P(h):
    t = h.target
    assert one(h, b"P19=30000060") == b"OK"
    assert t.regs[tdesc.CPSR_REGNUM] == 0x60000030
    assert one(h, b"p19") == b"30000060"
    assert one(h, b"P1a=000000000000f03f") == b"OK"
    assert t.regs[tdesc.D0_REGNUM] == 0x3FF0000000000000
    assert one(h, b"p4a") == b"00000000"     # fpscr
    assert one(h, b"P3a=" + b"11" * 8 + b"22" * 8) == b"OK"   # q0
    assert t.regs[tdesc.Q0_REGNUM] == int("22" * 8 + "11" * 8, 16)
    assert one(h, b"p10") == b"E01"          # 16: the unused FPA hole
    assert one(h, b"p1000") == b"E01"
    assert one(h, b"pzz") == b"E01"
    assert one(h, b"p") == b"E01"
    assert one(h, b"P0=12") == b"E01"        # wrong size
    assert one(h, b"P0") == b"E01"
    assert one(h, b"P0=zzzzzzzz") == b"E01"


def test_memory(h):
    assert one(h, b"M1000,4:deadbeef") == b"OK"
    assert one(h, b"m1000,4") == b"deadbeef"
    assert one(h, b"X1004,4:" + b"#$}*") == b"OK"
    assert one(h, b"m1004,4") == b"2324" + b"7d2a"
    assert one(h, b"X1000,0:") == b"OK"       # gdb's probe for X support
    # partial read at the end of readable memory, error when nothing is readable
    assert one(h, b"m2ffe,8") == b"0000"
    assert one(h, b"m3000,4") == b"E14"
    assert one(h, b"m0,4") == b"E14"
    assert one(h, b"M3000,4:00000000") == b"E14"
    assert one(h, b"mffffffff,10") == b"E14"
    assert one(h, b"m100000000,4") == b"E14"
    assert one(h, b"m1000,0") == b""


@pytest.mark.parametrize("p", [b"m", b"m1000", b"mzz,4", b"m1000,zz", b"M1000,4:dead", b"M1000,4",
                               b"M1000,2:zzzz", b"X1000,4:abc", b"X1000", b"m,", b"m1000,",
                               b"m11111111111111111111,4", b"Z0,1000", b"Zx,1000,4", b"z0",
                               b"vCont;", b"vCont;s:zz"])
def test_bad_arguments(h, p):
    assert one(h, p) == b"E01"


def test_big_read_is_clamped_to_packet_size(h):
    reply = one(h, b"m1000,100000")
    assert len(reply) <= h.max_packet


def test_breakpoints(h):
    t = h.target
    assert one(h, b"Z0,1010,4") == b"OK"
    assert one(h, b"Z1,1014,2") == b"OK"
    assert one(h, b"Z2,2000,4") == b"OK"
    assert one(h, b"Z3,2000,4") == b"OK"
    assert one(h, b"Z4,2000,1") == b"OK"
    assert (BpType.SOFTWARE, 0x1010, 4) in t.breakpoints
    assert (BpType.WRITE, 0x2000, 4) in t.breakpoints
    # conditions and commands are ignored (not advertised), the breakpoint still goes in
    assert one(h, b"Z0,1020,4;X2,0a00") == b"OK"
    assert one(h, b"z0,1010,4") == b"OK"
    assert (BpType.SOFTWARE, 0x1010, 4) not in t.breakpoints
    assert one(h, b"Z5,1010,4") == b""
    assert one(h, b"Z0,1010,0") == b"E01"


def test_execution_responses(h):
    r = h.handle(b"c")
    assert r.resume == "c" and not r.packets
    r = h.handle(b"s")
    assert r.resume == "s"
    assert h.handle(b"vCont;c").resume == "c"
    assert h.handle(b"vCont;s:1;c").resume == "s"
    assert h.handle(b"vCont;s:2;c").resume == "c"
    assert h.handle(b"vCont;C05").resume == "c"
    assert h.handle(b"C05").resume == "c"
    assert h.handle(b"S05").resume == "s"
    r = h.handle(b"c1008")
    assert r.resume == "c" and h.target.regs[15] == 0x1008
    assert one(h, b"vCont;r1000,2000") == b"E01"


def test_stop_replies():
    assert stop_reply(StopEvent("swbreak")) == b"T05thread:01;swbreak:;"
    assert stop_reply(StopEvent("swbreak"), swbreak=False) == b"T05thread:01;"
    assert stop_reply(StopEvent("hwbreak")) == b"T05thread:01;hwbreak:;"
    assert stop_reply(StopEvent("watch", addr=0x80001000)) == b"T05thread:01;watch:80001000;"
    assert stop_reply(StopEvent("rwatch", addr=0x10)) == b"T05thread:01;rwatch:10;"
    assert stop_reply(StopEvent("awatch", addr=0x10)) == b"T05thread:01;awatch:10;"
    assert stop_reply(StopEvent("signal", 2)) == b"T02thread:01;"
    assert stop_reply(StopEvent("exited", status=3)) == b"W03"
    assert stop_reply(StopEvent("terminated", 9)) == b"X09"


def test_no_resume_after_exit(h):
    h.record_stop(StopEvent("exited", status=0))
    assert one(h, b"?") == b"W00"
    assert one(h, b"c") == b"E03"
    assert one(h, b"vCont;s") == b"E03"


def test_detach_and_kill(h):
    h.handle(b"Z0,1010,4")
    r = h.handle(b"D")
    assert r.packets == [b"OK"] and r.close
    assert h.target.detached == 1 and not h.target.breakpoints
    r = h.handle(b"k")
    assert r.close and h.target.killed
    r = h.handle(b"vKill;1")
    assert r.close and r.packets == [b"OK"]


def rcmd(h: CommandHandler, text: str) -> str:
    r = h.handle(b"qRcmd," + text.encode().hex().encode())
    assert r.packets[-1] == b"OK"
    out = b""
    for p in r.packets[:-1]:
        assert p.startswith(b"O")
        out += bytes.fromhex(p[1:].decode())
    return out.decode()


def test_monitor_commands(h):
    assert "info registers" in rcmd(h, "help")
    regs = rcmd(h, "info registers")
    assert "r13_svc=80001000" in regs and "spsr_svc=000001d3" in regs
    assert "SCTLR=00c50078" in regs and "TTBR0=80004000" in regs
    shadow = rcmd(h, "info shadow")
    assert "fills" in shadow and "12" in shadow
    h.target.shadow_stats = lambda: {"mode": "shadow", "tlb_ops": {"TLBIMVA": 3}}
    shadow = rcmd(h, "info shadow")
    assert "tlb_ops:" in shadow and "  TLBIMVA  3" in shadow
    assert "c0000000-c00fffff -> 080000000" in rcmd(h, "info tlb")
    assert "c0000000" in rcmd(h, "i t")   # unique prefixes
    assert "unknown command" in rcmd(h, "frobnicate")
    assert "info what" in rcmd(h, "info")
    assert "usage" in rcmd(h, "phys maybe")
    assert not h.phys_mode
    assert "on" in rcmd(h, "phys on")
    assert h.phys_mode
    assert one(h, b"qqemu.PhyMemMode") == b"1"
    assert "off" in rcmd(h, "phys off")
    assert one(h, b"qqemu.PhyMemMode") == b"0"
    assert one(h, b"Qqemu.PhyMemMode:1") == b"OK"
    assert h.phys_mode
    assert one(h, b"Qqemu.PhyMemMode:7") == b"E01"
    assert one(h, b"qRcmd,zz") == b"E01"


def test_long_monitor_output_is_split(h):
    h.target.info_tlb = lambda: "".join(f"{i << 20:08x} {'x' * 40}\n" for i in range(2000))
    h.max_packet = 512
    r = h.handle(b"qRcmd," + b"info tlb".hex().encode())
    assert len(r.packets) > 10
    assert all(len(p) <= 512 for p in r.packets)


def test_target_exception_gives_error_reply(h):
    def boom(*_a, **_k):
        raise RuntimeError("target fell over")
    h.target.read_memory = boom
    assert one(h, b"m1000,4").startswith(b"E")


@given(st.binary(max_size=120))
@settings(max_examples=500, deadline=None)
def test_random_payloads_never_raise(payload: bytes):
    h = CommandHandler(FakeTarget())
    r = h.handle(payload)
    assert isinstance(r.packets, list)
    assert r.resume in (None, "c", "s")


@given(st.sampled_from([b"m", b"M", b"X", b"g", b"G", b"p", b"P", b"Z", b"z", b"q", b"Q", b"v",
                        b"c", b"s", b"H", b"T", b"qXfer:features:read:", b"qRcmd,", b"vCont;"]),
       st.text(alphabet="0123456789abcdefxz,:;=-#$}* ", max_size=40))
@settings(max_examples=500, deadline=None)
def test_random_arguments_never_raise(cmd: bytes, args: str):
    h = CommandHandler(FakeTarget())
    r = h.handle(cmd + args.encode())
    for p in r.packets:
        assert isinstance(p, bytes)
