"""Instructions that a stop interrupts and that run again: device accesses answered from the
replay record, stop reasons set by a device access, store-exclusives completed."""

from __future__ import annotations

import struct
import time

import pytest

from .test_vcpu import UART_FLOOD, assemble, make_vm, pytestmark  # noqa: F401 (skip marker)

COUNTER = 0x80100000

GUEST_RESET = f"""
    ldr r3, ={COUNTER:#x}
    ldr r2, [r3]
    add r2, r2, #1
    str r2, [r3]
    cmp r2, #3
    bge 2f
    ldr r1, =0x48307250      @ PRM_RSTCTRL
    mov r0, #2               @ RST_GS: global software reset
    str r0, [r1]
1:  b 1b                     @ only reached if the reset was lost
2:  b 2b
"""


@pytest.mark.parametrize("mmu", ["shadow", "native"])
def test_reset_requested_by_a_device_write_is_not_lost(tmp_path, mmu):
    """The PRM write asks for a stop from inside the access; the access is then replayed from
    its record in a step of its own, which must not drop the stop reason (a lost guest reset,
    or a lost TWL4030 poweroff)."""
    vm = make_vm(assemble(tmp_path, GUEST_RESET), mmu=mmu)
    vm.start()
    try:
        deadline = time.monotonic() + 10
        count = 0
        while time.monotonic() < deadline:
            time.sleep(0.05)
            count = struct.unpack("<I", vm.board.bus.read_phys(COUNTER, 4))[0]
            if count >= 3:
                break
        assert count == 3, f"the guest booted {count} times, expected 3 (2 resets)"
    finally:
        vm.shutdown()


def test_device_accesses_run_once_under_constant_deadlines(tmp_path):
    """Timer deadlines fall due every 20 us of guest time, so the alarm is always asking the
    vCPU to stop: at a UART access (recorded and replayed in a step of its own, which the alarm
    may cut short in turn: stepped again with the same record), or from outside, which must
    never land between the end of a device callback and Unicorn's stop check after it (the
    vCPU thread taken off the CPU right there by a loaded host). Either way a character printed
    twice shows up in the sequence."""
    vm = make_vm(assemble(tmp_path, UART_FLOOD))
    out = bytearray()
    vm.add_console_listener(out.extend)
    clock = vm.clock
    period = 20_000  # 20 us of guest time: a deadline is nearly always due

    def tick() -> None:
        timer.arm_in(period)

    timer = clock.timer(tick)
    vm.vcpu.post(lambda: timer.arm_in(period))
    vm.start()
    try:
        time.sleep(3.0)
    finally:
        vm.shutdown()
    seq = bytes(out)
    assert len(seq) > 1000
    bad = [i for i in range(1, len(seq)) if (seq[i] - 0x30) % 64 != (seq[i - 1] - 0x30 + 1) % 64]
    # Measured on a loaded 2-core host: before the fixes 1 character in 1.5k-13k came out twice;
    # after them none, or 1 in 25k-70k (a residual race not found yet, see the issue 6 notes).
    assert len(bad) <= len(seq) // 10_000, (
        f"{len(bad)} of {len(seq)} characters out of sequence (first at {bad[0]}: "
        f"{seq[bad[0]-3:bad[0]+3]!r})")
