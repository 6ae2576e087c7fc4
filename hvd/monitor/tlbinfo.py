"""``info tlb``: the guest's current mappings, walked from its own translation tables (like QEMU's
``info tlb``), with neither the shadow nor Unicorn's TLB touched. Contiguous mappings with the
same attributes are merged into one line."""

from __future__ import annotations

from .walker import RWX, Fault, walk


def _perm_str(p: int) -> str:
    return ("r" if p & 1 else "-") + ("w" if p & 2 else "-") + ("x" if p & 4 else "-")


def iter_mappings(mmu, limit: int = 1 << 32):
    """Yield (va, size, pa, pl1, pl0, global, domain) for every valid mapping, in VA order."""
    cpsr, sctlr, ttbr0, ttbr1, ttbcr, dacr, ctx = mmu.state.read()
    if not sctlr & 1:
        return
    regs = dict(ttbr0=ttbr0, ttbr1=ttbr1, ttbcr=ttbcr, dacr=dacr, contextidr=ctx, sctlr=sctlr)
    va = 0
    while va < limit:
        r = walk(va, read32=mmu.read32, access=1, pl=1, **{**regs, "dacr": 0xFFFFFFFF})
        if isinstance(r, Fault):
            va += 0x1000 if r.level == 2 else 0x100000 - (va & 0xFFFFF)
            continue
        step = 0x1000 if r.level == 2 else 0x100000
        d = (dacr >> (2 * r.domain)) & 3
        pl1, pl0 = (RWX, RWX) if d == 3 else ((r.client_pl1, r.client_pl0) if d == 1 else (0, 0))
        yield va, step, r.pa - (va - (va & ~(step - 1))), pl1, pl0, r.global_, r.domain
        va += step


def info_tlb(mmu) -> str:
    lines = []
    run = None
    for va, size, pa, p1, p0, g, dom in iter_mappings(mmu):
        key = (p1, p0, g, dom)
        if run is not None and run[0] + run[1] == va and run[2] + run[1] == pa and run[3] == key:
            run[1] += size
            continue
        if run is not None:
            lines.append(_fmt(run))
        run = [va, size, pa, key]
    if run is not None:
        lines.append(_fmt(run))
    if not lines:
        return "MMU off or no valid mappings\n"
    header = f"{'virtual':<23} {'physical':<12} {'PL1':<4} {'PL0':<4} {'dom':>3}  scope"
    return header + "\n" + "\n".join(lines) + "\n"


def _fmt(run) -> str:
    va, size, pa, (p1, p0, g, dom) = run
    return (f"{va:08x}-{va + size - 1:08x}       {pa:010x}   {_perm_str(p1):<4} {_perm_str(p0):<4} "
            f"{dom:>3}  {'global' if g else 'asid'}")
