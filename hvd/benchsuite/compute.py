"""``hvd bench compute``: a compute-bound guest loop under hvd against the same code bytes on raw
Unicorn in the same process, and QEMU's wall time for the same guest when it is installed.

The loop (``guests/bench_compute.S``, ``bench_loop``) runs exactly ``BODY_INSNS`` instructions
per iteration, so instructions = iterations x BODY_INSNS (the few fixed instructions around it
are left out of both sides). hvd's time is taken between the guest's "@B" and "@E" semihosting
markers; raw Unicorn's is one ``emu_start`` from ``bench_loop`` to its ``bx lr`` with no hooks.
"""

from __future__ import annotations

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


def raw_unicorn_seconds(elf: Path, iters: int, buf_addr: int) -> tuple[float, float, int]:
    """Run bench_loop's bytes on a bare Unicorn (Cortex-A8 model, RAM mapped, no hooks, MMU
    off); returns (wall seconds, thread CPU seconds, checksum)."""
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
    c0 = time.thread_time()
    t0 = time.perf_counter()
    uc.emu_start(start, end)
    dt = time.perf_counter() - t0
    dc = time.thread_time() - c0
    return dt, dc, uc.reg_read(UC_ARM_REG_R0) & 0xFFFFFFFF


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

    # interleaved repetitions (raw, tlb, native, raw, ...) so that a burst of load on the host
    # hits every engine alike; the figure kept is the best of each, in vCPU-thread CPU time
    engines = ("raw-unicorn", "hvd/tlb", "hvd/native")
    samples: dict[str, list[tuple[float, float]]] = {e: [] for e in engines}
    info: dict[str, dict[str, Any]] = {e: {"status": "ok"} for e in engines}
    for _ in range(reps):
        wall, cpu, raw_sum = raw_unicorn_seconds(elf, iters, buf)
        samples["raw-unicorn"].append((cpu, wall))
        info["raw-unicorn"]["checksum"] = f"0x{raw_sum:08x}"
        for mode in ("tlb", "native"):
            r, _vm = run_guest(elf, mode, timeout=120)
            e = info[f"hvd/{mode}"]
            e["status"] = r.status
            e["checksum"] = parse_values(r.output).get("checksum")
            e["shadow"] = {k: r.stats["shadow"].get(k, 0)
                           for k in ("fills", "hidden_faults", "tlb_ops", "hooks")}
            if r.status == "ok" and r.cpu_span() is not None:
                samples[f"hvd/{mode}"].append((r.cpu_span(), r.span()))
    rows: dict[str, Any] = {}
    for e in engines:
        entry = dict(info[e])
        entry["samples_cpu_s"] = [c for c, _w in samples[e]]
        entry["samples_wall_s"] = [w for _c, w in samples[e]]
        if samples[e]:
            entry["cpu_s"] = min(entry["samples_cpu_s"])
            entry["wall_s"] = min(entry["samples_wall_s"])
            entry["mips"] = insns / entry["cpu_s"] / 1e6
            entry["mips_wall"] = insns / entry["wall_s"] / 1e6
        rows[e] = entry
    raw_s = rows["raw-unicorn"].get("cpu_s")
    for e in engines:
        rows[e]["ratio_to_raw"] = ratio(raw_s, rows[e].get("cpu_s"))
        rows[e]["ratio_to_raw_wall"] = ratio(rows["raw-unicorn"].get("wall_s"),
                                             rows[e].get("wall_s"))
    q = qemu_seconds(iters)
    if q is not None:
        rows["qemu-vexpress-a9"] = q

    table = Table(title=f"compute: {insns / 1e6:.0f}M guest instructions "
                        "(hvd vs raw Unicorn, same process, same code bytes)")
    for col in ("engine", "CPU time", "MIPS", "vs raw Unicorn", "wall time", "MIPS (wall)",
                "checksum"):
        table.add_column(col, justify="left" if col in ("engine", "checksum") else "right")
    labels = {"raw-unicorn": "raw Unicorn (no hooks)", "hvd/tlb": "hvd --mmu shadow/tlb",
              "hvd/native": "hvd --mmu native"}
    for e in engines:
        r = rows[e]
        if "cpu_s" not in r:
            table.add_row(labels[e], r["status"], "-", "-", "-", "-", str(r.get("checksum")))
            continue
        table.add_row(labels[e], fmt(r["cpu_s"], ".3f", " s"), fmt(r["mips"], ".1f"),
                      "1.00 (base)" if e == "raw-unicorn" else fmt(r["ratio_to_raw"], ".2f"),
                      fmt(r["wall_s"], ".3f", " s"), fmt(r["mips_wall"], ".1f"),
                      str(r.get("checksum")))
    if q is not None:
        table.add_row("QEMU vexpress-a9 (whole run)*", "-", "-", "-",
                      fmt(q["wall_s_whole_run"], ".3f", " s"),
                      fmt(insns / q["wall_s_whole_run"] / 1e6, ".1f"), str(q["checksum"]))
        est = q["loop_s_estimate"]
        if est < 0.2 * q["wall_s_whole_run"]:
            q["loop_s_estimate"] = None
            table.add_row("QEMU, loop alone*", "-", "-", "-", "too short to tell", "-", "")
        else:
            table.add_row("QEMU, loop alone (estimate)*", "-", "-", "-", fmt(est, ".3f", " s"),
                          fmt(insns / est / 1e6, ".1f"), "")
    else:
        table.add_row("QEMU", "not installed", "-", "-", "-", "-", "-")
    console.print(table)
    tlb_ratio = rows["hvd/tlb"].get("ratio_to_raw")
    agree = len({rows[e].get("checksum") for e in engines}) == 1
    ok = None if tlb_ratio is None else tlb_ratio >= TARGET_RATIO
    console.print(f"target: hvd (shadow/tlb) >= {TARGET_RATIO} x raw Unicorn: "
                  f"{fmt(tlb_ratio, '.2f')} {target_text(ok)}")
    if q is not None:
        console.print("* QEMU: wall time of whole qemu-system-arm runs (start-up included); the "
                      "loop-alone figure is the difference between this run and one of a "
                      "1-iteration loop, a rough estimate")
    console.print("CPU time: the emulating thread's CPU time between the guest's markers (raw "
                  "Unicorn: around emu_start), best of the repetitions; MIPS from it")
    if not agree:
        console.print("[red]the checksums differ: an engine computed something else[/]")
    return {"iterations": iters, "instructions": insns, "body_insns": BODY_INSNS,
            "checksums_agree": agree,
            "repetitions": reps, "results": rows,
            "targets": {"hvd_over_raw": {"target": TARGET_RATIO, "value": tlb_ratio, "met": ok}}}
