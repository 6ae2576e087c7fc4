"""The guest translation table walker: the project's only one (ARMv7 short-descriptor, VMSAv7).

``walk()`` does what the Cortex-A8's MMU does on a TLB miss, for one access, and returns either a
:class:`Translation` (the mapping, with the permissions for both privilege levels) or the
:class:`Fault` the architecture requires. It never raises for anything a guest can put in its
tables or registers; a descriptor read that ``read32`` cannot satisfy (it returns ``None``) is the
synchronous external abort on translation table walk.

Order of checks. This follows the manual's pseudocode (ARM ARM DDI 0406C:
``TranslateAddressV()`` calls ``TranslationTableWalkSD()``, then ``CheckDomain()``, then
``CheckPermission()``) and its description of the fault-checking sequence (B3.12):

1. SCTLR.M = 0: flat mapping, VA = PA, no checks (B3.2).
2. TTBR selection by TTBCR.N; TTBCR.PD0/PD1 set -> section translation fault (B3.5,
   "Selecting between TTBR0 and TTBR1").
3. First-level read (external abort 0xC), fault or reserved encoding -> translation fault 0x5.
4. Page table: second-level read (external abort 0xE), fault -> translation fault 0x7.
5. SCTLR.AFE = 1 and AP[0] = 0 -> access flag fault 0x3/0x6. This is part of the walk, so it
   comes before the domain check and happens in every domain (B3.7.3, "Access flag").
6. Domain (B3.7.3, and DACR in B4.1): 0b00 no access and 0b10 (reserved) -> domain fault 0x9/0xB;
   0b11 manager -> no permission checks at all.
7. Client: AP[2:0] (B3.7.1; the simplified model of B3.7.3 when AFE = 1) and XN
   (B3.7.2) -> permission fault 0xD/0xF.

Manager domains and XN: B3.7.2 ("Execute-never restrictions on instruction fetching") says that
XN is not checked in Manager domains; in the pseudocode a Manager domain skips
``CheckPermission()``, which is where XN is checked. QEMU (the project's referee) agrees.

Where QEMU 5 (inside Unicorn 2.1.4) differs from the manual, this module follows the manual:
QEMU checks the domain before it reads the second-level descriptor (so a page table in a
no-access domain gives 0xB where the manual gives 0x7 or 0xE for an invalid or unreadable
second-level entry), and QEMU checks the access flag only in client domains and after XN.

Other notes: there is no PXN on the Cortex-A8 (first-level 0b11 is reserved); TTBCR.EAE is
ignored (no LPAE); SCTLR.TRE and TEX/C/B/S only change memory attributes, which the monitor
carries but does not use; SCTLR.EE (big-endian tables) is not supported: ``read32`` returns the
word as the guest's little-endian memory holds it. Supersections may name PA[39:32]; the walker
reports the full 40-bit address and the board has nothing there, so an access becomes an external
abort for the caller to raise.
"""

from __future__ import annotations

from typing import Callable, Optional

# Permission bits: identical to Unicorn's UC_PROT_READ/WRITE/EXEC.
R = 1
W = 2
X = 4
RWX = R | W | X

# Unicorn's uc_mem_type of a TLB fill -> access bit.
UC_MEM_READ = 16
UC_MEM_WRITE = 17
UC_MEM_FETCH = 18
UC_ACCESS = {UC_MEM_READ: R, UC_MEM_WRITE: W, UC_MEM_FETCH: X}

PL0 = 0
PL1 = 1

# Short-descriptor fault status codes (B3.13, "Exception reporting in a VMSA implementation").
FS_ALIGNMENT = 0x01
FS_ACCESS_FLAG_SECTION = 0x03
FS_ACCESS_FLAG_PAGE = 0x06
FS_TRANSLATION_SECTION = 0x05
FS_TRANSLATION_PAGE = 0x07
FS_EXTERNAL = 0x08
FS_DOMAIN_SECTION = 0x09
FS_DOMAIN_PAGE = 0x0B
FS_WALK_EXTERNAL_L1 = 0x0C
FS_WALK_EXTERNAL_L2 = 0x0E
FS_PERMISSION_SECTION = 0x0D
FS_PERMISSION_PAGE = 0x0F

FS_NAMES = {
    FS_ALIGNMENT: "alignment", FS_ACCESS_FLAG_SECTION: "access flag (section)",
    FS_ACCESS_FLAG_PAGE: "access flag (page)", FS_TRANSLATION_SECTION: "translation (section)",
    FS_TRANSLATION_PAGE: "translation (page)", FS_EXTERNAL: "synchronous external abort",
    FS_DOMAIN_SECTION: "domain (section)", FS_DOMAIN_PAGE: "domain (page)",
    FS_WALK_EXTERNAL_L1: "external abort on walk (level 1)",
    FS_WALK_EXTERNAL_L2: "external abort on walk (level 2)",
    FS_PERMISSION_SECTION: "permission (section)", FS_PERMISSION_PAGE: "permission (page)",
}

# Register bits the walker uses.
SCTLR_M = 1 << 0
SCTLR_TRE = 1 << 28
SCTLR_AFE = 1 << 29
TTBCR_N = 0x7
TTBCR_PD0 = 1 << 4
TTBCR_PD1 = 1 << 5

# Mapping kinds (same strings as hvd.monitor.descriptors).
FLAT = "flat"
SECTION = "section"
SUPERSECTION = "supersection"
LARGE = "large"
SMALL = "small"

_RW = R | W


def _perm_table(simplified: bool) -> tuple[tuple[int, int], ...]:
    """(PL1 R/W, PL0 R/W) for AP[2:0] = 0..7 in a client domain, before XN."""
    if simplified:  # B3.7.3: AP[2:1] only; AP[0] is the Access flag
        by_ap21 = ((_RW, 0), (_RW, _RW), (R, 0), (R, R))
        return tuple(by_ap21[ap >> 1] for ap in range(8))
    # B3.7.1. 0b100 is reserved: treated as no access (as QEMU does).
    return ((0, 0), (_RW, 0), (_RW, R), (_RW, _RW), (0, 0), (R, 0), (R, R), (R, R))


_AP_FULL = _perm_table(False)
_AP_SIMPLE = _perm_table(True)


def client_perms(ap3: int, xn: bool, afe: bool) -> tuple[int, int]:
    """Permissions (PL1, PL0) a client domain grants for AP[2:0] = ``ap3`` and XN.

    An instruction fetch needs read permission at that level and XN clear (B3.7.2).
    """
    pl1, pl0 = (_AP_SIMPLE if afe else _AP_FULL)[ap3]
    if not xn:
        if pl1:
            pl1 |= X
        if pl0:
            pl0 |= X
    return pl1, pl0


class Fault:
    """An abort the guest must take: fault status, domain, direction and address."""

    __slots__ = ("fs", "domain", "is_write", "is_fetch", "va", "level")

    def __init__(self, fs: int, domain: int, is_write: bool, is_fetch: bool, va: int,
                 level: int = 1) -> None:
        self.fs = fs
        self.domain = domain
        self.is_write = is_write
        self.is_fetch = is_fetch
        self.va = va & 0xFFFFFFFF
        self.level = level

    def dfsr(self) -> int:
        """The DFSR value (B4.1, "DFSR"): FS[4] in bit 10, FS[3:0], Domain in [7:4], WnR in 11."""
        fs = self.fs
        return (((fs & 0x10) << 6) | (fs & 0xF) | ((self.domain & 0xF) << 4)
                | (0x800 if self.is_write else 0))

    def ifsr(self) -> int:
        """The IFSR value (B4.1, "IFSR"): FS[4] in bit 10, FS[3:0].

        IFSR[7:4] are UNK in the manual; QEMU writes the domain there and so do we, so that a
        guest printing its IFSR shows the same value under hvd and under QEMU.
        """
        fs = self.fs
        return ((fs & 0x10) << 6) | (fs & 0xF) | ((self.domain & 0xF) << 4)

    def fsr(self) -> int:
        """IFSR for an instruction fetch, DFSR otherwise."""
        return self.ifsr() if self.is_fetch else self.dfsr()

    @property
    def name(self) -> str:
        return FS_NAMES.get(self.fs, f"fs {self.fs:#x}")

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Fault) and self.fs == other.fs and self.domain == other.domain
                and self.is_write == other.is_write and self.is_fetch == other.is_fetch
                and self.va == other.va)

    def __hash__(self) -> int:
        return hash((self.fs, self.domain, self.va))

    def __repr__(self) -> str:
        kind = "fetch" if self.is_fetch else ("write" if self.is_write else "read")
        return (f"Fault({self.name}, fs={self.fs:#x}, domain={self.domain}, {kind}, "
                f"va={self.va:#010x})")


class Translation:
    """One guest mapping, as found by a walk.

    ``va_base``/``size`` are the architectural extent of the mapping (16 MiB, 1 MiB, 64 KiB or
    4 KiB), the extent a TLB entry for it would have. ``pa`` is the physical address of the ``va``
    that was walked; ``pa_base`` that of ``va_base``. ``client_pl1``/``client_pl0`` are the R/W/X
    bits the descriptor grants in a client domain; ``perms_pl1``/``perms_pl0`` are what the DACR of
    the walk gave (client: the same, manager: RWX). ``sources`` are the physical addresses of the
    descriptors read (first level, then second level). ``level`` is 1 for sections and
    supersections, 2 for pages, 0 for the flat (MMU off) mapping.
    """

    __slots__ = ("va", "va_base", "size", "pa", "pa_base", "kind", "level", "domain",
                 "client_pl1", "client_pl0", "perms_pl1", "perms_pl0", "global_", "asid",
                 "sources", "tex", "c", "b", "s", "ns")

    def __init__(self, va: int, va_base: int, size: int, pa: int, kind: str, level: int,
                 domain: int, client_pl1: int, client_pl0: int, perms_pl1: int, perms_pl0: int,
                 global_: bool, asid: int, sources: tuple[int, ...], tex: int = 0, c: int = 0,
                 b: int = 0, s: int = 0, ns: int = 0) -> None:
        self.va = va
        self.va_base = va_base
        self.size = size
        self.pa = pa
        self.pa_base = pa - (va - va_base)
        self.kind = kind
        self.level = level
        self.domain = domain
        self.client_pl1 = client_pl1
        self.client_pl0 = client_pl0
        self.perms_pl1 = perms_pl1
        self.perms_pl0 = perms_pl0
        self.global_ = global_
        self.asid = asid
        self.sources = sources
        self.tex = tex
        self.c = c
        self.b = b
        self.s = s
        self.ns = ns

    def perms(self, pl: int) -> int:
        return self.perms_pl1 if pl else self.perms_pl0

    @property
    def cover_base(self) -> int:
        """Start of the VA range whose walk reads exactly these descriptors."""
        return self.va & (0xFFFFF000 if self.level == 2 else 0xFFF00000)

    @property
    def cover_size(self) -> int:
        return 0x1000 if self.level == 2 else 0x100000

    def paddr(self, va: int) -> int:
        """Physical address of any ``va`` inside this mapping."""
        return self.pa_base + (va - self.va_base)

    def __repr__(self) -> str:
        g = "global" if self.global_ else f"asid={self.asid}"
        return (f"Translation({self.kind}, va={self.va:#010x} base={self.va_base:#010x}"
                f"+{self.size:#x} -> pa={self.pa:#x}, dom={self.domain}, "
                f"pl1={self.perms_pl1:03b} pl0={self.perms_pl0:03b}, {g}, "
                f"src={[hex(a) for a in self.sources]})")


Read32 = Callable[[int], Optional[int]]


def walk(va: int, *, read32: Read32, ttbr0: int, ttbr1: int, ttbcr: int, dacr: int,
         contextidr: int, sctlr: int, access: int, pl: int) -> Translation | Fault:
    """Translate ``va`` for one access (``access`` is R, W or X; ``pl`` is PL0 or PL1).

    ``access = 0`` is a probe (for debuggers and tests): every check is made except the
    permission check, so the result is the mapping and its permissions whatever they allow.

    ``read32(pa)`` returns the little-endian word at a physical address, or ``None`` when the
    address is not guest RAM (the walk then ends in an external abort on translation table walk).
    """
    va &= 0xFFFFFFFF
    is_write = access == W
    is_fetch = access == X
    if not sctlr & SCTLR_M:
        return Translation(va, 0, 1 << 32, va, FLAT, 0, 0, RWX, RWX, RWX, RWX, True,
                           contextidr & 0xFF, ())

    n = ttbcr & TTBCR_N
    if n and va >> (32 - n):
        if ttbcr & TTBCR_PD1:
            return Fault(FS_TRANSLATION_SECTION, 0, is_write, is_fetch, va, 1)
        l1_addr = (ttbr1 & 0xFFFFC000) | ((va >> 18) & 0x3FFC)
    else:
        if ttbcr & TTBCR_PD0:
            return Fault(FS_TRANSLATION_SECTION, 0, is_write, is_fetch, va, 1)
        # TTBR0 holds the table base in bits [31:14-N]; VA[31-N:20] indexes it (when N > 0 the
        # VA's top N bits are zero here, so the plain 12-bit index is the same thing).
        l1_addr = (ttbr0 & (0xFFFFFFFF << (14 - n)) & 0xFFFFFFFF) | ((va >> 18) & 0x3FFC)
    l1 = read32(l1_addr)
    if l1 is None:
        return Fault(FS_WALK_EXTERNAL_L1, 0, is_write, is_fetch, va, 1)
    l1 &= 0xFFFFFFFF
    t = l1 & 3
    if t == 0 or t == 3:
        return Fault(FS_TRANSLATION_SECTION, 0, is_write, is_fetch, va, 1)
    afe = sctlr & SCTLR_AFE

    if t == 1:
        domain = (l1 >> 5) & 15
        l2_addr = (l1 & 0xFFFFFC00) | ((va >> 10) & 0x3FC)
        l2 = read32(l2_addr)
        if l2 is None:
            return Fault(FS_WALK_EXTERNAL_L2, domain, is_write, is_fetch, va, 2)
        l2 &= 0xFFFFFFFF
        t2 = l2 & 3
        if t2 == 0:
            return Fault(FS_TRANSLATION_PAGE, domain, is_write, is_fetch, va, 2)
        ap3 = ((l2 >> 4) & 3) | ((l2 >> 7) & 4)
        if afe and not ap3 & 1:
            return Fault(FS_ACCESS_FLAG_PAGE, domain, is_write, is_fetch, va, 2)
        level = 2
        if t2 == 1:
            kind, size = LARGE, 0x10000
            xn = l2 & 0x8000
            pa = (l2 & 0xFFFF0000) | (va & 0xFFFF)
            tex = (l2 >> 12) & 7
        else:
            kind, size = SMALL, 0x1000
            xn = l2 & 1
            pa = (l2 & 0xFFFFF000) | (va & 0xFFF)
            tex = (l2 >> 6) & 7
        ng = l2 & 0x800
        s = (l2 >> 10) & 1
        ns = (l1 >> 3) & 1
        cb = l2
        sources: tuple[int, ...] = (l1_addr, l2_addr)
    else:
        ap3 = ((l1 >> 10) & 3) | ((l1 >> 13) & 4)
        level = 1
        if l1 & 0x40000:
            domain = 0
            kind, size = SUPERSECTION, 0x1000000
            pa = ((l1 & 0xFF000000) | (va & 0xFFFFFF) | (((l1 >> 20) & 15) << 32)
                  | (((l1 >> 5) & 15) << 36))
        else:
            domain = (l1 >> 5) & 15
            kind, size = SECTION, 0x100000
            pa = (l1 & 0xFFF00000) | (va & 0xFFFFF)
        if afe and not ap3 & 1:
            return Fault(FS_ACCESS_FLAG_SECTION, domain, is_write, is_fetch, va, 1)
        xn = l1 & 0x10
        ng = l1 & 0x20000
        tex = (l1 >> 12) & 7
        s = (l1 >> 16) & 1
        ns = (l1 >> 19) & 1
        cb = l1
        sources = (l1_addr,)

    client1, client0 = client_perms(ap3, bool(xn), bool(afe))
    dval = (dacr >> (domain << 1)) & 3
    if dval == 3:
        p1 = p0 = RWX
    elif dval == 1:
        p1, p0 = client1, client0
        if access and not (p1 if pl else p0) & access:
            fs = FS_PERMISSION_PAGE if level == 2 else FS_PERMISSION_SECTION
            return Fault(fs, domain, is_write, is_fetch, va, level)
    else:
        fs = FS_DOMAIN_PAGE if level == 2 else FS_DOMAIN_SECTION
        return Fault(fs, domain, is_write, is_fetch, va, level)

    return Translation(va, va & ~(size - 1) & 0xFFFFFFFF, size, pa, kind, level, domain,
                       client1, client0, p1, p0, not ng, contextidr & 0xFF, sources,
                       tex, (cb >> 3) & 1, (cb >> 2) & 1, s, ns)
