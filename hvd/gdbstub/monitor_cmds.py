"""``monitor ...`` commands (the ``qRcmd`` packet): text in, text out.

Commands (unique prefixes of each word are accepted, as in QEMU's monitor)::

    help                 this list
    info registers       every mode's banked registers, the SPSRs and the CP15 state
    info shadow          the memory monitor's statistics (fills, faults, TLB operations, ...)
    info tlb             the guest's current virtual mappings (its own tables, walked)
    phys [on|off]        gdb memory accesses use physical (on) or virtual (off) addresses
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .target import Target

HELP = """\
help              -- show this help
info registers    -- all banked registers, SPSRs and CP15 state
info shadow       -- shadow-paging monitor statistics
info tlb          -- the guest's current virtual mappings
phys [on|off]     -- gdb memory accesses use physical (on) or virtual (off) addresses
"""

_MODES = ("usr", "fiq", "irq", "svc", "abt", "und", "mon")


@dataclass
class MonitorContext:
    target: Target
    phys_mode: bool = False


def _fmt_regs(values: dict[str, int], per_line: int = 4) -> list[str]:
    items = [f"{name:>10}={value & 0xFFFFFFFF:08x}" for name, value in values.items()]
    return [" ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]


def _info_registers(ctx: MonitorContext) -> str:
    banked = ctx.target.banked_registers()
    cp15 = ctx.target.cp15_registers()
    lines = ["Banked registers:"]
    # group by mode suffix so each mode's registers are together
    groups: dict[str, dict[str, int]] = {}
    for name, value in banked.items():
        _, _, mode = name.rpartition("_")
        groups.setdefault(mode if mode in _MODES else "", {})[name] = value
    for mode in ("", *_MODES):
        if mode in groups:
            lines += ["  " + line for line in _fmt_regs(groups[mode])]
    lines.append("CP15:")
    lines += ["  " + line for line in _fmt_regs(cp15, per_line=3)]
    return "\n".join(lines) + "\n"


def _stats_lines(stats: dict[str, object], indent: str = "") -> list[str]:
    width = max((len(str(k)) for k in stats), default=0)
    lines = []
    for k, v in stats.items():
        if isinstance(v, dict):
            lines.append(f"{indent}{k}:")
            lines += _stats_lines(v, indent + "  ")
        else:
            lines.append(f"{indent}{k:<{width}}  {v}")
    return lines


def _info_shadow(ctx: MonitorContext) -> str:
    stats = ctx.target.shadow_stats()
    if not stats:
        return "no shadow statistics\n"
    return "\n".join(_stats_lines(stats)) + "\n"


def _info_tlb(ctx: MonitorContext) -> str:
    text = ctx.target.info_tlb()
    return text if text.endswith("\n") else text + "\n"


def _phys(ctx: MonitorContext, args: list[str]) -> tuple[str, bool]:
    if not args:
        return f"physical memory mode is {'on' if ctx.phys_mode else 'off'}\n", True
    if args[0] in ("on", "1"):
        ctx.phys_mode = True
    elif args[0] in ("off", "0"):
        ctx.phys_mode = False
    else:
        return "usage: phys [on|off]\n", False
    return f"physical memory mode {'on' if ctx.phys_mode else 'off'}\n", True


_INFO: dict[str, Callable[[MonitorContext], str]] = {
    "registers": _info_registers,
    "shadow": _info_shadow,
    "tlb": _info_tlb,
    "mem": _info_tlb,
}


def _pick(word: str, choices: list[str]) -> str | None:
    if word in choices:
        return word
    hits = [c for c in choices if c.startswith(word)]
    return hits[0] if len(hits) == 1 else None


def run_monitor(command: str, ctx: MonitorContext) -> tuple[str, bool]:
    """Run one monitor command line; returns (output text, success)."""
    words = command.split()
    if not words:
        return HELP, True
    cmd = _pick(words[0], ["help", "info", "phys"])
    try:
        if cmd == "help":
            return HELP, True
        if cmd == "phys":
            return _phys(ctx, words[1:])
        if cmd == "info":
            what = _pick(words[1], list(_INFO)) if len(words) > 1 else None
            if what is None:
                return "info what? registers, shadow or tlb\n", False
            return _INFO[what](ctx), True
    except Exception as exc:  # noqa: BLE001 - a monitor command must not end the session
        return f"monitor command failed: {exc}\n", False
    return f"unknown command: {words[0]!r} (try 'monitor help')\n", False
