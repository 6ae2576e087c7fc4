"""``monitor info tlb`` when the memory monitor offers no listing of its own: probe the guest's
tables with the monitor's walker (no side effects) and print the mappings, merged where they are
virtually and physically contiguous with the same attributes (like QEMU's ``info tlb``)."""

from __future__ import annotations

from hvd.monitor.walker import Fault, Translation

MAX_LINES = 4096
_SECTION = 1 << 20


def _perm(bits: int) -> str:
    return "".join(c if bits & b else "-" for c, b in (("r", 1), ("w", 2), ("x", 4)))


def _attrs(t: Translation) -> str:
    g = "G" if t.global_ else f"asid={t.asid}"
    return f"{t.kind:<12} pl1={_perm(t.client_pl1)} pl0={_perm(t.client_pl0)} dom={t.domain:<2} {g}"


def list_mappings(mmu) -> str:
    probe = getattr(mmu, "walk_current", None)
    if probe is None:
        return "no translation information for this MMU\n"
    first = probe(0, 0, 1)
    if isinstance(first, Translation) and first.level == 0:
        return "MMU off: virtual addresses are physical addresses\n"
    rows: list[list] = []   # [va, size, pa, attrs]
    va = 0
    while va < 0x1_0000_0000 and len(rows) < MAX_LINES:
        r = probe(va, 0, 1)
        if isinstance(r, Fault):
            # a first-level fault skips the whole section; a page fault one page
            step = _SECTION if r.level <= 1 else 0x1000
            va = (va + step) & ~(step - 1)
            continue
        attrs = _attrs(r)
        base = r.va_base
        if rows and rows[-1][0] + rows[-1][1] == base and rows[-1][3] == attrs \
                and rows[-1][2] + rows[-1][1] == r.pa_base:
            rows[-1][1] += r.size
        else:
            rows.append([base, r.size, r.pa_base, attrs])
        va = base + r.size
    if not rows:
        return "no valid mappings\n"
    lines = [f"{'virtual':<17}    {'physical':<9} {'size':>8}  attributes"]
    for base, size, pa, attrs in rows:
        lines.append(f"{base:08x}-{base + size - 1:08x} -> {pa:09x} {size // 1024:>7}K  {attrs}")
    return "\n".join(lines) + "\n"
