"""The C front half of the TLB-operation hooks (hvd/monitor/_tlbop.c) may answer an operation
itself only when the shadow cannot hold anything it would drop; everything else goes to Python.

The guest-visible side is covered by the MMU conformance guests (tests/guests/test_mmu.py): with
the shadow's marks switched off, so that the C hook answers every by-MVA operation itself, six
of them fail under shadow/tlb. Here: the marks cover every page an operation could drop an
entry for (a large page's and a supersection's other parts included), and the hook's decisions.
"""

from __future__ import annotations

import ctypes
import random
from types import SimpleNamespace

import pytest

from hvd.monitor.mmu import HookedOp
from hvd.monitor.shadow import ShadowTables
from hvd.monitor.tlbop import TlbOpFilter, _Op, create
from hvd.monitor.tlbops import TLB_OPS
from hvd.native import load_library
from tests.monitor.support import FakeRam, Regs
from tests.monitor.test_shadow import L1, L1K, fill, setup_pages

LIB = load_library("hvd.monitor", "_tlbop")
pytestmark = pytest.mark.skipif(LIB is None, reason="hvd/monitor/_tlbop.c was not built")

_REG_READ = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_uint32))
CPSR_ID, R0_ID = 3, 66  # Unicorn ids (only compared here)


def _filter(calls: list[int]) -> TlbOpFilter:
    f = create(SimpleNamespace(_uch=None), calls.append)
    assert f is not None
    return f


def _bit(view, n: int) -> bool:
    return bool(view[n >> 3] & (1 << (n & 7)))


def _marked_shadow() -> tuple[TlbOpFilter, FakeRam, Regs, ShadowTables]:
    """A shadow keeping the C hook's bitmap, over setup_pages' tables (non-global)."""
    f = _filter([])
    ram, rg = FakeRam(), Regs(ttbr0=L1, ttbr1=L1K)
    sh = ShadowTables()
    sh.marks = f
    setup_pages(ram, ng=1)
    return f, ram, rg, sh


def test_marks_cover_every_page_an_operation_could_drop():
    f, ram, rg, sh = _marked_shadow()
    rg.contextidr = 5
    for va in (0x0010_3000, 0x0012_5000, 0x0020_0000, 0x0130_0000):
        fill(sh, ram, rg, va)
    assert _bit(f.pages, 0x103) and not _bit(f.pages, 0x104)
    assert all(_bit(f.pages, p) for p in range(0x120, 0x130))  # the large page's 16 parts
    assert _bit(f.mbs, 2) and not _bit(f.mbs, 3)
    assert all(_bit(f.mbs, mb) for mb in range(0x10, 0x20))   # the supersection's 16 MiBs
    # the invariant the hook relies on: wherever TLBIMVA could drop something, a bit is set
    for page in range(0x2000):
        mva = page << 12
        held = sh._find_mva(mva, 0) + sh._find_mva(mva, (5 + 1) << 20)
        if held:
            assert _bit(f.pages, page) or _bit(f.mbs, page >> 8), hex(mva)
    # a bit goes when the last entry it stands for does: later operations there skip Python
    sh.invalidate_mva(0x0010_3000, 5)
    assert not _bit(f.pages, 0x103)
    sh.invalidate_mva(0x0012_9000, 5)  # any part of the large page drops the part held
    assert not any(_bit(f.pages, p) for p in range(0x120, 0x130))
    sh.invalidate_asid(5)  # the section and the supersection part (not global)
    assert not any(f.pages) and not any(f.mbs)
    fill(sh, ram, rg, 0x0020_0000)
    sh.clear()
    assert not any(f.pages) and not any(f.mbs)


def test_marks_follow_the_shadow_through_random_work():
    f, ram, rg, sh = _marked_shadow()
    rnd = random.Random(7)
    vas = [0x0010_0000 + 0x1000 * i for i in range(16)] + [0x0012_0000 + 0x1000 * i for i in range(16)]
    vas += [0x0020_0000, 0x0100_0000 + 0x10_0000 * 3, 0x0130_0000]
    for _ in range(2000):
        rg.contextidr = rnd.randrange(4)
        va = rnd.choice(vas)
        r = rnd.random()
        if r < 0.6:
            fill(sh, ram, rg, va)
        elif r < 0.9:
            sh.invalidate_mva(va, rnd.randrange(4))
        else:
            sh.invalidate_asid(rnd.randrange(4))
        held_pages = {e.cover_base >> 12 for e in sh.entries() if e.level == 2}
        for p in range(0x100, 0x130):
            if _bit(f.pages, p):
                continue
            assert p not in held_pages and not any(e.kind == "large" and (e.cover_base >> 16) == (p >> 4)
                                                   for e in sh.entries() if e.level == 2)
        held_mbs = {e.cover_base >> 20 for e in sh.entries() if e.level == 1}
        for mb in held_mbs:
            assert _bit(f.mbs, mb)
    sh.clear()
    assert not any(f.pages) and not any(f.mbs)


def _op(name: str, cond: int = 14, rt: int = 0) -> HookedOp:
    return HookedOp(0x8000_1000, TLB_OPS[name], rt, 4, b"\0\0\0\0", cond)


@pytest.mark.parametrize("cpsr, value, name, cond, expect", [
    (0x10, 0x0040_0000, "TLBIMVA", 14, "none"),        # User mode: UNDEFINED, nothing to do
    (0x4000_0013, 0x0040_0000, "TLBIMVA", 1, "none"),   # ARM, NE with Z set: condition fails
    (0x4000_0033, 0x0040_0000, "TLBIMVA", 1, "filtered"),  # Thumb: taken as executed
    (0x13, 0x0040_0005, "TLBIMVA", 14, "filtered"),     # a page the shadow never held
    (0x13, 0x0050_1005, "TLBIMVA", 14, "python"),       # a page it held
    (0x13, 0x0060_0000, "TLBIMVAA", 14, "python"),      # in a section it held
    (0x13, 0x0000_0005, "TLBIASID", 14, "python"),      # not by MVA: always Python
    (0x13, 0x0000_0000, "TLBIALL", 14, "python"),
])
def test_hook_answers_only_what_cannot_drop_anything(cpsr, value, name, cond, expect):
    calls: list[int] = []
    f = _filter(calls)
    f.pages[0x501 >> 3] |= 1 << (0x501 & 7)
    f.mbs[6 >> 3] |= 1 << 6
    regs = {CPSR_ID: cpsr, R0_ID: value}

    def reg_read(_uc, regid, out):
        out[0] = regs[regid]
        return 0

    rr = _REG_READ(reg_read)
    f._f.reg_read = ctypes.cast(rr, ctypes.c_void_p).value
    f._f.cpsr_regid = CPSR_ID
    h_op = _op(name, cond)
    o = _Op()
    o.f = ctypes.addressof(f._f)
    o.passes = h_op.passes
    o.rt_regid = R0_ID
    o.kind = 0
    o.by_mva = int(name in ("TLBIMVA", "TLBIMVAA"))
    keep = ctypes.pointer(o)
    LIB.hvd_tlbop_hook.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint32, ctypes.c_void_p]
    LIB.hvd_tlbop_hook(None, 0x8000_1000, 4, keep)
    assert calls == ([0x8000_1000] if expect == "python" else [])
    assert f.filtered == (1 if expect == "filtered" else 0)
