"""hvd-only device guests (BeagleBoard-xM devices QEMU's vexpress-a9 does not have).

Ids read ``test_intc[native]``. The guests are self-checking and print through semihosting,
except the demo and the UART echo guest, whose output is UART3 itself:

  dev_intc   INTC masking (MIR/ITR/PENDING), ack (SIR_IRQ, NEWIRQAGR), ILR priorities,
             THRESHOLD, FIQ routing, via ISR_SET software interrupts
  dev_timer  GPTIMER1 overflow / match / prescaler / TTGR / auto-reload against the 32 kHz counter
  dev_wfi    sleeps in WFI until a timer interrupt: the host CPU time hvd spends meanwhile is small
  dev_uart   UART3 echo with RX and TX interrupts, driven through ``--serial stdio``
  demo       the `make run` demo: banner + one tick line per GPTIMER1 interrupt
"""

from __future__ import annotations

import re

import pytest

from hvd.testing.hvdrun import REPO, hvd_command, hvd_env

from .support import HVD_ONLY, GuestRunner, build, check_hvd_modes_agree, check_selfchecking

# A guest that sleeps 3 s of virtual time may cost this much more host CPU than one that
# sleeps 10 ms (startup and the checks themselves are the same in both).
IDLE_CPU_BUDGET = 0.6


@pytest.mark.parametrize("mode", HVD_ONLY)
def test_intc(guests: GuestRunner, mode: str) -> None:
    check_selfchecking(guests.run("dev_intc", mode))


def test_intc_modes_agree(guests: GuestRunner) -> None:
    check_hvd_modes_agree(guests, "dev_intc")


@pytest.mark.parametrize("mode", HVD_ONLY)
def test_gptimer(guests: GuestRunner, mode: str) -> None:
    check_selfchecking(guests.run("dev_timer", mode))


@pytest.mark.slow
@pytest.mark.parametrize("mode", HVD_ONLY)
def test_wfi_idle_costs_no_cpu(guests: GuestRunner, mode: str) -> None:
    short, short_res = guests.run_serial("dev_wfi", mode, defines={"SLEEP_MS": 10})
    check_selfchecking(short)
    long, long_res = guests.run_serial("dev_wfi", mode, defines={"SLEEP_MS": 3000})
    check_selfchecking(long)
    extra_cpu = long_res.cpu_seconds - short_res.cpu_seconds
    assert extra_cpu < IDLE_CPU_BUDGET, (
        f"sleeping 3 s in WFI cost {extra_cpu:.2f} s more host CPU than sleeping 10 ms "
        f"(wall {long_res.wall_seconds:.1f} s vs {short_res.wall_seconds:.1f} s)"
    )


@pytest.mark.slow
@pytest.mark.parametrize("mode", HVD_ONLY)
def test_demo_ticks(guests: GuestRunner, mode: str) -> None:
    run, _ = guests.run_serial("demo", mode, defines={"DEMO_TICKS": 2})
    assert run.status == 0, run.describe() + f"\n--- serial ---\n{run.serial}"
    serial = run.serial.replace("\r", "")
    assert "hvd demo guest" in serial, serial
    ticks = re.findall(r"^tick (\d+)$", serial, re.M)
    assert ticks == ["1", "2"], serial
    assert serial.rstrip().endswith("demo done"), serial


@pytest.mark.parametrize("mode", HVD_ONLY)
def test_uart_echo_with_interrupts(mode: str) -> None:
    pexpect = pytest.importorskip("pexpect")
    elf = build("dev_uart", mode)
    cmd = hvd_command(elf, mode, timeout=20, serial="stdio")
    child = pexpect.spawn(cmd[0], cmd[1:], env=hvd_env(), cwd=str(REPO), timeout=25,
                          encoding="utf-8", codec_errors="replace")
    transcript: list[str] = []
    child.logfile_read = _Collect(transcript)
    try:
        child.expect("echo ready")
        child.send("hello, World 42\r")
        child.expect(r"HELLO, WORLD 42\r*\n")
        child.send("x=y\r")
        child.expect(r"X=Y\r*\n")
        child.send("q")
        child.expect("bye")
        child.expect(pexpect.EOF)
    except (pexpect.TIMEOUT, pexpect.EOF) as exc:
        child.close(force=True)
        pytest.fail(f"{type(exc).__name__} under {mode}; output so far:\n{''.join(transcript)}")
    child.close()
    assert child.exitstatus == 0, "".join(transcript)


class _Collect:
    """A pexpect logfile that keeps what the guest printed (for failure messages)."""

    def __init__(self, sink: list[str]) -> None:
        self.sink = sink

    def write(self, data: str) -> None:
        self.sink.append(data)

    def flush(self) -> None:
        pass
