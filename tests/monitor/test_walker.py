"""Hand-built tables for every fault code and every mapping kind, with exact DFSR/IFSR values."""

from __future__ import annotations

import pytest

from hvd.monitor import descriptors as D
from hvd.monitor.walker import (PL0, PL1, RWX, R, W, X, Fault, Translation, client_perms,
                                walk)
from tests.monitor.support import MMIO_BASE, RAM_BASE, FakeRam, Regs

L1 = RAM_BASE                 # TTBR0 table
L1K = RAM_BASE + 0x4000       # TTBR1 table
L2 = RAM_BASE + 0x8000        # one second-level table
L2B = RAM_BASE + 0x8400


def mk() -> tuple[FakeRam, Regs]:
    return FakeRam(), Regs(ttbr0=L1, ttbr1=L1K, dacr=0x5555_5555)


def go(ram: FakeRam, rg: Regs, va: int, access: int = R, pl: int = PL1) -> Translation | Fault:
    return walk(va, read32=ram.read32, access=access, pl=pl, **rg.kw())


def section(ram: FakeRam, table: int, va: int, pa: int, **f: int) -> int:
    f.setdefault("ap", 3)
    ram.write32(table + 4 * (va >> 20), D.build_l1("section", base=pa >> 20, **f))
    return table + 4 * (va >> 20)


def page_table(ram: FakeRam, va: int, l2: int = L2, domain: int = 0) -> None:
    ram.write32(L1 + 4 * (va >> 20), D.build_l1("page_table", base=l2 >> 10, domain=domain))


def small(ram: FakeRam, va: int, pa: int, l2: int = L2, **f: int) -> int:
    f.setdefault("ap", 3)
    addr = l2 + 4 * ((va >> 12) & 0xFF)
    ram.write32(addr, D.build_l2("small", base=pa >> 12, **f))
    return addr


def test_mmu_off_is_flat() -> None:
    ram, rg = mk()
    rg.sctlr = 0
    t = go(ram, rg, 0x1234_5678, W, PL0)
    assert isinstance(t, Translation) and t.pa == 0x1234_5678 and t.kind == "flat"
    assert t.perms_pl0 == t.perms_pl1 == RWX and t.level == 0 and t.sources == ()


def test_section_and_sources() -> None:
    ram, rg = mk()
    src = section(ram, L1, 0x0010_0000, 0x8050_0000, domain=3)
    t = go(ram, rg, 0x0012_3456)
    assert isinstance(t, Translation)
    assert t.pa == 0x8052_3456 and t.va_base == 0x0010_0000 and t.size == 1 << 20
    assert t.sources == (src,) and t.domain == 3 and t.kind == "section" and t.global_
    assert t.perms_pl1 == RWX and t.perms_pl0 == RWX


def test_supersection_base_and_extension() -> None:
    ram, rg = mk()
    w = D.build_l1("supersection", base=0x81, ap=3, base_35_32=0, base_39_36=0)
    for i in range(16):  # the architecture wants the entry repeated 16 times
        ram.write32(L1 + 4 * (0x020 + i), w)
    t = go(ram, rg, 0x02AB_CDEF)
    assert isinstance(t, Translation) and t.kind == "supersection"
    assert t.pa == 0x81AB_CDEF and t.va_base == 0x0200_0000 and t.size == 16 << 20
    assert t.domain == 0 and t.sources == (L1 + 4 * 0x02A,)
    ram.write32(L1 + 4 * 0x02A, D.build_l1("supersection", base=0x81, ap=3, base_35_32=0x3,
                                           base_39_36=0x1))
    t = go(ram, rg, 0x02AB_CDEF)
    assert t.pa == 0x13_81AB_CDEF


def test_supersection_domain_is_zero() -> None:
    ram, rg = mk()
    # bits [8:5] are PA[39:36] in a supersection, never a domain: domain 0 is what DACR checks
    ram.write32(L1, D.build_l1("supersection", base=0x81, ap=3, base_39_36=0x5))
    rg.dacr = 0x1  # only domain 0 is a client
    assert isinstance(go(ram, rg, 0x100), Translation)
    rg.dacr = 0x4  # domain 0 no access
    f = go(ram, rg, 0x100)
    assert isinstance(f, Fault) and f.fs == 0x9 and f.domain == 0


def test_small_and_large_pages() -> None:
    ram, rg = mk()
    page_table(ram, 0x0040_0000, domain=2)
    s = small(ram, 0x0040_3000, 0x8123_4000)
    lw = D.build_l2("large", base=0x8765, ap=3)
    for i in range(16):
        ram.write32(L2 + 4 * (0x10 + i), lw)
    t = go(ram, rg, 0x0040_3ABC)
    assert isinstance(t, Translation) and t.kind == "small" and t.pa == 0x8123_4ABC
    assert t.sources == (L1 + 4 * 4, s) and t.size == 0x1000 and t.domain == 2
    assert t.cover_base == 0x0040_3000 and t.cover_size == 0x1000
    t = go(ram, rg, 0x0041_7ABC)
    assert isinstance(t, Translation) and t.kind == "large" and t.pa == 0x8765_7ABC
    assert t.va_base == 0x0041_0000 and t.size == 0x10000
    assert t.sources == (L1 + 4 * 4, L2 + 4 * 0x17)


@pytest.mark.parametrize("access, pl, dfsr", [(R, PL1, 0x05), (W, PL1, 0x805), (X, PL0, None)])
def test_translation_fault_section(access: int, pl: int, dfsr: int | None) -> None:
    ram, rg = mk()
    f = go(ram, rg, 0x0300_0010, access, pl)
    assert isinstance(f, Fault) and f.fs == 0x5 and f.domain == 0 and f.va == 0x0300_0010
    if dfsr is None:
        assert f.is_fetch and f.ifsr() == 0x5 and f.fsr() == 0x5
    else:
        assert f.dfsr() == dfsr and f.fsr() == dfsr


def test_reserved_first_level_encoding_is_translation_fault() -> None:
    ram, rg = mk()
    ram.write32(L1, 0x8000_0C03)  # bits[1:0] = 0b11: PXN section on LPAE parts, reserved on A8
    f = go(ram, rg, 0x10)
    assert isinstance(f, Fault) and f.fs == 0x5


def test_translation_fault_page_carries_domain() -> None:
    ram, rg = mk()
    page_table(ram, 0, domain=7)
    f = go(ram, rg, 0x5000, W)
    assert isinstance(f, Fault) and f.fs == 0x7 and f.domain == 7
    assert f.dfsr() == 0x877


def test_access_flag_faults() -> None:
    ram, rg = mk()
    rg.sctlr |= 1 << 29  # AFE
    section(ram, L1, 0x0010_0000, 0x8000_0000, ap=2, domain=1)   # AP[0] = 0: AF clear
    page_table(ram, 0, domain=4)
    small(ram, 0x1000, 0x8000_0000, ap=0)
    f = go(ram, rg, 0x0010_0000)
    assert isinstance(f, Fault) and f.fs == 0x3 and f.domain == 1 and f.dfsr() == 0x13
    f = go(ram, rg, 0x1000, W)
    assert isinstance(f, Fault) and f.fs == 0x6 and f.dfsr() == 0x846
    # the access flag is checked by the walk: a manager domain does not hide it (B3.7.3)
    rg.dacr = 0xFFFF_FFFF
    assert isinstance(go(ram, rg, 0x0010_0000), Fault)
    # and with AFE = 0 the same descriptors are ordinary AP values
    rg.sctlr &= ~(1 << 29)
    assert isinstance(go(ram, rg, 0x0010_0000), Translation)


def test_simplified_access_model() -> None:
    # AFE = 1: AP[2:1] = 00 PL1 rw; 01 rw at both; 10 PL1 ro; 11 ro at both (B3.7.3)
    assert client_perms(0b001, False, True) == (R | W | X, 0)
    assert client_perms(0b011, False, True) == (RWX, RWX)
    assert client_perms(0b101, False, True) == (R | X, 0)
    assert client_perms(0b111, True, True) == (R, R)


def test_full_access_model() -> None:
    expect = {0: (0, 0), 1: (R | W, 0), 2: (R | W, R), 3: (R | W, R | W), 4: (0, 0),
              5: (R, 0), 6: (R, R), 7: (R, R)}
    for ap, (p1, p0) in expect.items():
        assert client_perms(ap, True, False) == (p1, p0)


@pytest.mark.parametrize("dacr_bits", [0b00, 0b10])
def test_domain_faults(dacr_bits: int) -> None:
    ram, rg = mk()
    section(ram, L1, 0, 0x8000_0000, domain=5)
    page_table(ram, 0x0010_0000, domain=5)
    small(ram, 0x0010_0000, 0x8000_0000)
    rg.dacr = 0x5555_5555 & ~(3 << 10) | (dacr_bits << 10)
    f = go(ram, rg, 0x10, W)
    assert isinstance(f, Fault) and f.fs == 0x9 and f.domain == 5 and f.dfsr() == 0x859
    f = go(ram, rg, 0x0010_0010, R, PL0)
    assert isinstance(f, Fault) and f.fs == 0xB and f.dfsr() == 0x5B


def test_domain_checked_after_second_level() -> None:
    """The manual checks the domain after the walk: an invalid L2 entry is a translation fault
    even in a no-access domain (QEMU would report a domain fault here)."""
    ram, rg = mk()
    page_table(ram, 0, domain=3)
    rg.dacr = 0
    f = go(ram, rg, 0x2000)
    assert isinstance(f, Fault) and f.fs == 0x7 and f.domain == 3


def test_permission_faults_and_wnr() -> None:
    ram, rg = mk()
    section(ram, L1, 0, 0x8000_0000, ap=2, domain=1)          # PL1 rw, PL0 ro
    page_table(ram, 0x0010_0000, domain=1)
    small(ram, 0x0010_0000, 0x8000_0000, ap=1)                # PL1 rw, PL0 none
    assert isinstance(go(ram, rg, 0x10, R, PL0), Translation)
    f = go(ram, rg, 0x10, W, PL0)
    assert isinstance(f, Fault) and f.fs == 0xD and f.dfsr() == 0x81D and f.is_write
    f = go(ram, rg, 0x0010_0000, R, PL0)
    assert isinstance(f, Fault) and f.fs == 0xF and f.dfsr() == 0x1F
    t = go(ram, rg, 0x0010_0000, W, PL1)
    assert isinstance(t, Translation) and t.perms_pl0 == 0 and t.perms_pl1 == RWX


def test_read_only_section_apx() -> None:
    ram, rg = mk()
    section(ram, L1, 0, 0x8000_0000, apx=1, ap=1)             # PL1 ro, PL0 none
    t = go(ram, rg, 0x0, R, PL1)
    assert isinstance(t, Translation) and t.perms_pl1 == R | X and t.perms_pl0 == 0
    f = go(ram, rg, 0x4, W, PL1)
    assert isinstance(f, Fault) and f.fs == 0xD and f.is_write


def test_xn_prefetch_abort_in_client_not_manager() -> None:
    ram, rg = mk()
    section(ram, L1, 0, 0x8000_0000, xn=1, domain=2)
    page_table(ram, 0x0010_0000, domain=2)
    small(ram, 0x0010_0000, 0x8000_0000, xn=1)
    f = go(ram, rg, 0x40, X, PL1)
    assert isinstance(f, Fault) and f.fs == 0xD and f.is_fetch and f.ifsr() == 0x2D
    f = go(ram, rg, 0x0010_0040, X, PL0)
    assert isinstance(f, Fault) and f.fs == 0xF and f.ifsr() == 0x2F
    assert isinstance(go(ram, rg, 0x40, R, PL0), Translation)
    # Manager: no permission checks, XN included (B3.7.2)
    rg.dacr = 3 << 4
    t = go(ram, rg, 0x40, X, PL0)
    assert isinstance(t, Translation) and t.perms_pl0 == RWX


def test_fetch_needs_read_permission() -> None:
    ram, rg = mk()
    section(ram, L1, 0, 0x8000_0000, ap=1)  # PL0 no access
    f = go(ram, rg, 0, X, PL0)
    assert isinstance(f, Fault) and f.fs == 0xD


def test_external_abort_on_walk_level1_and_level2() -> None:
    ram, rg = mk()
    rg.ttbr0 = 0x1000_0000  # no RAM there
    f = go(ram, rg, 0x10, W)
    assert isinstance(f, Fault) and f.fs == 0xC and f.dfsr() == 0x80C and f.domain == 0
    rg.ttbr0 = L1
    ram.write32(L1, D.build_l1("page_table", base=0x2000_0000 >> 10, domain=6))
    f = go(ram, rg, 0x10, X)
    assert isinstance(f, Fault) and f.fs == 0xE and f.domain == 6 and f.ifsr() == 0x6E


def test_table_in_mmio_gives_garbage_not_errors() -> None:
    ram, rg = mk()
    ram.write32(L1, D.build_l1("page_table", base=MMIO_BASE >> 10))
    for va in range(0, 0x100000, 0x1000):
        assert isinstance(go(ram, rg, va), (Fault, Translation))


def test_aliasing_tables() -> None:
    """An L1 entry whose 'second-level table' is the L1 table itself: both reads are sources."""
    ram, rg = mk()
    ram.write32(L1, D.build_l1("page_table", base=L1 >> 10))
    ram.write32(L1 + 4, D.build_l1("section", base=0x800, ap=3) & ~3 | 2)
    t = go(ram, rg, 0x1000, 0)  # probe; L2 index 1 reads L1 + 4, a section word: bits[1:0] = 2
    assert isinstance(t, Translation) and t.kind == "small" and t.sources == (L1, L1 + 4)


def test_ttbcr_split_and_base_masks() -> None:
    ram, rg = mk()
    rg.ttbcr = 2  # TTBR0 covers VA < 1 GiB, its table is 4 KiB, base bits [31:12]
    rg.ttbr0 = L1 + 0x3000
    ram.write32(L1 + 0x3000 + 4 * 0x3FF, D.build_l1("section", base=0x811, ap=3))
    ram.write32(L1K + 4 * 0x400, D.build_l1("section", base=0x822, ap=3))
    ram.write32(L1K + 4 * 0x3FF, D.build_l1("section", base=0x833, ap=3))
    t = go(ram, rg, 0x3FF0_0004)
    assert isinstance(t, Translation) and t.pa == 0x8110_0004
    t = go(ram, rg, 0x4000_0004)
    assert isinstance(t, Translation) and t.pa == 0x8220_0004
    rg.ttbcr = 0  # N = 0: TTBR0 for everything, base bits [31:14] (0x3000 masked away)
    ram.write32(L1 + 4 * 0x400, D.build_l1("section", base=0x844, ap=3))
    t = go(ram, rg, 0x4000_0004)
    assert isinstance(t, Translation) and t.pa == 0x8440_0004


@pytest.mark.parametrize("pd, va", [(0x10, 0x0000_1000), (0x20, 0xC000_1000)])
def test_ttbcr_pd_bits(pd: int, va: int) -> None:
    ram, rg = mk()
    rg.ttbcr = 1 | pd
    ram.write32(L1 + 4 * (va >> 20), D.build_l1("section", base=0x800, ap=3))
    ram.write32(L1K + 4 * (va >> 20), D.build_l1("section", base=0x800, ap=3))
    f = go(ram, rg, va)
    assert isinstance(f, Fault) and f.fs == 0x5 and f.domain == 0
    rg.ttbcr = 1 | (0x30 ^ pd)
    assert isinstance(go(ram, rg, va), Translation)


def test_ng_asid_tagging() -> None:
    ram, rg = mk()
    section(ram, L1, 0, 0x8000_0000, ng=1)
    section(ram, L1, 0x0010_0000, 0x8000_0000)
    rg.contextidr = 0x1234_5642
    t = go(ram, rg, 0)
    assert isinstance(t, Translation) and not t.global_ and t.asid == 0x42
    t = go(ram, rg, 0x0010_0000)
    assert isinstance(t, Translation) and t.global_


def test_fault_fsr_encoding_uses_bit_10_for_fs4() -> None:
    f = Fault(0x16, 3, True, False, 0x1000)
    assert f.dfsr() == 0x400 | 0x6 | 0x30 | 0x800
    assert f.ifsr() == 0x400 | 0x6 | 0x30


def test_codes_the_walker_never_produces_still_encode() -> None:
    """Alignment (0x1) and synchronous external abort (0x8) come from the caller, not a walk."""
    from hvd.monitor.walker import FS_ALIGNMENT, FS_EXTERNAL

    assert Fault(FS_ALIGNMENT, 0, False, False, 0x1001).dfsr() == 0x001
    assert Fault(FS_EXTERNAL, 0, True, False, 0x4800_0000).dfsr() == 0x808
    assert Fault(FS_EXTERNAL, 0, False, True, 0x4800_0000).ifsr() == 0x008
    assert "alignment" in repr(Fault(FS_ALIGNMENT, 0, False, False, 0))
