"""The real gdb-multiarch against ``hvd run --gdb`` and a guest assembled here."""

from __future__ import annotations

import re
import shutil
import signal
import socket
import struct
import subprocess
import time

import pytest

from hvd.gdbstub.packets import Packet, PacketConnection, frame

from .e2e import ALIAS, GDB, Guest, Hvd, build_guest, gdb_batch, needs_tools

pytestmark = [needs_tools, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def guest(tmp_path_factory: pytest.TempPathFactory) -> Guest:
    return build_guest(tmp_path_factory.mktemp("gdbguest"))


@pytest.fixture
def hvd(guest: Guest):
    h = Hvd(guest.elf)
    yield h
    h.kill()


@pytest.fixture(params=["shadow", "native"])
def hvd_mmu(guest: Guest, request: pytest.FixtureRequest):
    """hvd under the shadow monitor (default) and with Unicorn's own MMU."""
    h = Hvd(guest.elf, extra=("--mmu", request.param))
    yield h
    h.kill()


def alias(guest: Guest, name: str) -> int:
    """The guest's second virtual address for a RAM symbol."""
    return guest.sym[name] - 0x80000000 + ALIAS


def value(out: str, n: int) -> str:
    """The value gdb printed as ``$n = ...``."""
    m = re.search(rf"\${n} = (.*)$", out, re.M)
    assert m, f"${n} not in gdb output:\n{out}"
    return m.group(1)


def test_break_continue_step_registers_and_exit(guest: Guest, hvd_mmu: Hvd):
    hvd = hvd_mmu
    out = gdb_batch(guest.elf, hvd.port, [
        "break *arm_loop",
        "continue",
        "continue",
        "print $r1",                      # $1: second time round the loop
        "delete",
        "stepi",
        "print $pc",                      # $2: ARM step: the store
        "x/2i $pc",
        "break *thumb_code",
        "continue",
        "print $cpsr & 0x20",             # $3: Thumb state
        "stepi",
        "print $pc",                      # $4: Thumb step: 2 bytes on
        "stepi",
        "print $r3",                      # $5: movs/adds ran
        "print $d0.f64",                  # $6: the VFP instruction's result
        "print $d1.f64",                  # $7
        "print $s1",                      # $8: high half of d0
        "print $q0.u64[0] == $d0.u64",    # $9
        "set $r5 = 0x1234",
        "print/x $r5",                    # $10
        "set $d2.u64 = 0x4000000000000000",
        "print $d2.f64",                  # $11
        "print *(int *)&counter",         # $12
        "info registers",
        "set var *(int *)&flag = 7",
        "delete",
        "continue",
    ])
    assert "Breakpoint 1, 0x80000" in out and "arm_loop" in out
    assert value(out, 1) == "1"
    assert value(out, 2).endswith(f"0x{guest.sym['store_insn']:x} <store_insn>")
    assert re.search(r"=> 0x[0-9a-f]+ <store_insn>:\s+str\s+r1, \[r0\]", out), out
    assert value(out, 3) == "32"
    assert value(out, 4).endswith(f"0x{guest.sym['thumb_code'] + 2:x} <thumb_code+2>")
    assert value(out, 5) == "8"
    assert value(out, 6) == "1.5"
    assert value(out, 7) == "3"
    assert value(out, 8) == "1.9375"
    assert value(out, 9) == "1"
    assert value(out, 10) == "0x1234"
    assert value(out, 11) == "2"
    assert value(out, 12) == "5"
    assert re.search(r"^cpsr\s+0x[0-9a-f]*1f3\s", out, re.M), out   # SVC mode, Thumb, masked
    assert re.search(r"^fpscr\s+0x", out, re.M)
    assert "exited with code 07" in out
    status, _, _ = hvd.finish()
    assert status == 7


def test_stepi_through_an_exception(guest: Guest, hvd: Hvd):
    out = gdb_batch(guest.elf, hvd.port, [
        "break *svc_insn",
        "continue",
        "stepi",
        "print $pc",              # $1: the SVC vector
        "print/x $lr",            # $2: the return address
        "stepi",
        "print $pc",              # $3: back after the SVC
        "kill",
    ])
    assert value(out, 1).endswith(f"0x{guest.sym['svc_vector']:x} <svc_vector>")
    assert value(out, 2) == f"0x{guest.sym['svc_insn'] + 4:x}"
    assert value(out, 3).endswith(f"0x{guest.sym['svc_insn'] + 4:x} <svc_insn+4>")


def test_watchpoints_report_old_and_new_values(guest: Guest, hvd_mmu: Hvd):
    hvd = hvd_mmu
    counter = alias(guest, "counter")
    out = gdb_batch(guest.elf, hvd.port, [
        "break *mmu_on",                    # the alias exists once the MMU is on
        "continue",
        "delete",
        f"watch *(int *)0x{counter:x}",     # the guest writes it through this VA only
        "continue",
        "continue",
        "print $pc",
        "delete",
        "rwatch *(int *)&flag",
        "continue",
        "delete",
        "awatch *(int *)&flag",
        "continue",
        "delete",
        "kill",
    ])
    assert f"Hardware watchpoint 2: *(int *)0x{counter:x}" in out
    assert re.search(r"Old value = 0\s+New value = 1", out), out
    assert re.search(r"Old value = 1\s+New value = 2", out), out
    # gdb reports after stepping over the store itself: the PC is past it
    assert value(out, 1).endswith("<store_insn+4>")
    assert "Hardware read watchpoint 3: *(int *)&flag" in out
    assert re.search(r"Value = 0", out)
    assert "Hardware access (read/write) watchpoint 4" in out
    assert "thumb_loop" in out


def test_breakpoints_do_not_change_guest_code(guest: Guest, hvd: Hvd):
    out = gdb_batch(guest.elf, hvd.port, [
        "break *sum_loop",
        "hbreak *arm_loop",
        "break *0x%x" % (guest.sym["sum_loop"] + 4),
        "continue",
        "x/1xw sum_loop",               # the breakpoint's own bytes, as the guest sees them
        "delete 1",
        "delete 3",
        "continue",
        "print/x *(unsigned int *)&csum",
        "print/x $r6",
        "kill",
    ])
    assert "Breakpoint 1, " in out
    assert "Hardware assisted breakpoint 2" in out
    # the guest's checksum equals the checksum of the pristine code
    words = _code_words(guest)
    expect = sum(words) & 0xFFFFFFFF
    assert value(out, 1) == f"0x{expect:x}", out
    assert value(out, 2) == f"0x{expect:x}"
    m = re.search(r"<sum_loop>:\s+0x([0-9a-f]{8})", out)
    assert m and int(m.group(1), 16) == words[(guest.sym["sum_loop"] - guest.sym["_start"]) // 4]


def _code_words(guest: Guest) -> list[int]:
    objcopy = shutil.which("arm-none-eabi-objcopy") or "arm-none-eabi-objcopy"
    raw = subprocess.run([objcopy, "-O", "binary", "-j", ".text", str(guest.elf), "/dev/stdout"],
                         capture_output=True, check=True).stdout
    n = (guest.sym["code_end"] - guest.sym["_start"]) // 4
    return list(struct.unpack(f"<{n}I", raw[:4 * n]))


def test_memory_write_to_code_takes_effect(guest: Guest, hvd: Hvd):
    # run the Thumb code once to get it translated, then patch it... it only runs once, so
    # patch "movs r3, #7" (0x2307) to "movs r3, #9" (0x2309) after the ARM part ran
    out = gdb_batch(guest.elf, hvd.port, [
        "break *vfp_insn",
        "continue",
        "set var *(unsigned short *)thumb_code = 0x2309",
        "x/1i thumb_code",
        "delete",
        "break *thumb_loop",
        "continue",
        "print $r3",
        "set var *(int *)&flag = 1",
        "delete",
        "continue",
    ])
    assert "movs\tr3, #9" in out or "movs r3, #9" in out, out
    assert value(out, 1) == "10"
    assert "exited with code 01" in out


def test_unmapped_memory_is_an_error_not_a_hang(guest: Guest, hvd: Hvd):
    out = gdb_batch(guest.elf, hvd.port, [
        "x/4xw 0x10",          # nothing at physical 0 on this board (MMU off: VA = PA)
        "print 1",
        "kill",
    ])
    assert "Cannot access memory at address 0x10" in out
    assert value(out, 1) == "1"


def test_monitor_commands(guest: Guest, hvd: Hvd):
    out = gdb_batch(guest.elf, hvd.port, [
        "monitor help",
        "monitor info registers",
        "monitor info shadow",
        "monitor info tlb",
        "break *vfp_insn",
        "continue",
        "x/1dw 0x%x" % alias(guest, "counter"),        # through the guest's alias mapping
        "monitor info tlb",
        "monitor phys on",
        "x/1xw 0x%x" % guest.sym["_start"],
        "x/1xw 0x%x" % alias(guest, "counter"),        # no RAM at that physical address
        "monitor phys off",
        "monitor frobnicate",
        "kill",
    ])
    assert "info registers" in out and "phys [on|off]" in out
    assert "r13_svc=" in out and "spsr_irq=" in out and "r8_fiq=" in out
    assert "SCTLR=" in out and "TTBR0=" in out and "DACR=" in out
    assert "mmu" in out and "fills" in out
    assert "MMU off" in out                              # before the guest ran
    # the listing's layout is the memory monitor's; the ranges and targets are the guest's
    assert re.search(r"30000000-300fffff\s.*\b0*80000000\b", out), out
    assert re.search(r"80000000-80ffffff\s.*\b0*80000000\b", out), out
    assert re.search(rf"0x{alias(guest, 'counter'):x}:\s+5\b", out), out
    assert f"Cannot access memory at address 0x{alias(guest, 'counter'):x}" in out
    assert "physical memory mode on" in out
    assert re.search(r"<_start>:\s+0xe59fd", out), out
    assert "unknown command" in out


def test_ctrl_c_stops_a_spinning_guest(guest: Guest, hvd: Hvd):
    pexpect = pytest.importorskip("pexpect")
    child = pexpect.spawn(GDB, ["-nx", "-q", "-iex", "set style enabled off", str(guest.elf)],
                          encoding="utf-8", timeout=20, env={"TERM": "dumb", "PATH": "/usr/bin:/bin"})
    try:
        child.expect_exact("(gdb)")
        child.sendline(f"target remote 127.0.0.1:{hvd.port}")
        child.expect_exact("(gdb)")
        child.sendline("continue")
        child.expect_exact("Continuing.")
        time.sleep(1.0)            # the guest spins in thumb_loop waiting for flag
        child.sendintr()
        child.expect("Program received signal SIGINT")
        child.expect_exact("(gdb)")
        child.sendline("info symbol $pc")
        child.expect_exact("(gdb)")
        assert "thumb_loop" in child.before
        child.sendline("set var *(int *)&flag = 3")
        child.expect_exact("(gdb)")
        child.sendline("continue")
        child.expect("exited with code 03")
        child.sendline("quit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    status, _, _ = hvd.finish()
    assert status == 3


def test_reconnect_after_a_client_vanishes(guest: Guest, hvd: Hvd):
    # the first gdb sets a breakpoint, lets the guest run, and is killed
    first = subprocess.Popen(
        [GDB, "-nx", "-batch", str(guest.elf), "-ex", f"target remote 127.0.0.1:{hvd.port}",
         "-ex", "break *thumb_exit", "-ex", "continue"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(2.0)
    first.send_signal(signal.SIGKILL)
    first.communicate()
    time.sleep(0.5)
    # a second one attaches: the guest was stopped for it and the old breakpoint is gone
    out = gdb_batch(guest.elf, hvd.port, [
        "info symbol $pc",
        "set var *(int *)&flag = 5",
        "continue",
    ])
    assert "thumb_loop" in out
    assert "exited with code 05" in out
    status, _, _ = hvd.finish()
    assert status == 5


def test_second_client_is_refused_while_one_is_attached(guest: Guest, hvd: Hvd):
    s = socket.create_connection(("127.0.0.1", hvd.port))
    try:
        s.sendall(frame(b"qSupported", rle=False))
        time.sleep(0.3)
        out = gdb_batch(guest.elf, hvd.port, ["print 1"], timeout=30)
        assert "another debugger is attached" in out
    finally:
        s.close()


def _raw_cmd(sock: socket.socket, conn: PacketConnection, payload: bytes | None,
             timeout: float = 10) -> bytes:
    if payload is not None:
        sock.sendall(frame(payload, rle=False))
    sock.settimeout(timeout)
    while True:
        data = sock.recv(65536)
        if not data:
            raise EOFError
        for ev in conn.feed(data):
            if isinstance(ev, Packet):
                sock.sendall(b"+")
                return ev.payload


def test_raw_interrupt_byte_and_detach(guest: Guest, hvd: Hvd):
    conn = PacketConnection()
    with socket.create_connection(("127.0.0.1", hvd.port)) as s:
        assert b"PacketSize" in _raw_cmd(s, conn, b"qSupported:swbreak+")
        assert _raw_cmd(s, conn, b"?") == b"T05thread:01;"
        s.sendall(frame(b"vCont;c", rle=False))
        time.sleep(0.5)
        s.sendall(b"\x03")
        assert _raw_cmd(s, conn, None) == b"T02thread:01;"
        # step in Thumb state from the spin loop, twice
        pc0 = int.from_bytes(bytes.fromhex(_raw_cmd(s, conn, b"pf").decode()), "little")
        assert guest.sym["thumb_loop"] <= pc0 < guest.sym["thumb_exit"]
        assert _raw_cmd(s, conn, b"vCont;s:1") == b"T05thread:01;"
        pc1 = int.from_bytes(bytes.fromhex(_raw_cmd(s, conn, b"pf").decode()), "little")
        assert pc1 != pc0 and guest.sym["thumb_loop"] <= pc1 < guest.sym["thumb_exit"]
        # a software breakpoint reported as swbreak
        assert _raw_cmd(s, conn, b"Z0,%x,2" % guest.sym["thumb_loop"]) == b"OK"
        s.sendall(frame(b"vCont;c", rle=False))
        assert _raw_cmd(s, conn, None) == b"T05thread:01;swbreak:;"
        assert _raw_cmd(s, conn, b"z0,%x,2" % guest.sym["thumb_loop"]) == b"OK"
        # flag = 2, detach: the guest runs on and exits
        assert _raw_cmd(s, conn, b"M%x,4:02000000" % guest.sym["flag"]) == b"OK"
        assert _raw_cmd(s, conn, b"D") == b"OK"
    status, _, _ = hvd.finish()
    assert status == 2
