"""The vCPU's block hook (hvd/cpu/_blockhook.c): guest instruction counts (`cpu.instructions`,
the figure behind `hvd ctl top`'s instr/s) and the stop at the first block where a pending but
masked interrupt becomes unmasked."""

from __future__ import annotations

import struct
import time

import pytest

from hvd.cpu.blockhook import _load, thumb_instruction_count

from .test_vcpu import assemble, make_vm, pytestmark  # noqa: F401 (skip marker)
from .test_wfi_wake import COUNTER, TIMER_IRQ, TIMER_SETUP

needs_hook = pytest.mark.skipif(_load() is None, reason="hvd/cpu/_blockhook not built")

LOOPS = 100_000

EXIT = """
    mov r0, #0x18           @ SYS_EXIT
    ldr r1, =0x20026        @ ADP_Stopped_ApplicationExit
    svc 0x123456
    b .
"""

# 5 instructions before the loop, 4 per iteration (the last BNE not taken), 3 to exit (the SVC
# ends the run)
ARM_LOOP = f"""
    ldr r0, ={LOOPS}
    mov r1, #0
    mov r2, #0
    mov r3, #0
    mov r4, #0
1:  add r1, r1, #1
    add r2, r2, r1
    subs r0, r0, #1
    bne 1b
""" + EXIT

# the loop body mixes 16-bit and 32-bit Thumb encodings (4 instructions, 12 bytes)
THUMB_LOOP = f"""
    ldr r0, ={LOOPS}
    adr r5, 2f + 1
    bx r5
    .thumb
2:  movw r1, #0             @ 32-bit
    adds r1, r1, #1         @ 16-bit
    add.w r2, r2, r1        @ 32-bit
    subs r0, r0, #1         @ 16-bit
    bne 2b + 4              @ 16-bit
    adr r5, 3f
    bx r5
    .arm
    .balign 4
3:
""" + EXIT


def _run_to_exit(tmp_path, src: str, mmu: str, thumb_in_python: int = 0) -> int:
    vm = make_vm(assemble(tmp_path, src), semihosting=True, mmu=mmu)
    vm.start()
    try:
        assert vm.wait(30), "guest did not exit"
        # Thumb blocks are counted in C from the code Unicorn's TLB maps (no Python callback)
        assert vm.vcpu.blocks.thumb_python_counts == thumb_in_python
        return vm.stats()["cpu"]["instructions"]
    finally:
        vm.shutdown()


@needs_hook
@pytest.mark.parametrize("mmu", ["shadow", "native"])
def test_arm_instruction_count_is_exact(tmp_path, mmu):
    n = _run_to_exit(tmp_path, ARM_LOOP, mmu)
    assert n == 5 + 4 * LOOPS + 3


@needs_hook
@pytest.mark.parametrize("mmu", ["shadow", "native"])
def test_thumb_instruction_count_is_exact(tmp_path, mmu):
    n = _run_to_exit(tmp_path, THUMB_LOOP, mmu)
    # 3 ARM to enter Thumb, the first MOVW, 4 per iteration, 2 Thumb to leave, 3 ARM to exit
    assert n == 3 + 1 + 4 * LOOPS + 2 + 3


def test_thumb_lengths_decode():
    # adds r1, #1 (16) ; movw r1, #0 (32) ; bl (32) ; nop (16)
    code = bytes.fromhex("0131" "40f20001" "00f000f8" "00bf")
    assert thumb_instruction_count(code) == 4



# Interrupts are masked almost all the time: each round reads the INTC's pending registers three
# times (device accesses, slow under emulation) with I set, then opens a two-instruction window.
# Only a stop at the block after CPSIE I takes the timer's interrupt in that window; a poll at a
# random moment almost always finds it masked (Linux's omap3 idle loop, which starved the
# clockevent for tens of seconds: soft lockups, i2c-omap timeouts).
MASKED_MOSTLY = TIMER_SETUP + """
loop:
    cpsid i
    ldr r1, [r4, #0x98]
    ldr r1, [r4, #0xb8]
    ldr r1, [r4, #0xd8]
    cpsie i
    nop
    b loop
""" + TIMER_IRQ


@needs_hook
@pytest.mark.parametrize("mmu", ["shadow", "native"])
def test_interrupt_taken_in_a_short_unmasked_window(tmp_path, mmu):
    vm = make_vm(assemble(tmp_path, MASKED_MOSTLY), mmu=mmu)
    vm.start()
    try:
        time.sleep(0.5)
        t0 = time.monotonic()
        n0 = struct.unpack("<I", vm.board.bus.read_phys(COUNTER, 4))[0]
        time.sleep(2.0)
        n1 = struct.unpack("<I", vm.board.bus.read_phys(COUNTER, 4))[0]
        elapsed = time.monotonic() - t0
        stops = vm.stats()["cpu"]["unmask_stops"]
    finally:
        vm.shutdown()
    rate = (n1 - n0) / elapsed
    assert stops > 0
    # the timer fires 1024 times a second; a loaded host takes fewer, polling took almost none
    assert rate > 200, f"{rate:.0f} timer interrupts/s taken, the timer fires at 1024/s"


SPIN = """
1:  add r1, r1, #1
    b 1b
"""


@needs_hook
def test_top_reports_guest_instructions_per_second(tmp_path):
    from hvd.ctl import RATE_KEYS, top_rows

    vm = make_vm(assemble(tmp_path, SPIN))
    vm.start()
    try:
        prev: dict = {}
        sample = lambda: [{"vm": vm.name, "status": vm.status, "stats": vm.stats()}]  # noqa: E731
        top_rows(prev, sample(), time.monotonic())
        time.sleep(0.5)
        row = top_rows(prev, sample(), time.monotonic())[0]
    finally:
        vm.shutdown()
    rate = row[2 + list(RATE_KEYS).index("instr/s")]
    # a spinning guest runs millions of instructions a second even on a loaded host
    assert rate.endswith(("M", "G")), row


RESULT = COUNTER + 4
LDRD_ROUNDS = 2_000_000

# ``LDRD r0, r1, [r0]`` loads r0 first. A stop that lands between its two loads leaves r0
# overwritten with PC still on the instruction, which then runs again from the address it just
# loaded (here the decoy pair, whose second word is not 1). Unicorn takes a stop from another
# thread at its check after the next memory access, so the alarm must stop the vCPU only at
# block boundaries. The timer interrupts 8192 times a second: every interrupt is such a stop.
STOPPED_LDRD = TIMER_SETUP.replace("0xffffffe0", "0xfffffffc") + f"""
    cpsie i
    ldr r6, ={LDRD_ROUNDS}
    mov r7, #0
1:  ldr r0, =pair
    ldrd r0, r1, [r0]
    cmp r1, #1
    addne r7, r7, #1
    subs r6, r6, #1
    bne 1b
    ldr r0, ={RESULT:#x}
    str r7, [r0]
""" + EXIT + """
    .ltorg
""" + TIMER_IRQ + """
    .balign 8
pair:
    .word decoy, 1
decoy:
    .word 0, 2
"""


@needs_hook
@pytest.mark.parametrize("mmu", ["shadow", "native"])
def test_stops_never_split_an_instruction(tmp_path, mmu):
    vm = make_vm(assemble(tmp_path, STOPPED_LDRD), semihosting=True, mmu=mmu)
    vm.start()
    try:
        assert vm.wait(60), "guest did not exit"
        bus = vm.board.bus
        interrupts, torn = struct.unpack("<II", bus.read_phys(COUNTER, 8))
        cpu = vm.stats()["cpu"]
    finally:
        vm.shutdown()
    assert interrupts > 100, "the timer did not interrupt the loop: the test tests nothing"
    assert torn == 0, f"{torn} of {LDRD_ROUNDS} LDRDs ran twice from a stop between their loads"
    assert cpu["block_stops"] > 0
