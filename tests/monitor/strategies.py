"""Hypothesis strategies: random short-descriptor tables in a FakeRam, and interesting VAs."""

from __future__ import annotations

from hypothesis import strategies as st

from tests.monitor.support import MMIO_BASE, RAM_BASE, FakeRam, Regs

L1_A = RAM_BASE + 0x0000      # TTBR0 table (16 KiB)
L1_B = RAM_BASE + 0x4000      # second TTBR0 table (another address space)
L1_K = RAM_BASE + 0x8000      # TTBR1 table
L2_TABLES = [RAM_BASE + 0x10000 + k * 0x400 for k in range(6)]
# megabytes that get first-level entries, chosen to straddle TTBCR.N boundaries
MBS = [0x000, 0x001, 0x00F, 0x010, 0x3FF, 0x400, 0x7FF, 0x800, 0x801, 0xBFF, 0xC00, 0xFFF]
L2_INDEXES = [0x00, 0x01, 0x0F, 0x10, 0x11, 0x80, 0xFF]

# where page-table descriptors may point: real L2 tables mostly, sometimes hostile places
_TABLE_TARGETS = L2_TABLES * 3 + [L1_A, L1_A + 0x400, L1_K + 0x3C00, MMIO_BASE + 0x800,
                                  0x1000_0000, 0xFFFF_FC00]

word32 = st.integers(0, 0xFFFFFFFF)


@st.composite
def l1_word(draw: st.DrawFn) -> int:
    kind = draw(st.sampled_from(["fault", "reserved"] + ["table"] * 5 + ["section"] * 3
                                + ["super"]))
    w = draw(word32)
    if kind == "fault":
        return w & ~3
    if kind == "reserved":
        return w | 3
    if kind == "table":
        return draw(st.sampled_from(_TABLE_TARGETS)) | (w & 0x3FC) & ~3 | 1
    if kind == "section":
        return (w & ~0x40003) | 2
    return (w & ~3) | 0x40002


@st.composite
def l2_word(draw: st.DrawFn) -> int:
    kind = draw(st.sampled_from(["fault", "large", "large", "small", "small", "small",
                                 "small_xn"]))
    w = draw(word32)
    if kind == "fault":
        return w & ~3
    if kind == "large":
        return (w & ~3) | 1
    if kind == "small":
        return w | 2
    return w | 3


@st.composite
def regs(draw: st.DrawFn) -> Regs:
    ttbcr = draw(st.sampled_from([0, 0, 0, 1, 2, 3, 7])) | draw(
        st.sampled_from([0] * 10 + [0x10, 0x20]))
    sctlr = 1 | draw(st.sampled_from([0, 0, 1 << 29, 1 << 28, 3 << 28]))
    if draw(st.integers(0, 19)) == 0:
        sctlr &= ~1
    ttbr0 = draw(st.sampled_from([L1_A] * 4 + [L1_B, L1_A + 0x2000, L1_A + 0x1080, MMIO_BASE,
                                  0x2000_0000])) | draw(
        st.integers(0, 0x7F))
    ttbr1 = L1_K | draw(st.integers(0, 0x7F))
    dacr = draw(st.sampled_from([0x5555_5555, 0x5555_5555, 0xFFFF_FFFF, 0, None, None]))
    if dacr is None:
        dacr = draw(word32)
    return Regs(ttbr0=ttbr0, ttbr1=ttbr1, ttbcr=ttbcr, dacr=dacr,
                contextidr=draw(st.integers(0, 0x3FF)), sctlr=sctlr)


@st.composite
def tables(draw: st.DrawFn) -> FakeRam:
    ram = FakeRam()
    for base in (L1_A, L1_B, L1_K):
        for mb in MBS:
            if draw(st.integers(0, 3)) or base == L1_A:
                ram.write32(base + 4 * mb, draw(l1_word()))
    for t in L2_TABLES:
        for i in L2_INDEXES:
            if draw(st.integers(0, 7)):
                ram.write32(t + 4 * i, draw(l2_word()))
    # Properly repeated supersections and large pages (B3.5.1), so that several walked ranges
    # belong to one architectural mapping.
    for _ in range(draw(st.integers(0, 2))):
        base = draw(st.sampled_from([L1_A, L1_K]))
        group = draw(st.sampled_from([0x000, 0x800]))
        word = (draw(word32) & ~3) | 0x40002
        for mb in range(group, group + 16):
            ram.write32(base + 4 * mb, word)
    for _ in range(draw(st.integers(0, 2))):
        t = draw(st.sampled_from(L2_TABLES))
        group = draw(st.sampled_from([0x00, 0x10]))
        word = (draw(word32) & ~3) | 1
        for i in range(group, group + 16):
            ram.write32(t + 4 * i, word)
    return ram


@st.composite
def vas(draw: st.DrawFn) -> int:
    if draw(st.integers(0, 9)) == 0:
        return draw(word32)
    mb = draw(st.sampled_from(MBS))
    idx = draw(st.sampled_from(L2_INDEXES))
    return (mb << 20) | (idx << 12) | (draw(st.integers(0, 0xFFF)) & ~0x3FF | draw(
        st.sampled_from([0, 4, 0x3FC])))


def all_vas() -> list[int]:
    """A deterministic VA universe covering every populated descriptor."""
    return [(mb << 20) | (i << 12) | off for mb in MBS for i in L2_INDEXES for off in (0, 0x400)]
