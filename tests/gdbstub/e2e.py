"""Helpers for the end-to-end tests: a tiny guest assembled with binutils, ``hvd run --gdb``
in a subprocess, and the real ``gdb-multiarch`` in batch mode."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GDB = shutil.which("gdb-multiarch")
AS = shutil.which("arm-none-eabi-as")
LD = shutil.which("arm-none-eabi-ld")
NM = shutil.which("arm-none-eabi-nm")

needs_tools = pytest.mark.skipif(not (GDB and AS and LD and NM),
                                 reason="gdb-multiarch / binutils-arm-none-eabi not installed")

#: The guest: takes an SVC (own vector table), turns the MMU on (RAM identity-mapped, plus an
#: alias at ALIAS), checksums its own code, counts in an ARM loop (a memory variable written
#: through the alias), runs a VFP instruction, switches to Thumb and spins until ``flag`` is
#: set, then exits through semihosting with ``flag`` as its status.
GUEST_S = r"""
    .syntax unified
    .global _start
    .arm
_start:
    ldr sp, =stack_top
    mrc p15, 0, r0, c1, c0, 2      @ CPACR: cp10/cp11 full access
    orr r0, r0, #(0xF << 20)
    mcr p15, 0, r0, c1, c0, 2
    isb
    mov r0, #0x40000000            @ FPEXC.EN
    vmsr fpexc, r0
    ldr r0, =vectors               @ VBAR: our own vector table
    mcr p15, 0, r0, c12, c0, 0
    @ MMU on: RAM identity-mapped with 1 MiB sections, plus an alias of its first MiB at
    @ ALIAS (0x30000000); domain 0 client
    ldr r0, =l1_table
    ldr r1, =0x80000C02
    add r2, r0, #(0x800 * 4)
    mov r3, #16
1:  str r1, [r2], #4
    add r1, r1, #0x100000
    subs r3, r3, #1
    bne 1b
    ldr r1, =0x80000C02
    str r1, [r0, #(0x300 * 4)]
    mcr p15, 0, r0, c2, c0, 0      @ TTBR0
    mov r1, #0
    mcr p15, 0, r1, c2, c0, 2      @ TTBCR
    mov r1, #1
    mcr p15, 0, r1, c3, c0, 0      @ DACR
    mcr p15, 0, r1, c8, c7, 0      @ TLBIALL
    mrc p15, 0, r1, c1, c0, 0
    orr r1, r1, #1
    mcr p15, 0, r1, c1, c0, 0      @ SCTLR.M
    isb
    .global mmu_on
mmu_on:
    .global svc_insn
svc_insn:
    svc #1                          @ an exception to step into (and back out of)
    @ checksum of the code between _start and code_end (a breakpoint must not change it)
    ldr r4, =_start
    ldr r5, =code_end
    mov r6, #0
    .global sum_loop
sum_loop:
    ldr r7, [r4], #4
    add r6, r6, r7
    cmp r4, r5
    blo sum_loop
    ldr r4, =csum
    str r6, [r4]
    ldr r0, =counter - 0x80000000 + 0x30000000   @ the counter through the alias
    mov r1, #0
    .global arm_loop
arm_loop:
    add r1, r1, #1
    .global store_insn
store_insn:
    str r1, [r0]
    cmp r1, #5
    blt arm_loop
    .global vfp_insn
vfp_insn:
    vmov.f64 d0, #1.5
    vadd.f64 d1, d0, d0
    adr r2, thumb_code + 1
    bx r2

    .thumb
    .global thumb_code
    .thumb_func
thumb_code:
    movs r3, #7
    adds r3, #1
    ldr r0, =flag
    .global thumb_loop
thumb_loop:
    ldr r1, [r0]
    cmp r1, #0
    beq thumb_loop
    .global thumb_exit
thumb_exit:
    ldr r2, =exit_block
    str r1, [r2, #4]
    movs r0, #0x20                  @ SYS_EXIT_EXTENDED
    mov r1, r2
    svc 0xAB
1:  b 1b
    .arm
    .align 5
    .global vectors
vectors:
    b .                             @ reset
    b .                             @ undefined
    .global svc_vector
svc_vector:
    movs pc, lr                     @ SVC: return at once
    b .                             @ prefetch abort
    b .                             @ data abort
    b .
    b .                             @ IRQ
    b .                             @ FIQ
    .align 2
    .global code_end
code_end:
    .ltorg

    .data
    .align 2
    .global counter
counter: .word 0
    .global flag
flag:    .word 0
    .global csum
csum:    .word 0
exit_block: .word 0x20026, 0
    .bss
    .align 14
l1_table:
    .space 16384
    .align 3
    .space 4096
stack_top:
"""

#: where the guest sees the first MiB of RAM a second time
ALIAS = 0x30000000


class Guest:
    def __init__(self, elf: Path) -> None:
        self.elf = elf
        out = subprocess.run([NM, str(elf)], capture_output=True, text=True, check=True).stdout
        self.sym = {}
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3:
                self.sym[parts[2]] = int(parts[0], 16)


def build_guest(tmp: Path) -> Guest:
    src = tmp / "gdbguest.S"
    src.write_text(GUEST_S)
    obj = tmp / "gdbguest.o"
    elf = tmp / "gdbguest.elf"
    subprocess.run([AS, "-march=armv7-a", "-mfpu=vfpv3", str(src), "-o", str(obj)], check=True)
    subprocess.run([LD, "-Ttext=0x80000000", "-e", "_start", str(obj), "-o", str(elf)], check=True)
    return Guest(elf)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Hvd:
    """``hvd run --gdb tcp:127.0.0.1:PORT --gdb-wait`` in the background."""

    def __init__(self, elf: Path, *, wait: bool = True, extra: tuple[str, ...] = (),
                 timeout: float = 60) -> None:
        self.port = free_port()
        cmd = [sys.executable, "-c",
               "import sys; sys.argv[0] = 'hvd'; from hvd.cli import main; sys.exit(main())",
               "run", "--kernel", str(elf), "--semihosting", "--serial", "none",
               "--timeout", str(timeout), "--gdb", f"tcp:127.0.0.1:{self.port}",
               "--log-level", "info", *extra]
        if wait:
            cmd.append("--gdb-wait")
        env = dict(os.environ, PYTHONPATH=str(REPO))
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=env, cwd=str(REPO))
        self._wait_listening()

    def _wait_listening(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hvd exited early: {self.proc.communicate()}")
            # probing with connect() would attach a debugger: look at the listen table instead
            if _listening(self.port):
                return
            time.sleep(0.05)
        raise RuntimeError("hvd's gdb port did not open")

    def finish(self, timeout: float = 30) -> tuple[int, str, str]:
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out, err

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


def _listening(port: int) -> bool:
    """True when something listens on 127.0.0.1:port (read from /proc, no connection made)."""
    want = f":{port:04X}"
    try:
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[1].endswith(want) and fields[3] == "0A":
                    return True
    except OSError:
        pass
    return False


def gdb_batch(elf: Path | None, port: int, commands: list[str], timeout: float = 60) -> str:
    """Run gdb-multiarch in batch mode: connect, run ``commands``; return its output."""
    args = [GDB, "-nx", "-batch", "-iex", "set style enabled off", "-iex", "set pagination off",
            "-iex", "set confirm off"]
    if elf is not None:
        args.append(str(elf))
    args += ["-ex", f"target remote 127.0.0.1:{port}"]
    for c in commands:
        args += ["-ex", c]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, TERM="dumb"))
    return proc.stdout + proc.stderr
