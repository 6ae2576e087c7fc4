"""``hvd bench linux``: Debian's armmp kernel with a test initramfs, timed from start to the
first shell output of init and through 200 fork+exec inside the guest, under hvd (shadow/tlb,
shadow/wp, native) beside ``qemu-system-arm -M virt -cpu cortex-a15`` in the same run.

The initramfs's /init (a busybox shell script) prints markers with the guest's /proc/uptime:
``@@BOOT`` as soon as the shell runs (the "shell prompt"), ``@@FORK0`` and ``@@FORK1`` around
200 runs of /usr/bin/true (``@@FORK1`` also says how many failed: a run with failures has no
fork+exec figure), then powers off with ``poweroff -f``. /usr/bin/true is a tiny static
ARM ELF built here (exit(0) by syscall), so each iteration is a real fork+exec and not a busybox
applet run inside the shell. The host timestamps each marker as it arrives on the console.

Linux under hvd is still being brought up: a run that does not reach a marker within the
deadline is reported as "did not reach the shell within N s", never as a failure of the suite.
``HVD_BENCH_LINUX_TIMEOUT`` overrides the per-run deadline (default 600 s, 120 s with --quick).

QEMU's own figures move a lot from run to run on a shared host (its 200 fork+exec between 0.7
and 1.4 s within half an hour), so QEMU and hvd/tlb run in alternation for several rounds
(``HVD_BENCH_LINUX_ROUNDS``, default 3, 1 with --quick) and the targets are judged on the ratio
of their medians; each row also shows its ratio to the QEMU run of its own round. tlb with the
warp clock, wp and native run once, against QEMU's median.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

from rich.console import Console
from rich.table import Table

from .common import MODES, fmt, ratio, target_text

FORKS = 200
TARGET = 3.0  # hvd (shadow/tlb) within 3x of QEMU, boot and fork+exec
QEMU = "qemu-system-arm"
MARK_RE = re.compile(rb"@@(BOOT|FORK0|FORK1) ([0-9.]+)")

INIT = """#!/bin/sh
mount -t proc proc /proc
echo "@@BOOT $(cut -d' ' -f1 /proc/uptime)"
i=0
f=0
t0=$(cut -d' ' -f1 /proc/uptime)
while [ $i -lt {forks} ]; do /usr/bin/true || f=$((f+1)); i=$((i+1)); done
t1=$(cut -d' ' -f1 /proc/uptime)
echo "@@FORK0 $t0"
echo "@@FORK1 $t1 failed=$f"
echo "forks=$i"
poweroff -f
"""

TRUE_S = """
	.text
	.global _start
_start:
	mov	r0, #0
	mov	r7, #1		@ exit
	svc	#0
"""


class MarkerLog:
    """Console bytes in, timestamped markers out (any thread)."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.buf = bytearray()
        self.host: dict[str, float] = {}
        self.guest: dict[str, float] = {}
        self.changed = threading.Event()
        self._lock = threading.Lock()

    def feed(self, data: bytes) -> None:
        now = time.monotonic() - self.t0
        with self._lock:
            start = max(0, len(self.buf) - 64)
            self.buf += data
            for m in MARK_RE.finditer(self.buf, start):
                name = m.group(1).decode()
                end_ok = m.end() < len(self.buf)  # the number is complete
                if end_ok and name not in self.host:
                    self.host[name] = now
                    self.guest[name] = float(m.group(2))
                    self.changed.set()

    def tail(self, n: int = 300) -> str:
        return self.buf[-n:].decode(errors="replace")


def _find_images(console: Console) -> dict[str, Path] | str:
    from hvd.images import ImagesError, default_dest, fetch_images, image_paths

    env = os.environ.get("HVD_IMAGES")
    dest = Path(env) if env else default_dest()
    paths = image_paths(dest)
    if all(paths[k].is_file() for k in ("kernel", "dtb", "busybox")):
        return paths
    try:
        return fetch_images(dest, progress=console.is_terminal)
    except ImagesError as e:
        return f"guest images unavailable: {e}"


def _true_elf(work: Path) -> bytes | None:
    for cc in ("arm-linux-gnueabihf-gcc", "arm-none-eabi-gcc"):
        if shutil.which(cc):
            src = work / "true.S"
            out = work / "true"
            src.write_text(TRUE_S)
            p = subprocess.run([cc, "-nostdlib", "-static", "-marm", "-o", str(out), str(src)],
                               capture_output=True)
            if p.returncode == 0:
                return out.read_bytes()
    return None


def build_test_initramfs(busybox: Path, work: Path) -> tuple[Path, bool]:
    from hvd.initramfs import build_initramfs

    elf = _true_elf(work)
    init = INIT.format(forks=FORKS)
    extra: dict[str, bytes] = {}
    if elf is not None:
        extra["usr/bin/true"] = elf
    else:  # no cross toolchain: busybox's applet (it may run without an exec)
        init = init.replace("/usr/bin/true", "/bin/true")
    out = build_initramfs(busybox, init, work / "bench-initrd.img", extra)
    os.chmod(out, 0o644)
    return out, elf is not None


def _wait(log: MarkerLog, deadline: float, alive: Callable[[], bool]) -> None:
    """Until FORK1 arrives, the deadline passes or the guest stops."""
    while "FORK1" not in log.host:
        left = deadline - time.monotonic()
        if left <= 0 or not alive():
            return
        log.changed.wait(min(left, 0.2))
        log.changed.clear()


def _result(log: MarkerLog, name: str, timeout: float, stop_reason: str | None,
            extra: dict[str, Any] | None = None) -> dict[str, Any]:
    r: dict[str, Any] = {"engine": name, "deadline_s": timeout, **(extra or {})}
    r["boot_s"] = log.host.get("BOOT")
    r["boot_guest_uptime_s"] = log.guest.get("BOOT")
    failed = re.search(rb"@@FORK1 [0-9.]+ failed=([0-9]+)", bytes(log.buf))
    r["fork_failures"] = int(failed.group(1)) if failed else None
    if "FORK0" in log.guest and "FORK1" in log.guest and not r["fork_failures"]:
        r["fork_guest_s"] = log.guest["FORK1"] - log.guest["FORK0"]
    else:
        r["fork_guest_s"] = None
    if r["boot_s"] is None:
        r["status"] = f"did not reach the shell within {timeout:g} s"
        if stop_reason:
            r["status"] = f"stopped before the shell ({stop_reason})"
        r["console_tail"] = log.tail()
    elif r["fork_failures"]:
        # a child killed by a signal (or an exec that failed) is a monitor bug, not a figure
        r["status"] = f"{r['fork_failures']} of {FORKS} fork+exec failed"
    elif r["fork_guest_s"] is None:
        r["status"] = f"reached the shell; fork loop not done within {timeout:g} s"
    else:
        r["status"] = "ok"
    return r


def run_qemu(images: dict[str, Path], initrd: Path, timeout: float) -> dict[str, Any]:
    if shutil.which(QEMU) is None:
        return {"engine": "qemu", "status": "qemu-system-arm not installed"}
    argv = [QEMU, "-M", "virt", "-cpu", "cortex-a15", "-m", "256", "-kernel",
            str(images["kernel"]), "-initrd", str(initrd), "-append", "console=ttyAMA0",
            "-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot"]
    log = MarkerLog()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)

    def reader() -> None:
        assert proc.stdout is not None
        while True:
            chunk = proc.stdout.read1(4096)
            if not chunk:
                break
            log.feed(chunk)

    th = threading.Thread(target=reader, daemon=True)
    th.start()
    _wait(log, time.monotonic() + timeout, lambda: proc.poll() is None)
    try:
        proc.wait(timeout=10 if "FORK1" in log.host else 0.1)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    th.join(2)
    wall = time.monotonic() - log.t0
    stop = None if proc.returncode in (0, None) or "BOOT" in log.host else f"exit {proc.returncode}"
    return _result(log, "qemu", timeout, stop, {"wall_s": wall, "exit_status": proc.returncode,
                                                "argv": argv})


def run_hvd(images: dict[str, Path], initrd: Path, mode: str, timeout: float,
            clock: str = "realtime") -> dict[str, Any]:
    from hvd.config import VmConfig
    from hvd.errors import HvdError
    from hvd.vm import VM

    cfg = {"kernel": str(images["kernel"]), "dtb": str(images["dtb"]), "initrd": str(initrd),
           "append": "console=ttyO2,115200n8", "serial": "none", "memory": "256M",
           "clock": clock, **MODES[mode]}
    name = f"hvd/{mode}" + ("" if clock == "realtime" else f"+{clock}")
    try:
        vm = VM(VmConfig.from_mapping(cfg, "bench", name="bench-linux"))
    except HvdError as e:
        return {"engine": name, "status": f"could not start: {e}"}
    log = MarkerLog()
    vm.add_console_listener(log.feed)
    log.t0 = time.monotonic()
    vm.start()
    try:
        _wait(log, time.monotonic() + timeout, lambda: vm.status in ("running", "paused"))
        if "FORK1" in log.host:
            vm.wait(10)  # poweroff -f
    finally:
        stop = None
        if vm.status == "internal-error":
            stop = f"internal error: {vm.error}"
        elif vm.status == "shutdown" and "BOOT" not in log.host:
            stop = f"guest stopped, exit status {vm.exit_status}"
        stats = vm.stats()
        vm.shutdown("host-qmp-quit")
    wall = time.monotonic() - log.t0
    return _result(log, name, timeout, stop, {"wall_s": wall, "shadow": stats.get("shadow"),
                                              "guest_time_s": stats["cpu"]["guest_time_ns"] / 1e9,
                                              "clock": clock})


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def run(quick: bool, console: Console) -> dict[str, Any]:
    timeout = float(os.environ.get("HVD_BENCH_LINUX_TIMEOUT", "120" if quick else "600"))
    rounds = max(1, int(os.environ.get("HVD_BENCH_LINUX_ROUNDS", "1" if quick else "3")))
    images = _find_images(console)
    if isinstance(images, str):
        console.print(f"[yellow]linux: {images}[/]")
        return {"status": images}
    work = Path(tempfile.mkdtemp(prefix="hvd-bench-linux-"))
    runs: list[dict[str, Any]] = []
    try:
        initrd, real_exec = build_test_initramfs(images["busybox"], work)
        console.print(f"[bold]linux[/]: {images['kernel'].name} + test initramfs "
                      f"({FORKS} fork+exec), deadline {timeout:g} s per run, QEMU and "
                      f"hvd/tlb alternating for {rounds} round{'s' if rounds > 1 else ''}")
        # QEMU and hvd/tlb take turns, so that a host that speeds up or slows down during the
        # run (a shared machine does) moves both sides of the ratio alike
        for k in range(rounds):
            for r in (run_qemu(images, initrd, max(timeout, 60.0)),
                      run_hvd(images, initrd, "tlb", timeout)):
                r["round"] = k + 1
                runs.append(r)
        if not quick:
            runs.append(run_hvd(images, initrd, "tlb", timeout, clock="warp"))
            for mode in ("wp", "native"):
                runs.append(run_hvd(images, initrd, mode, timeout))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def med(engine: str, key: str) -> float | None:
        return _median([r[key] for r in runs if r["engine"] == engine and r.get(key) is not None])

    q_boot, q_fork = med("qemu", "boot_s"), med("qemu", "fork_guest_s")
    table = Table(title="linux: boot to the shell and 200 fork+exec (QEMU -M virt is the "
                        "baseline: its run of the same round, else its median)")
    for col in ("engine", "round", "status", "boot (host wall)", "x QEMU", "uptime at shell",
                "fork+exec x200 (guest)", "x QEMU", "fills", "wp traps"):
        table.add_column(col, justify="left" if col in ("engine", "status") else "right")
    for r in runs:
        q = next((x for x in runs if x["engine"] == "qemu" and "round" in r
                  and x.get("round") == r["round"]), None)
        is_q = r["engine"] == "qemu"
        r["boot_vs_qemu"] = ratio(r.get("boot_s"), q["boot_s"] if q else q_boot)
        r["fork_vs_qemu"] = ratio(r.get("fork_guest_s"), q["fork_guest_s"] if q else q_fork)
        sh = r.get("shadow") or {}
        table.add_row(r["engine"], str(r.get("round", "-")), r["status"],
                      fmt(r.get("boot_s"), ".1f", " s"),
                      "1.00 (base)" if is_q else fmt(r["boot_vs_qemu"], ".2f"),
                      fmt(r.get("boot_guest_uptime_s"), ".1f", " s"),
                      fmt(r.get("fork_guest_s"), ".2f", " s"),
                      "1.00 (base)" if is_q else fmt(r["fork_vs_qemu"], ".2f"),
                      f"{sh['fills']:,}" if "fills" in sh else "-",
                      f"{sh['wp_traps']:,}" if "wp_traps" in sh else "-")
    console.print(table)
    # the targets: medians over the rounds (a run that missed a marker has no figure)
    boot_x = ratio(med("hvd/tlb", "boot_s"), q_boot)
    fork_x = ratio(med("hvd/tlb", "fork_guest_s"), q_fork)
    boot_ok = None if boot_x is None else boot_x <= TARGET
    fork_ok = None if fork_x is None else fork_x <= TARGET
    console.print(f"medians over {rounds} round{'s' if rounds > 1 else ''}: QEMU boot "
                  f"{fmt(q_boot, '.1f', ' s')}, fork+exec {fmt(q_fork, '.2f', ' s')}; hvd/tlb "
                  f"boot {fmt(med('hvd/tlb', 'boot_s'), '.1f', ' s')} ({fmt(boot_x, '.2f')}x), "
                  f"fork+exec {fmt(med('hvd/tlb', 'fork_guest_s'), '.2f', ' s')} "
                  f"({fmt(fork_x, '.2f')}x)")
    console.print(f"targets (shadow/tlb, medians): boot within {TARGET:g}x of QEMU "
                  f"{target_text(boot_ok)}; fork+exec within {TARGET:g}x {target_text(fork_ok)}")
    if not real_exec:
        console.print("[yellow]no ARM cross compiler: the loop ran busybox's /bin/true[/]")
    return {"forks": FORKS, "deadline_s": timeout, "rounds": rounds, "real_exec": real_exec,
            "runs": runs,
            "targets": {"boot_vs_qemu": {"target": TARGET, "value": boot_x, "met": boot_ok},
                        "fork_vs_qemu": {"target": TARGET, "value": fork_x, "met": fork_ok}}}
