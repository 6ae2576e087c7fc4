"""Shared helpers of the guest-program tests: build a guest, run it under QEMU or one hvd mode.

Every portable guest runs in four modes, the test ids saying which: ``shadow-tlb``,
``shadow-wp``, ``native`` (hvd on the BeagleBoard-xM, RAM at 0x8000_0000) and ``qemu``
(qemu-system-arm vexpress-a9, RAM at 0x6000_0000: the referee). Results are cached for the
session so a guest's QEMU output can be compared with each hvd mode's without rerunning it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from hvd.testing import guestbuild
from hvd.testing.hvdrun import HVD_MODES, HvdResult, run_hvd_full
from hvd.testing.qemu import qemu_available, run_qemu

ALL_MODES = [*HVD_MODES, "qemu"]
HVD_ONLY = list(HVD_MODES)
GUEST_TIMEOUT = 20


@dataclass
class GuestRun:
    name: str
    mode: str
    status: int
    output: str  # semihosting output
    stderr: str = ""
    serial: str = ""

    @property
    def lines(self) -> list[str]:
        return self.output.splitlines()

    def failures(self) -> list[str]:
        return [line for line in self.lines if line.startswith("not ok")]

    def describe(self) -> str:
        tail = "\n".join(self.stderr.strip().splitlines()[-15:])
        return (
            f"{self.name} under {self.mode}: exit status {self.status}\n"
            f"--- output ---\n{self.output}\n--- stderr (tail) ---\n{tail}"
        )


def platform_for(mode: str) -> str:
    return "vexpress" if mode == "qemu" else "beagle"


# QEMU's vexpress-a9 with 1 GiB has RAM from 0x6000_0000 to 0x9fff_ffff, so the very ELF built
# for the BeagleBoard (RAM_BASE 0x8000_0000) runs there too: the referee checks hvd's binary.
QEMU_BEAGLE_ELF = "qemu-beagle-elf"


def build(name: str, mode: str, defines: dict[str, int | str] | None = None) -> Path:
    if not guestbuild.toolchain_available():
        pytest.skip("arm-none-eabi-gcc not installed")
    return guestbuild.build_guest(name, platform_for(mode), defines)


class GuestRunner:
    """Builds and runs guests, caching each (guest, mode) result for the session."""

    def __init__(self, tmp: Path) -> None:
        self._cache: dict[tuple[object, ...], GuestRun] = {}
        self._tmp = tmp

    def run(
        self, name: str, mode: str, defines: dict[str, int | str] | None = None
    ) -> GuestRun:
        key = (name, mode, tuple(sorted((defines or {}).items())))
        if key not in self._cache:
            elf = build(name, mode, defines)
            if mode in ("qemu", QEMU_BEAGLE_ELF):
                if not qemu_available():
                    pytest.skip("qemu-system-arm not installed")
                memory = "1G" if mode == QEMU_BEAGLE_ELF else "256M"
                status, out = run_qemu(elf, timeout=GUEST_TIMEOUT, memory=memory)
                self._cache[key] = GuestRun(name, mode, status, out)
            else:
                res = run_hvd_full(elf, mode, timeout=GUEST_TIMEOUT)
                self._cache[key] = GuestRun(name, mode, res.status, res.stdout, res.stderr)
        return self._cache[key]

    def run_serial(
        self,
        name: str,
        mode: str,
        timeout: float = GUEST_TIMEOUT,
        defines: dict[str, int | str] | None = None,
    ) -> tuple[GuestRun, HvdResult]:
        """Run an hvd-only guest with UART3 captured to a file (not cached)."""
        elf = build(name, mode, defines)
        tag = "-".join(f"{k}{v}" for k, v in sorted((defines or {}).items()))
        serial = self._tmp / f"{name}-{mode}-{tag}-serial.txt"
        serial.unlink(missing_ok=True)
        res = run_hvd_full(elf, mode, timeout=timeout, serial_file=serial)
        return GuestRun(name, mode, res.status, res.stdout, res.stderr, res.serial), res


def check_selfchecking(run: GuestRun) -> None:
    """A self-checking guest passed: exit 0, no 'not ok' line, a summary with 0 failures."""
    assert run.status == 0, run.describe()
    assert not run.failures(), run.describe()
    assert any(line.startswith("# checks ") and line.endswith(", failed 0") for line in run.lines), (
        run.describe()
    )


def check_portable(guests: GuestRunner, name: str, mode: str) -> None:
    """Run a portable guest in `mode`; its output must equal the QEMU (vexpress) run's."""
    run = guests.run(name, mode)
    check_selfchecking(run)
    if mode != "qemu" and qemu_available():
        ref = guests.run(name, "qemu")
        if ref.status == 0:
            assert run.lines == ref.lines, f"{name}: {mode} differs from qemu\n{run.describe()}"


def check_hvd_modes_agree(guests: GuestRunner, name: str) -> None:
    """An hvd-only guest prints the same lines under every hvd mode."""
    runs = [guests.run(name, mode) for mode in HVD_MODES]
    for run in runs[1:]:
        assert run.lines == runs[0].lines, (
            f"{name}: {run.mode} differs from {runs[0].mode}\n{run.describe()}\n{runs[0].describe()}"
        )
