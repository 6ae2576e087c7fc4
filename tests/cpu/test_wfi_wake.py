"""Linux's idle loop: interrupts masked, a call to a function doing DSB; WFI; BX LR, then CPSIE I.
The wake-up with the interrupt still masked steps to the unmask; the step of ``bx lr`` must stop
at its target, or the short unmasked window is missed and the interrupt waits for a lucky poll
(seconds of latency: i2c-omap timed out waiting for its completion interrupt)."""

from __future__ import annotations

import struct
import time

from .test_vcpu import assemble, make_vm, pytestmark  # noqa: F401 (skip marker)

COUNTER = 0x80100000

#: VBAR, IRQ and SVC stacks, INTC line 37 unmasked, GPTIMER1 overflowing every 32 ticks
TIMER_SETUP = """
    ldr r0, =vectors
    mcr p15, 0, r0, c12, c0, 0      @ VBAR
    cps #0x12
    ldr sp, =0x80200000             @ IRQ stack
    cps #0x13
    ldr sp, =0x80300000
    ldr r4, =0x48200000             @ INTC: unmask GPTIMER1 (line 37)
    mov r0, #(1 << 5)
    str r0, [r4, #0xa8]
    ldr r5, =0x48318000             @ GPTIMER1: overflow every 32 ticks of 32768 Hz
    mov r0, #0
    str r0, [r5, #0x24]
    ldr r0, =0xffffffe0
    str r0, [r5, #0x2c]
    str r0, [r5, #0x28]
    mov r0, #7
    str r0, [r5, #0x18]
    mov r0, #2
    str r0, [r5, #0x1c]
    mov r0, #3                      @ ST | AR
    str r0, [r5, #0x24]
"""

#: the IRQ handler counting timer interrupts at COUNTER, and the vector table
TIMER_IRQ = f"""
irq:
    sub lr, lr, #4
    push {{r0-r3, lr}}
    ldr r0, =0x48200000
    ldr r1, [r0, #0x40]             @ SIR_IRQ
    ldr r2, =0x48318000
    ldr r3, [r2, #0x18]
    str r3, [r2, #0x18]             @ acknowledge the overflow
    ldr r2, ={COUNTER:#x}
    ldr r3, [r2]
    add r3, r3, #1
    str r3, [r2]
    mov r1, #1
    str r1, [r0, #0x48]             @ NEWIRQAGR
    dsb
    ldmfd sp!, {{r0-r3, pc}}^
    .balign 32
vectors:
    b .
    b .
    b .
    b .
    b .
    b .
    b irq
    b .
"""

IDLE_LOOP = TIMER_SETUP + """idle:
    cpsid i
    bl do_idle
    cpsie i
    nop
    b idle
do_idle:
    dsb
    wfi
    bx lr
""" + TIMER_IRQ


def test_interrupts_reach_an_idle_loop_that_unmasks_after_a_return(tmp_path):
    vm = make_vm(assemble(tmp_path, IDLE_LOOP))
    vm.start()
    try:
        time.sleep(0.5)
        t0 = time.monotonic()
        n0 = struct.unpack("<I", vm.board.bus.read_phys(COUNTER, 4))[0]
        time.sleep(2.0)
        n1 = struct.unpack("<I", vm.board.bus.read_phys(COUNTER, 4))[0]
        elapsed = time.monotonic() - t0
    finally:
        vm.shutdown()
    rate = (n1 - n0) / elapsed
    # before the fix: none at all (the unmasked window between CPSIE I and CPSID I is never
    # met by a poll); the timer fires 1024 times a second, a loaded host takes fewer
    assert rate > 200, f"{rate:.0f} timer interrupts/s taken, the timer fires at 1024/s"
