"""What the benchmark suites share: running a bare-metal guest in-process under hvd with
timestamped semihosting markers, mode names, and small formatting helpers."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hvd.config import VmConfig

#: hvd's memory-virtualization modes as the benchmarks name them -> VmConfig keys
MODES: dict[str, dict[str, str]] = {
    "tlb": {"mmu": "shadow", "shadow_sync": "tlb"},
    "wp": {"mmu": "shadow", "shadow_sync": "wp"},
    "native": {"mmu": "native"},
}

MARK_PREFIX = b"@"


@dataclass
class GuestRun:
    """One bare-metal guest run under hvd."""

    mode: str
    status: str                    # "ok", "timeout", "error"
    exit_status: int | None
    wall_s: float                  # start() .. exit, host monotonic time
    marks: dict[str, float] = field(default_factory=dict)  # "@X" marker -> seconds after start
    cpu_marks: dict[str, float] = field(default_factory=dict)  # "@X" -> vCPU thread CPU seconds
    output: str = ""
    stats: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def span(self, a: str = "B", b: str = "E") -> float | None:
        """Host seconds between two markers (None when either is missing)."""
        if a in self.marks and b in self.marks:
            return self.marks[b] - self.marks[a]
        return None

    def cpu_span(self, a: str = "B", b: str = "E") -> float | None:
        """vCPU-thread CPU seconds between two markers: robust against a busy host."""
        if a in self.cpu_marks and b in self.cpu_marks:
            return self.cpu_marks[b] - self.cpu_marks[a]
        return None


class _Sink:
    """Semihosting output collector: timestamps the lines that start with '@'.

    Called on the vCPU thread; a guest prints a marker as one SYS_WRITE0 call ("@B\\n"), so the
    time taken is when the guest reached it, to within one semihosting call."""

    def __init__(self) -> None:
        self.t0 = 0.0
        self.buf = bytearray()
        self.marks: dict[str, float] = {}
        self.cpu_marks: dict[str, float] = {}

    def __call__(self, data: bytes) -> None:
        now = time.perf_counter()
        cpu = time.thread_time()  # the vCPU thread's CPU time (this runs on that thread)
        if data[:1] == MARK_PREFIX:
            name = data[1:].split(b"\n", 1)[0].decode(errors="replace").strip()
            self.marks.setdefault(name, now - self.t0)
            self.cpu_marks.setdefault(name, cpu)
        self.buf += data


def make_config(elf: Path, mode: str, **extra: Any) -> VmConfig:
    d: dict[str, Any] = {"kernel": str(elf), "semihosting": True, "serial": "none",
                         **MODES[mode], **extra}
    return VmConfig.from_mapping(d, "bench", name=f"bench-{mode}")


def run_guest(elf: Path, mode: str, timeout: float = 60.0, keep_vm: bool = False,
              **extra: Any) -> tuple[GuestRun, Any]:
    """Run ``elf`` under hvd in ``mode`` in this process; returns the result and, with
    ``keep_vm``, the VM (stopped, not destroyed: its monitor can still be inspected)."""
    from hvd.vm import VM

    sink = _Sink()
    vm = VM(make_config(elf, mode, **extra), semihost_sink=sink)
    sink.t0 = time.perf_counter()
    t0 = time.monotonic()
    vm.start()
    finished = vm.wait(timeout)
    wall = time.monotonic() - t0
    if not finished:
        status = "timeout"
    elif vm.status == "internal-error":
        status = "error"
    else:
        status = "ok"
    stats = vm.stats()
    run = GuestRun(mode=mode, status=status, exit_status=vm.exit_status, wall_s=wall,
                   marks=dict(sink.marks), cpu_marks=dict(sink.cpu_marks), output=sink.buf.decode(errors="replace"),
                   stats=stats, error=vm.error)
    if not keep_vm or status == "timeout":
        vm.shutdown("host-qmp-quit")
        return run, None
    return run, vm


def parse_values(output: str) -> dict[str, str]:
    """``key=value`` lines the bench guests print (checksums, counts)."""
    out: dict[str, str] = {}
    for line in output.splitlines():
        if "=" in line and not line.startswith(("@", "#")):
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt(x: float | None, spec: str = ".2f", unit: str = "") -> str:
    return "-" if x is None else f"{x:{spec}}{unit}"


def target_text(ok: bool | None) -> str:
    if ok is None:
        return "[yellow]n/a[/]"
    return "[green]met[/]" if ok else "[red]missed[/]"

