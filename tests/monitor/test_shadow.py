"""Shadow tables: lookups, exact invalidation semantics, reverse maps, write protection."""

from __future__ import annotations

from hvd.cpu.arm import UC_PAGE_MASK, UC_PAGE_SIZE
from hvd.monitor import descriptors as D
from hvd.monitor.shadow import WP, ShadowTables
from hvd.monitor.stats import ShadowStats
from hvd.monitor.tlbops import TLB_OPS
from hvd.monitor.walker import PL0, PL1, RWX, R, W, X, Fault, Translation, walk
from tests.monitor.support import RAM_BASE, FakeRam, Regs

L1 = RAM_BASE
L1K = RAM_BASE + 0x4000
L2 = RAM_BASE + 0x8000


def mk(wp: bool = False) -> tuple[FakeRam, Regs, ShadowTables]:
    return FakeRam(), Regs(ttbr0=L1, ttbr1=L1K), ShadowTables(write_protect=wp)


def fill(sh: ShadowTables, ram: FakeRam, rg: Regs, va: int, access: int = R,
         pl: int = PL1) -> tuple[int, int] | Fault:
    return sh.translate(va, access, pl, read32=ram.read32, **rg.kw())


def setup_pages(ram: FakeRam, ng: int = 0) -> None:
    ram.write32(L1 + 4 * 1, D.build_l1("page_table", base=L2 >> 10, domain=1))
    for i in range(16):
        ram.write32(L2 + 4 * i, D.build_l2("small", base=0x80100 + i, ap=3, ng=ng))
    lw = D.build_l2("large", base=0x8020, ap=2, ng=ng)
    for i in range(0x20, 0x30):
        ram.write32(L2 + 4 * i, lw)
    ram.write32(L1 + 4 * 2, D.build_l1("section", base=0x803, ap=3, ng=ng, domain=2))
    ram.write32(L1 + 4 * 0x10, D.build_l1("supersection", base=0x81, ap=3, ng=ng))
    for i in range(0x11, 0x20):
        ram.write32(L1 + 4 * i, ram.read32(L1 + 4 * 0x10))


def test_hit_is_page_exact_and_one_entry_per_section() -> None:
    ram, rg, sh = mk()
    setup_pages(ram)
    r = fill(sh, ram, rg, 0x0020_0C00)
    assert r == (0x8030_0C00 & UC_PAGE_MASK, RWX)  # the PA of Unicorn's page
    for off in range(0, 0x100000, UC_PAGE_SIZE):
        assert sh.lookup(0x0020_0000 + off, 0, PL1, rg.dacr) == (0x8030_0000 + off, RWX)
    assert len(sh) == 1
    assert sh.lookup(0x0010_1400, 0, PL1, rg.dacr) is None
    assert fill(sh, ram, rg, 0x0010_1400) == (0x8010_1400 & UC_PAGE_MASK, RWX)
    assert len(sh) == 2
    assert sh.stats.hidden_faults == 2 and sh.stats.fills == 2


def test_faults_are_not_cached() -> None:
    ram, rg, sh = mk()
    r = fill(sh, ram, rg, 0x0050_0000, W)
    assert isinstance(r, Fault) and r.fs == 0x5 and len(sh) == 0
    ram.write32(L1 + 4 * 5, D.build_l1("section", base=0x805, ap=3))
    assert fill(sh, ram, rg, 0x0050_0000, W) == (0x8050_0000, RWX)  # no TLB op needed
    assert sh.stats.guest_faults == 1


def test_dacr_applies_at_lookup() -> None:
    ram, rg, sh = mk()
    setup_pages(ram)
    fill(sh, ram, rg, 0x0020_0000)
    assert sh.lookup(0x0020_0000, 0, PL0, 0x5555_5555) == (0x8030_0000, RWX)
    assert sh.lookup(0x0020_0000, 0, PL0, 0x5555_5555 | (3 << 4)) == (0x8030_0000, RWX)
    assert sh.lookup(0x0020_0000, 0, PL0, 0x5555_5555 & ~(3 << 4)) is None
    rg.dacr = 0x5555_5555 & ~(3 << 4)
    r = fill(sh, ram, rg, 0x0020_0000)
    assert isinstance(r, Fault) and r.fs == 0x9 and r.domain == 2


def test_pl0_never_gets_pl1_permissions() -> None:
    ram, rg, sh = mk()
    ram.write32(L1, D.build_l1("section", base=0x800, ap=1))  # kernel only
    assert fill(sh, ram, rg, 0x400, W, PL1) == (0x8000_0400 & UC_PAGE_MASK, RWX)
    assert sh.lookup(0x400, 0, PL0, rg.dacr) == (0x8000_0400 & UC_PAGE_MASK, 0)
    r = fill(sh, ram, rg, 0x400, R, PL0)
    assert isinstance(r, Fault) and r.fs == 0xD


def test_permission_miss_walks_again() -> None:
    ram, rg, sh = mk()
    ram.write32(L1, D.build_l1("section", base=0x800, ap=2))  # user read-only
    assert fill(sh, ram, rg, 0, R, PL0) == (0x8000_0000, R | X)
    r = fill(sh, ram, rg, 0, W, PL0)
    assert isinstance(r, Fault) and r.fs == 0xD and r.is_write and r.dfsr() == 0x80D


def test_tlbimva_drops_that_asid_and_globals_only() -> None:
    ram, rg, sh = mk()
    setup_pages(ram, ng=1)
    ram.write32(L1 + 4 * 3, D.build_l1("section", base=0x807, ap=3))  # global
    for asid in (1, 2):
        rg.contextidr = asid
        fill(sh, ram, rg, 0x0010_1000)
        fill(sh, ram, rg, 0x0030_0000)
    assert len(sh) == 3  # two ASID-tagged pages, one global section
    pages = sh.invalidate_mva(0x0010_1234, 1)
    assert sh.lookup(0x0010_1000, 1, PL1, rg.dacr) is None
    assert sh.lookup(0x0010_1000, 2, PL1, rg.dacr) is not None
    assert pages == list(range(0x0010_1000, 0x0010_2000, UC_PAGE_SIZE))
    # TLBIMVA of a global mapping with any ASID drops it
    assert sh.invalidate_mva(0x0030_5000, 77) is None  # a section: flush all is cheaper
    assert sh.lookup(0x0030_0000, 2, PL1, rg.dacr) is None
    assert sh.stats.invalidated == 2


def test_tlbiasid_keeps_globals_and_other_asids() -> None:
    ram, rg, sh = mk()
    setup_pages(ram, ng=1)
    ram.write32(L1 + 4 * 3, D.build_l1("section", base=0x807, ap=3))
    for asid in (5, 6):
        rg.contextidr = asid
        fill(sh, ram, rg, 0x0010_0000)
        fill(sh, ram, rg, 0x0010_3000)
    fill(sh, ram, rg, 0x0030_0000)
    assert sh.asids() == [5, 6]
    sh.invalidate_asid(5)
    assert sh.asids() == [6]
    assert sh.lookup(0x0010_0000, 5, PL1, rg.dacr) is None
    assert sh.lookup(0x0030_0000, 5, PL1, rg.dacr) is not None  # global stays
    assert sh.lookup(0x0010_3000, 6, PL1, rg.dacr) is not None


def test_tlbimvaa_drops_every_asid() -> None:
    ram, rg, sh = mk()
    setup_pages(ram, ng=1)
    for asid in (1, 2, 3):
        rg.contextidr = asid
        fill(sh, ram, rg, 0x0010_2000)
        fill(sh, ram, rg, 0x0010_3000)
    sh.invalidate_mva_all_asids(0x0010_2000)
    for asid in (1, 2, 3):
        assert sh.lookup(0x0010_2000, asid, PL1, rg.dacr) is None
        assert sh.lookup(0x0010_3000, asid, PL1, rg.dacr) is not None


def test_large_page_and_supersection_invalidated_by_any_address_inside() -> None:
    ram, rg, sh = mk()
    setup_pages(ram)
    for off in range(0, 0x10000, 0x1000):
        assert fill(sh, ram, rg, 0x0012_0000 + off) == (0x8020_0000 + off, R | W | X)
    for mb in range(0x10, 0x20):
        fill(sh, ram, rg, mb << 20)
    assert len(sh) == 32  # 16 walked 4 KiB ranges of the large page, 16 MiBs of supersection
    pages = sh.invalidate_mva(0x0012_F000, 9)
    assert pages is not None and sorted(pages) == list(range(0x0012_0000, 0x0013_0000, UC_PAGE_SIZE))
    assert sum(1 for e in sh.entries() if e.kind == "large") == 0
    sh.invalidate_mva_all_asids(0x01F0_0000)
    assert len(sh) == 0


def test_tlbiall_and_apply_tlb_op_counts() -> None:
    st = ShadowStats()
    ram, rg, _ = mk()
    sh = ShadowTables(stats=st)
    setup_pages(ram, ng=1)
    rg.contextidr = 4
    fill(sh, ram, rg, 0x0010_0000)
    fill(sh, ram, rg, 0x0020_0000)
    assert sh.apply_tlb_op(TLB_OPS["DTLBIMVA"], 0x0010_0004) is not None
    assert sh.lookup(0x0010_0000, 4, PL1, rg.dacr) is None
    assert sh.apply_tlb_op(TLB_OPS["TLBIALLIS"], 0) is None
    assert len(sh) == 0
    assert st.tlb_ops == 2 and st.tlb_ops_by_kind["DTLBIMVA"] == 1
    assert st.tlb_ops_by_kind["TLBIALLIS"] == 1 and st.invalidated == 2


def test_stale_entry_survives_until_invalidated() -> None:
    """The architecture lets a changed valid entry be used until a TLB operation (B3.10.1)."""
    ram, rg, sh = mk()
    setup_pages(ram)
    assert fill(sh, ram, rg, 0x0010_1000) == (0x8010_1000, RWX)
    ram.write32(L2 + 4, D.build_l2("small", base=0x80999, ap=3))
    assert fill(sh, ram, rg, 0x0010_1000) == (0x8010_1000, RWX)   # stale, allowed
    sh.invalidate_mva(0x0010_1000, 0)
    assert fill(sh, ram, rg, 0x0010_1000) == (0x8099_9000, RWX)


def test_reverse_map_and_drop_by_descriptor() -> None:
    ram, rg, sh = mk()
    setup_pages(ram)
    fill(sh, ram, rg, 0x0010_0000)
    fill(sh, ram, rg, 0x0010_1000)
    fill(sh, ram, rg, 0x0020_0000)
    assert sh.table_pages() == [L1, L2]
    assert len(sh.entries_for_table_page(L2 + 0x10)) == 2
    assert len(sh.entries_for_table_page(L1)) == 3
    pages = sh.drop_by_descriptor(L2 + 4)  # the second small page's descriptor
    assert pages == list(range(0x0010_1000, 0x0010_2000, UC_PAGE_SIZE))
    assert sh.entry(0x0010_1000, 0) is None and sh.entry(0x0010_0000, 0) is not None
    assert sh.drop_by_write(L1 + 4, 8) is None  # the page-table and section L1 words
    assert len(sh) == 0 and sh.table_pages() == []


def test_write_protection_of_table_pages_at_every_alias() -> None:
    ram, rg, sh = mk(wp=True)
    # two sections map the RAM holding the tables: VA 0x0 and VA 0x0040_0000 both alias it
    ram.write32(L1, D.build_l1("section", base=RAM_BASE >> 20, ap=3))
    ram.write32(L1 + 4 * 4, D.build_l1("section", base=RAM_BASE >> 20, ap=3))
    r = fill(sh, ram, rg, 0x0000_0000, W)
    assert r == (RAM_BASE, R | X | WP)  # L1 itself is now a table page
    assert sh.pending_flush_all
    r = fill(sh, ram, rg, 0x0040_0400, W)
    assert r == ((RAM_BASE + 0x400) & UC_PAGE_MASK, R | X | WP)
    assert fill(sh, ram, rg, 0x0040_1000, W) == (RAM_BASE + 0x1000, RWX)  # not a table page
    sh.drop_by_write(L1, 4)
    assert sh.lookup(0x0040_0400, 0, PL1, rg.dacr) == ((RAM_BASE + 0x400) & UC_PAGE_MASK, R | X | WP)
    sh.drop_by_write(L1 + 16, 4)
    assert not sh.is_table_page(L1) and sh.table_pages() == []
    # the next walk reads L1 again, so the page is protected again
    assert fill(sh, ram, rg, 0x0040_0400, W) == ((RAM_BASE + 0x400) & UC_PAGE_MASK, R | X | WP)


def test_mmu_off_not_cached() -> None:
    ram, rg, sh = mk()
    rg.sctlr = 0
    assert fill(sh, ram, rg, 0x1234_5678, X, PL0) == (0x1234_5678 & UC_PAGE_MASK, RWX)
    assert len(sh) == 0


def test_capacity_reset_requests_flush() -> None:
    ram, rg, _ = mk()
    sh = ShadowTables(max_entries=4)
    for mb in range(8):
        ram.write32(L1 + 4 * mb, D.build_l1("section", base=0x800 + mb, ap=3))
        fill(sh, ram, rg, mb << 20)
    assert sh.pending_flush_all and len(sh) <= 4


def test_insert_replaces_same_key_and_cleans_reverse_map() -> None:
    ram, rg, sh = mk()
    ram.write32(L1, D.build_l1("section", base=0x800, ap=2))
    t = walk(0, read32=ram.read32, access=R, pl=PL1, **rg.kw())
    assert isinstance(t, Translation)
    sh.insert(t)
    sh.insert(t)
    assert len(sh) == 1 and len(sh.entries_for_table_page(L1)) == 1
