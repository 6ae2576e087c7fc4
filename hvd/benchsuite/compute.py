"""``hvd bench compute``: a compute-bound guest loop under hvd against the same code bytes on raw
Unicorn in the same process, and QEMU's wall time for the same guest when it is installed.

The loop (``guests/bench_compute.S``, ``bench_loop``) runs exactly ``BODY_INSNS`` instructions
per iteration, so instructions = iterations x BODY_INSNS (the few fixed instructions around it
are left out of both sides). hvd's time is taken between the guest's "@B" and "@E" semihosting
markers; raw Unicorn's is one ``emu_start`` from ``bench_loop`` to its ``bx lr`` with no hooks.
"""

from __future__ import annotations

import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from .common import fmt, parse_values, ratio, run_guest, target_text

BODY_INSNS = 10          # instructions per iteration of bench_loop (see the guest's comments)
TARGET_RATIO = 0.9       # hvd MIPS / raw Unicorn MIPS
GUEST = "bench_compute"


def _symbols(elf: Path) -> dict[str, int]:
    out = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True,
                         check=True).stdout
    syms: dict[str, int] = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3:
            syms[parts[2]] = int(parts[0], 16)
    return syms


def raw_unicorn_seconds(elf: Path, iters: int, buf_addr: int) -> tuple[float, int]:
    """Run bench_loop's bytes on a bare Unicorn (Cortex-A8 model, RAM mapped, no hooks, MMU
    off); returns (seconds, checksum)."""
    from unicorn import UC_ARCH_ARM, UC_MODE_ARM, Uc
    from unicorn.arm_const import (UC_ARM_REG_R0, UC_ARM_REG_R1, UC_ARM_REG_SP,
                                   UC_CPU_ARM_CORTEX_A8)

    from hvd.loader import load_guest

    syms = _symbols(elf)
    start, end = syms["bench_loop"], syms["bench_loop_end"]
    ram_base = start & 0xFF000000
    ram_size = 8 << 20
    boot = load_guest(elf, ram_base=ram_base, ram_size=ram_size, load_addr=None, entry=None,
                      dtb=None, initrd=None, append=None)
    uc = Uc(UC_ARCH_ARM, UC_MODE_ARM)
    uc.ctl_set_cpu_model(UC_CPU_ARM_CORTEX_A8)
    uc.mem_map(ram_base, ram_size)
    for seg in boot.segments:  # the same code bytes hvd runs
        uc.mem_write(seg.addr, bytes(seg.data))
    uc.reg_write(UC_ARM_REG_SP, ram_base + 0xF0000)
    uc.reg_write(UC_ARM_REG_R0, iters)
    uc.reg_write(UC_ARM_REG_R1, buf_addr)
    t0 = time.perf_counter()
    uc.emu_start(start, end)
    dt = time.perf_counter() - t0
    return dt, uc.reg_read(UC_ARM_REG_R0) & 0xFFFFFFFF


def qemu_seconds(iters: int) -> dict[str, Any] | None:
    from hvd.testing.guestbuild import build_guest
    from hvd.testing.qemu import qemu_available, run_qemu

    if not qemu_available():
        return None
    def timed(n: int) -> tuple[float, int, str]:
        elf = build_guest(GUEST, "vexpress", {"ITERS": n})
        t0 = time.perf_counter()
        status, out = run_qemu(elf, timeout=120)
        return time.perf_counter() - t0, status, out

    wall, status, out = timed(iters)
    empty, _status, _out = timed(1)  # the same run with a 1-iteration loop: QEMU's start-up
    return {"wall_s_whole_run": wall, "wall_s_empty_run": empty,
            "loop_s_estimate": max(wall - empty, 1e-9), "status": status,
            "checksum": parse_values(out).get("checksum")}


def run(quick: bool, console: Console) -> dict[str, Any]:
    from hvd.testing.guestbuild import PLATFORMS, build_guest

    iters = 1_000_000 if quick else 10_000_000
    reps = 1 if quick else 3
    insns = iters * BODY_INSNS
    elf = build_guest(GUEST, "beagle", {"ITERS": iters})
    buf = PLATFORMS["beagle"].ram_base + 0x200000  # TPAGE(0)
    console.print(f"[bold]compute[/]: {iters:,} iterations x {BODY_INSNS} instructions "
                  f"= {insns:,} instructions, best of {reps}")

    raw_times = []
    raw_sum = None
    for _ in range(reps):
        dt, raw_sum = raw_unicorn_seconds(elf, iters, buf)
        raw_times.append(dt)
    raw_s = min(raw_times)
    rows: dict[str, Any] = {"raw-unicorn": {"seconds": raw_s, "mips": insns / raw_s / 1e6,
                                            "checksum": f"0x{raw_sum:08x}",
                                            "samples": raw_times}}
    for mode in ("tlb", "native"):
        times, last = [], None
        for _ in range(reps):
            r, _vm = run_guest(elf, mode, timeout=120)
            last = r
            if r.status == "ok" and r.span() is not None:
                times.append(r.span())
        entry: dict[str, Any] = {"status": last.status, "samples": times,
                                 "checksum": parse_values(last.output).get("checksum")}
        if times:
            s = min(times)
            entry.update(seconds=s, mips=insns / s / 1e6, ratio_to_raw=ratio(raw_s, s),
                         median_seconds=statistics.median(times))
        entry["shadow"] = {k: last.stats["shadow"].get(k, 0)
                           for k in ("fills", "hidden_faults", "tlb_ops", "hooks")}
        rows[f"hvd/{mode}"] = entry
    q = qemu_seconds(iters)
    if q is not None:
        rows["qemu-vexpress-a9"] = q

    table = Table(title=f"compute: {insns / 1e6:.0f}M guest instructions "
                        "(hvd vs raw Unicorn, same process, same code bytes)")
    table.add_column("engine")
    table.add_column("time", justify="right")
    table.add_column("MIPS", justify="right")
    table.add_column("vs raw Unicorn", justify="right")
    table.add_column("checksum")
    table.add_row("raw Unicorn (no hooks)", fmt(raw_s, ".3f", " s"),
                  fmt(rows["raw-unicorn"]["mips"], ".1f"), "1.00 (baseline)",
                  rows["raw-unicorn"]["checksum"])
    for mode in ("tlb", "native"):
        e = rows[f"hvd/{mode}"]
        table.add_row(f"hvd --mmu {'shadow/tlb' if mode == 'tlb' else 'native'}",
                      fmt(e.get("seconds"), ".3f", " s") if "seconds" in e else e["status"],
                      fmt(e.get("mips"), ".1f"), fmt(e.get("ratio_to_raw"), ".2f"),
                      str(e.get("checksum")))
    if q is not None:
        table.add_row("QEMU vexpress-a9 (wall time of the whole run)",
                      fmt(q["wall_s_whole_run"], ".3f", " s"),
                      fmt(insns / q["wall_s_whole_run"] / 1e6, ".1f") + "*",
                      fmt(ratio(raw_s, q["wall_s_whole_run"]), ".2f") + "*", str(q["checksum"]))
        est = q["loop_s_estimate"]
        if est < 0.2 * q["wall_s_whole_run"]:
            q["loop_s_estimate"] = None
            table.add_row("QEMU, loop alone", "too short to tell", "-", "-", "")
        else:
            table.add_row("QEMU, loop alone (whole run - run of a 1-iteration loop)",
                          fmt(est, ".3f", " s") + "*", fmt(insns / est / 1e6, ".1f") + "*",
                          fmt(ratio(raw_s, est), ".2f") + "*", "")
    else:
        table.add_row("QEMU", "not installed", "-", "-", "-")
    console.print(table)
    tlb_ratio = rows["hvd/tlb"].get("ratio_to_raw")
    ok = None if tlb_ratio is None else tlb_ratio >= TARGET_RATIO
    console.print(f"target: hvd (shadow/tlb) >= {TARGET_RATIO} x raw Unicorn: "
                  f"{fmt(tlb_ratio, '.2f')} {target_text(ok)}")
    if q is not None:
        console.print("* QEMU: wall time of whole qemu-system-arm runs (start-up included); the "
                      "loop-alone figure is the difference of two such runs, a rough estimate")
    return {"iterations": iters, "instructions": insns, "body_insns": BODY_INSNS,
            "repetitions": reps, "results": rows,
            "targets": {"hvd_over_raw": {"target": TARGET_RATIO, "value": tlb_ratio, "met": ok}}}
