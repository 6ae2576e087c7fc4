"""The fill cache's C walker (``hvd_fill_walk`` in hvd/monitor/_fillcache.c) against the
monitor's walker (hvd.monitor.walker.walk), on the random tables of the walker's own property
tests.

The C walker answers one outcome itself, a small page that allows the access, and leaves
everything else to Python. So: whenever it answers, the answer must be walk()'s (PA, the
permissions at that level, global); and whenever walk() finds a small page allowing the access
from tables in RAM, the C walker must answer too (else the common case would not be fast)."""

from __future__ import annotations

import ctypes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hvd.monitor.fillcache import Ram, c_walk
from hvd.monitor.walker import PL0, PL1, SMALL, R, W, X, Fault, walk
from hvd.native import load_library
from tests.monitor.strategies import regs, tables, vas
from tests.monitor.support import RAM_BASE, RAM_SIZE, FakeRam, Regs, examples

LIB = load_library("hvd.monitor", "_fillcache")
pytestmark = pytest.mark.skipif(LIB is None, reason="hvd/monitor/_fillcache not built")
KIND = {R: 0, W: 1, X: 2}


def as_ram(fake: FakeRam) -> tuple[Ram, ctypes.Array]:
    """FakeRam's RAM words in a buffer the C walker reads (its MMIO window stays outside)."""
    buf = (ctypes.c_uint32 * (RAM_SIZE // 4))()
    for pa, word in fake.words.items():
        if RAM_BASE <= pa < RAM_BASE + RAM_SIZE:
            buf[(pa - RAM_BASE) // 4] = word
    ram = Ram(ctypes.addressof(buf), RAM_BASE, RAM_SIZE >> 12)
    return ram, buf


def in_ram(pa: int) -> bool:
    return RAM_BASE <= pa < RAM_BASE + RAM_SIZE


def check(fake: FakeRam, ram: Ram, rg: Regs, va: int, access: int, pl: int) -> bool:
    """Compare both walkers on one access; True when the C walker answered."""
    got = c_walk(LIB, ram, va, KIND[access], pl, sctlr=rg.sctlr, dacr=rg.dacr, ttbr0=rg.ttbr0,
                 ttbr1=rg.ttbr1, ttbcr=rg.ttbcr)
    ref = walk(va, read32=fake.read32, access=access, pl=pl, **rg.kw())
    ctx = (hex(va), access, pl, rg, ref, got)
    answerable = (rg.sctlr & 1 and not isinstance(ref, Fault) and ref.kind == SMALL
                  and all(in_ram(a) for a in ref.sources))
    if not answerable:
        assert got is None, ctx
        return False
    assert got is not None, ctx
    pa, perms, global_ = got
    assert pa == ref.pa & ~0xFFF, ctx
    assert perms == ref.perms(pl), ctx
    assert global_ == ref.global_, ctx
    return True


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fake=tables(), rg=regs(), va_list=st.lists(vas(), min_size=1, max_size=16),
       access=st.sampled_from([R, W, X]), pl=st.sampled_from([PL0, PL1]))
def test_c_walker_agrees_with_walk(fake: FakeRam, rg: Regs, va_list: list[int], access: int,
                                   pl: int) -> None:
    ram, _buf = as_ram(fake)
    for va in va_list:
        check(fake, ram, rg, va, access, pl)


def test_c_walker_answers_the_common_cases() -> None:
    """A fixed table: small pages under every AP, XN, nG, domain and AFE combination, at both
    levels and for every access, each answered by the C walker exactly as walk() answers."""
    fake = FakeRam()
    l1, l2 = RAM_BASE, RAM_BASE + 0x8000
    answered = 0
    for domain in (0, 1, 2, 3):
        va_mb = 0x100 + domain
        fake.write32(l1 + 4 * va_mb, l2 + 0x400 * domain | domain << 5 | 1)
        for i in range(256):
            ap3 = i & 7
            word = (RAM_BASE + 0x40000 + (i << 12)) | (ap3 & 3) << 4 | (ap3 >> 2) << 9 | 2
            word |= (i >> 3 & 1) | (0x800 if i >> 4 & 1 else 0)  # XN, nG
            fake.write32(l2 + 0x400 * domain + 4 * i, word)
    ram, _buf = as_ram(fake)
    for sctlr in (1, 1 | 1 << 29):
        for dacr in (0x55, 0xFF, 0xD7, 0x1E):  # client/manager/no access/reserved mixes
            rg = Regs(ttbr0=l1, ttbr1=l1, ttbcr=0, dacr=dacr, contextidr=5, sctlr=sctlr)
            for domain in range(4):
                for i in range(32):
                    va = (0x100 + domain) << 20 | i << 12 | 0x123
                    for access in (R, W, X):
                        for pl in (PL0, PL1):
                            answered += check(fake, ram, rg, va, access, pl)
    assert answered > 500



@pytest.mark.parametrize("n", range(8))
def test_c_walker_splits_at_ttbcr_n(n: int) -> None:
    """TTBCR.N: the VAs below 2^(32-N) walk TTBR0's table (16 KiB >> N), the ones from there up
    TTBR1's; the two tables map the same VAs to different pages. PD0 and PD1 leave their half
    to Python. Checked on the megabytes either side of the boundary, and of the boundaries a
    shift by one would put there."""
    fake = FakeRam()
    l1_0, l1_1 = RAM_BASE + 0x4000, RAM_BASE + 0x8000
    l2_0, l2_1 = RAM_BASE + 0x10000, RAM_BASE + 0x10400
    top = 0x1000 >> n  # megabytes TTBR0 translates
    mbs = sorted({mb & 0xFFF for t in (top, top >> 1, top << 1) for mb in (t - 1, t)})
    fake.write32(l2_0 + 4 * 5, (RAM_BASE + 0x40000) | 1 << 4 | 2)
    fake.write32(l2_1 + 4 * 5, (RAM_BASE + 0x80000) | 1 << 4 | 2)
    for mb in mbs:
        if mb < top:
            fake.write32(l1_0 + 4 * mb, l2_0 | 1)
        fake.write32(l1_1 + 4 * mb, l2_1 | 1)
    ram, _buf = as_ram(fake)
    answered = 0
    for pd in (0, 0x10, 0x20):
        rg = Regs(ttbr0=l1_0, ttbr1=l1_1, ttbcr=n | pd, dacr=0x1, contextidr=0, sctlr=1)
        for mb in mbs:
            answered += check(fake, ram, rg, mb << 20 | 5 << 12 | 0x10, R, PL1)
    assert answered >= len(mbs)
