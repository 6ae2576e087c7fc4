"""The vCPU run loop: stopping it from outside, WFI idling without host CPU, semihosting, and
the Unicorn replay hazards it guards against."""

from __future__ import annotations

import os
import struct
import subprocess
import time
from pathlib import Path

import pytest
from unicorn.arm_const import UC_ARM_REG_PC, UC_ARM_REG_R0, UC_ARM_REG_R2

from hvd.config import VmConfig
from hvd.vm import VM

pytestmark = pytest.mark.skipif(subprocess.run(["which", "arm-none-eabi-as"], capture_output=True).returncode,
                                reason="arm-none-eabi binutils not installed")


def assemble(tmp_path: Path, source: str, name: str = "g") -> Path:
    """Assemble and link ``source`` at 0x80000000 into an ELF."""
    s = tmp_path / f"{name}.S"
    s.write_text(".syntax unified\n.arm\n.global _start\n_start:\n" + source)
    o = tmp_path / f"{name}.o"
    elf = tmp_path / f"{name}.elf"
    subprocess.run(["arm-none-eabi-as", "-march=armv7-a", "-o", str(o), str(s)], check=True)
    subprocess.run(["arm-none-eabi-ld", "-Ttext=0x80000000", "-o", str(elf), str(o)], check=True)
    return elf


def make_vm(kernel: Path, **kw) -> VM:
    values = {"kernel": str(kernel), "serial": "none", **kw}
    return VM(VmConfig.from_mapping(values, "test", name="t"))


SPIN = """
    mov r2, #0
1:  add r2, r2, #1
    ldr r3, =0x80100000
    str r2, [r3]
    b 1b
"""


@pytest.mark.parametrize("mmu", ["shadow", "native"])
def test_pause_resume_is_prompt_and_loses_nothing(tmp_path, mmu):
    vm = make_vm(assemble(tmp_path, SPIN), mmu=mmu)
    vm.start()
    try:
        last = -1
        worst = 0.0
        for _ in range(200):
            t = time.monotonic()
            assert vm.pause()
            worst = max(worst, time.monotonic() - t)
            r2 = vm.vcpu.uc.reg_read(UC_ARM_REG_R2)
            assert r2 >= last  # the counter only ever goes up: no lost or repeated state
            last = r2
            mem = struct.unpack("<I", vm.board.bus.read_phys(0x80100000, 4))[0]
            assert mem in (r2, r2 - 1)
            vm.resume()
            time.sleep(0.002)
        assert last > 0
        assert worst < 3.0, f"a pause took {worst:.3f} s"
    finally:
        vm.shutdown()
    assert not vm.vcpu.running


def test_shutdown_of_a_spinning_guest_is_prompt(tmp_path):
    vm = make_vm(assemble(tmp_path, SPIN))
    vm.start()
    time.sleep(0.2)
    t = time.monotonic()
    vm.shutdown()
    assert time.monotonic() - t < 1.0
    assert not vm.vcpu.running


WFI_FOREVER = """
    cpsid if
1:  wfi
    b 1b
"""


@pytest.mark.parametrize("mmu", ["shadow", "native"])
def test_wfi_idle_costs_no_host_cpu(tmp_path, mmu):
    vm = make_vm(assemble(tmp_path, WFI_FOREVER), mmu=mmu)
    vm.start()
    try:
        time.sleep(0.3)
        cpu0 = time.thread_time()  # this thread does nothing
        p0 = time.process_time()
        time.sleep(2.0)
        used = time.process_time() - p0 - (time.thread_time() - cpu0)
        assert vm.vcpu.wfi
        assert used < 0.2, f"idle guest used {used:.3f} s of host CPU in 2 s"
    finally:
        vm.shutdown()


SEMIHOST = r"""
    ldr r1, =msg
    mov r0, #4          @ SYS_WRITE0
    svc 0x123456
    mov r0, #0x10       @ SYS_CLOCK
    svc 0x123456
    mov r4, r0
    ldr r1, =block
    mov r0, #0x20       @ SYS_EXIT_EXTENDED
    svc 0x123456
    b .
block: .word 0x20026, 42
msg: .asciz "hello from semihosting\n"
"""


def test_semihosting_exit_status_and_output(tmp_path):
    elf = assemble(tmp_path, SEMIHOST)
    r = subprocess.run([str(Path(os.environ.get("VIRTUAL_ENV", ".venv")) / "bin" / "hvd"), "run", "--kernel", str(elf),
                        "--semihosting", "--serial", "none", "--timeout", "20"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 42, r.stderr
    assert "hello from semihosting" in r.stdout


def test_semihosting_off_svc_goes_to_the_guest_vector(tmp_path):
    # without --semihosting, SVC 0x123456 is an ordinary SVC: vector at VBAR + 8
    src = """
    ldr r0, =vectors
    mcr p15, 0, r0, c12, c0, 0
    svc 0x123456
    b .
    .balign 32
vectors:
    b .
    b .
    mov r5, #0x55     @ SVC vector
    b .
"""
    vm = make_vm(assemble(tmp_path, src))
    vm.start()
    time.sleep(0.5)
    vm.pause()
    from unicorn.arm_const import UC_ARM_REG_R5
    assert vm.vcpu.uc.reg_read(UC_ARM_REG_R5) == 0x55
    vm.shutdown()


UART_FLOOD = """
    ldr r1, =0x49020000
1:  ldr r2, [r1, #0x14]      @ LSR
    tst r2, #0x20
    beq 1b
    add r0, r0, #1
    and r3, r0, #0x3f
    add r3, r3, #0x30
    strb r3, [r1]            @ THR
    b 1b
"""


def test_uart_output_survives_many_stops(tmp_path):
    """Stops land in the middle of MMIO instructions; the replay guard must keep every
    character exactly once (the guest prints a repeating 0..o sequence)."""
    vm = make_vm(assemble(tmp_path, UART_FLOOD))
    out = bytearray()
    vm.add_console_listener(out.extend)
    vm.start()
    try:
        for _ in range(100):
            vm.pause()
            vm.resume()
            time.sleep(0.002)
    finally:
        vm.shutdown()
    seq = bytes(out)
    assert len(seq) > 1000
    bad = [i for i in range(1, len(seq)) if (seq[i] - 0x30) % 64 != (seq[i - 1] - 0x30 + 1) % 64]
    assert not bad, f"{len(bad)} characters out of sequence (first at {bad[0]}: {seq[bad[0]-3:bad[0]+3]!r})"


MIDR = r"""
    mrc p15, 0, r4, c0, c0, 0      @ MIDR
    ldr r1, =block
    str r4, [r1, #4]
    mov r0, #0x20                  @ SYS_EXIT_EXTENDED with the MIDR's variant and revision
    ldr r5, =0x410fc080            @ implementer ARM, architecture 0xF, part 0xC08
    and r6, r4, #0xf               @ revision
    lsr r7, r4, #20
    and r7, r7, #0xf               @ variant
    bic r4, r4, #0x00f00000
    bic r4, r4, #0xf
    cmp r4, r5
    movne r7, #0xee                @ not a Cortex-A8 from ARM
    orr r4, r6, r7, lsl #4         @ r3p2 -> 0x32
    str r4, [r1, #4]
    svc 0x123456
    b .
block: .word 0x20026, 0
"""


def test_cpu_identifies_as_dm3730_cortex_a8_r3p2(tmp_path):
    elf = assemble(tmp_path, MIDR)
    r = subprocess.run([str(Path(".venv/bin/hvd")), "run", "--kernel", str(elf), "--semihosting",
                        "--serial", "none", "--timeout", "20"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0x32, r.stderr  # MIDR 0x413FC082: variant 3, revision 2


def test_unmodeled_device_register_reads_zero_and_is_logged_once(tmp_path, caplog):
    import logging

    src = """
    ldr r1, =0x48ff0000     @ inside the L4-Core window, no model there
    ldr r2, [r1]
    ldr r2, [r1]
    str r2, [r1, #4]
    mov r5, #0x77
    b .
"""
    vm = make_vm(assemble(tmp_path, src))
    with caplog.at_level(logging.DEBUG, logger="hvd.bus"):
        vm.start()
        time.sleep(0.5)
        vm.pause()
    from unicorn.arm_const import UC_ARM_REG_R5
    assert vm.vcpu.uc.reg_read(UC_ARM_REG_R5) == 0x77  # no abort: reads as zero, writes ignored
    assert vm.vcpu.uc.reg_read(UC_ARM_REG_R2) == 0
    vm.shutdown()
    reads = [r for r in caplog.records if "0x48ff0000" in r.getMessage() and "read" in r.getMessage()]
    assert len(reads) == 1


BANNER_THEN_IDLE = """
    ldr r1, =0x49020000
    ldr r4, =msg
1:  ldrb r3, [r4], #1
    cmp r3, #0
    beq 3f
2:  ldr r2, [r1, #0x14]
    tst r2, #0x20
    beq 2b
    strb r3, [r1]
    b 1b
3:  cpsid if
4:  wfi
    b 4b
msg: .asciz "guest-ready\\r\\n"
"""


def test_stdio_console_ctrl_a_x_quits(tmp_path):
    pexpect = pytest.importorskip("pexpect")
    elf = assemble(tmp_path, BANNER_THEN_IDLE)
    child = pexpect.spawn(str(Path(".venv/bin/hvd").resolve()), ["run", "--kernel", str(elf), "--timeout", "30"],
                          timeout=20)
    child.expect("guest-ready")  # the terminal is in raw mode by now
    child.send("\x01h")
    child.expect("exit hvd")
    child.send("\x01x")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
