"""Test support: a fake guest RAM and a slow reference decoder written from the manual.

The reference decoder is deliberately independent of hvd.monitor.walker: it parses descriptors
with the construct declarations (not the walker's masks), spells the permission tables out as in
the ARM ARM (B3.7.1 and the simplified model of B3.7.3) and follows the pseudocode's order
(TranslationTableWalkSD, then CheckDomain, then CheckPermission).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from hvd.monitor import descriptors as D

_parse_l1 = lru_cache(maxsize=65536)(D.parse_l1)
_parse_l2 = lru_cache(maxsize=65536)(D.parse_l2)

RAM_BASE = 0x8000_0000
RAM_SIZE = 0x0010_0000
MMIO_BASE = 0x4800_0000      # reads return garbage
MMIO_SIZE = 0x0010_0000


@dataclass
class FakeRam:
    """Word-addressed sparse RAM; outside RAM and MMIO a read is an external abort (None)."""

    words: dict[int, int] = field(default_factory=dict)
    reads: list[int] = field(default_factory=list)
    log: bool = False

    def read32(self, pa: int) -> int | None:
        if self.log:
            self.reads.append(pa)
        if RAM_BASE <= pa < RAM_BASE + RAM_SIZE:
            return self.words.get(pa & ~3, 0)
        if MMIO_BASE <= pa < MMIO_BASE + MMIO_SIZE:
            return (pa * 0x9E3779B1 + 0x7F4A7C15) & 0xFFFFFFFF  # garbage, deterministic
        return None

    def write32(self, pa: int, value: int) -> None:
        self.words[pa & ~3] = value & 0xFFFFFFFF


@dataclass
class Regs:
    ttbr0: int = RAM_BASE
    ttbr1: int = RAM_BASE + 0x4000
    ttbcr: int = 0
    dacr: int = 0x5555_5555
    contextidr: int = 0
    sctlr: int = 1

    def kw(self) -> dict[str, int]:
        return dict(ttbr0=self.ttbr0, ttbr1=self.ttbr1, ttbcr=self.ttbcr, dacr=self.dacr,
                    contextidr=self.contextidr, sctlr=self.sctlr)


# --- reference decoder ---------------------------------------------------------------------------

# AP[2:0] -> (PL1 access, PL0 access) in a client domain. "" no access, "r" read, "rw".
FULL_AP = {
    0b000: ("", ""), 0b001: ("rw", ""), 0b010: ("rw", "r"), 0b011: ("rw", "rw"),
    0b100: ("", ""),  # reserved
    0b101: ("r", ""), 0b110: ("r", "r"), 0b111: ("r", "r"),
}
# Simplified model (SCTLR.AFE = 1): AP[2:1] -> access.
SIMPLE_AP = {0b00: ("rw", ""), 0b01: ("rw", "rw"), 0b10: ("r", ""), 0b11: ("r", "r")}


@dataclass
class RefOk:
    pa: int
    va_base: int
    size: int
    global_: bool
    domain: int
    sources: tuple[int, ...]


@dataclass
class RefFault:
    fs: int
    domain: int


def ref_walk(ram: FakeRam, regs: Regs, va: int, access: str, privileged: bool) -> RefOk | RefFault:
    """access is "r", "w" or "x"; returns the outcome the manual describes."""
    if regs.sctlr & 1 == 0:
        return RefOk(va, 0, 1 << 32, True, 0, ())
    n = regs.ttbcr & 7
    use_ttbr1 = n != 0 and (va >> (32 - n)) != 0
    if use_ttbr1:
        if regs.ttbcr & (1 << 5):
            return RefFault(0x5, 0)
        base_bits = regs.ttbr1 >> 14           # TTBR1[31:14]
        l1_addr = (base_bits << 14) | (((va >> 20) & 0xFFF) << 2)
    else:
        if regs.ttbcr & (1 << 4):
            return RefFault(0x5, 0)
        base_bits = regs.ttbr0 >> (14 - n)     # TTBR0[31:14-N]
        index = (va >> 20) & ((1 << (12 - n)) - 1)   # VA[31-N:20]
        l1_addr = (base_bits << (14 - n)) | (index << 2)
    word = ram.read32(l1_addr)
    if word is None:
        return RefFault(0xC, 0)
    kind, f = _parse_l1(word)
    afe = bool(regs.sctlr & (1 << 29))
    if kind in (D.FAULT, D.RESERVED):
        return RefFault(0x5, 0)
    if kind == D.PAGE_TABLE:
        domain = f.domain
        l2_addr = (f.base << 10) | (((va >> 12) & 0xFF) << 2)
        w2 = ram.read32(l2_addr)
        if w2 is None:
            return RefFault(0xE, domain)
        kind2, g = _parse_l2(w2)
        if kind2 == D.FAULT:
            return RefFault(0x7, domain)
        if afe and g.ap & 1 == 0:
            return RefFault(0x6, domain)
        if kind2 == D.LARGE:
            size = 64 * 1024
            pa = (g.base << 16) | (va & 0xFFFF)
        else:
            size = 4 * 1024
            pa = (g.base << 12) | (va & 0xFFF)
        ap, xn, ng, level = (g.apx << 2) | g.ap, g.xn, g.ng, 2
        sources: tuple[int, ...] = (l1_addr, l2_addr)
    else:
        if kind == D.SUPERSECTION:
            domain = 0
            size = 16 * 1024 * 1024
            pa = (f.base << 24) | (va & 0xFFFFFF) | (f.base_35_32 << 32) | (f.base_39_36 << 36)
        else:
            domain = f.domain
            size = 1024 * 1024
            pa = (f.base << 20) | (va & 0xFFFFF)
        if afe and f.ap & 1 == 0:
            return RefFault(0x3, domain)
        ap, xn, ng, level = (f.apx << 2) | f.ap, f.xn, f.ng, 1
        sources = (l1_addr,)
    # CheckDomain
    dbits = (regs.dacr >> (2 * domain)) & 3
    if dbits in (0b00, 0b10):
        return RefFault(0x9 if level == 1 else 0xB, domain)
    if dbits == 0b01 and access:
        # CheckPermission
        if afe:
            pl1, pl0 = SIMPLE_AP[ap >> 1]
        else:
            pl1, pl0 = FULL_AP[ap]
        allowed = pl1 if privileged else pl0
        if access == "x":
            ok = "r" in allowed and not xn
        else:
            ok = access in allowed
        if not ok:
            return RefFault(0xD if level == 1 else 0xF, domain)
    va_base = va & ~(size - 1) & 0xFFFFFFFF
    return RefOk(pa, va_base, size, not ng, domain, sources)


def examples(n: int) -> int:
    """Hypothesis example count: ``n`` by default, scaled by HVD_HYPOTHESIS_SCALE for deep runs."""
    import os

    return max(1, int(n * float(os.environ.get("HVD_HYPOTHESIS_SCALE", "1"))))
