"""The shadow against the walker, under random table edits, ASID switches, DACR changes and TLB
operations.

A model TLB (written here from the architecture's rules, B3.10 and B4.2.3) records every mapping
the walker ever produced for a fill, and drops mappings exactly as the TLB operations say. Then:

* every shadow hit must be one of the model's live mappings for that VA and ASID, with the DACR
  of the moment applied (stale entries only where the architecture allows them);
* when every edit was followed by the TLB operations the architecture requires, every shadow hit
  equals a fresh walk (ASID switches keep TTBR0 there: with several table sets a global entry
  from one is legitimately used under another, and a fresh walk is not the reference).
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hvd.cpu.arm import UC_PAGE_MASK
from hvd.monitor.shadow import ShadowTables
from hvd.monitor.tlbops import TLB_OPS
from hvd.monitor.walker import PL0, PL1, RWX, R, W, X, Fault, Translation, walk
from tests.monitor.strategies import (L1_A, L1_B, L1_K, L2_INDEXES, L2_TABLES, MBS, all_vas,
                                      l1_word, l2_word, tables)
from tests.monitor.support import FakeRam, Regs, examples

VAS = all_vas()
TTBR0_OF_ASID = {1: L1_A, 2: L1_B, 3: L1_A}
DESC_L1 = [base + 4 * mb for base in (L1_A, L1_B, L1_K) for mb in MBS]
DESC_L2 = [t + 4 * i for t in L2_TABLES for i in L2_INDEXES]


@dataclass(frozen=True)
class Mapping:
    va_base: int
    size: int
    delta: int
    client_pl1: int
    client_pl0: int
    domain: int
    global_: bool
    asid: int
    sources: tuple[int, ...]

    def holds(self, va: int) -> bool:
        return self.va_base <= va < self.va_base + self.size

    def answer(self, va: int, pl: int, dacr: int) -> tuple[int, int] | None:
        d = (dacr >> (2 * self.domain)) & 3
        if d == 0 or d == 2:
            return None
        perms = RWX if d == 3 else (self.client_pl1 if pl else self.client_pl0)
        return (va & UC_PAGE_MASK) + self.delta, perms


class ModelTlb:
    def __init__(self) -> None:
        self.live: set[Mapping] = set()

    def add(self, t: Translation) -> None:
        self.live.add(Mapping(t.va_base, t.size, t.pa_base - t.va_base, t.client_pl1,
                              t.client_pl0, t.domain, t.global_, t.asid, t.sources))

    def op(self, name: str, value: int) -> None:
        mva, asid = value & 0xFFFFF000, value & 0xFF
        if name == "TLBIALL":
            self.live.clear()
        elif name == "TLBIMVA":
            self.live = {m for m in self.live
                         if not (m.holds(mva) and (m.global_ or m.asid == asid))}
        elif name == "TLBIASID":
            self.live = {m for m in self.live if m.global_ or m.asid != value & 0xFF}
        elif name == "TLBIMVAA":
            self.live = {m for m in self.live if not m.holds(mva)}

    def matching(self, va: int, asid: int) -> list[Mapping]:
        return [m for m in self.live if m.holds(va) and (m.global_ or m.asid == asid)]


def fresh(ram: FakeRam, rg: Regs, va: int, pl: int) -> tuple[int, int] | None:
    t = walk(va, read32=ram.read32, access=0, pl=pl, **rg.kw())
    if isinstance(t, Fault):
        return None
    return (va & UC_PAGE_MASK) + (t.pa_base - t.va_base), t.perms(pl)


def check_all(sh: ShadowTables, model: ModelTlb, ram: FakeRam, rg: Regs, strict: bool) -> int:
    """Look every VA up in every address space (not only the current one)."""
    hits = 0
    for asid in TTBR0_OF_ASID:
        view = Regs(**{**rg.kw(), "contextidr": asid})
        for va in VAS:
            for pl in (PL0, PL1):
                hit = sh.lookup(va, asid, pl, rg.dacr)
                if hit is None:
                    continue
                hits += 1
                allowed = {m.answer(va, pl, rg.dacr) for m in model.matching(va, asid)}
                assert hit in allowed, (hex(va), pl, asid, hit, allowed, sh.entry(va, asid))
                if strict:
                    assert hit == fresh(ram, view, va, pl), (hex(va), pl, asid, hit)
    return hits


@st.composite
def covering_op(draw: st.DrawFn, m: Mapping) -> tuple[str, int]:
    """One TLB operation that the architecture says invalidates mapping ``m``."""
    names = ["TLBIALL", "TLBIMVA", "TLBIMVAA"] + ([] if m.global_ else ["TLBIASID"])
    name = draw(st.sampled_from(names))
    mva = m.va_base + draw(st.integers(0, m.size - 1))
    asid = draw(st.integers(0, 255)) if m.global_ else m.asid
    if name == "TLBIASID":
        return name, m.asid
    if name == "TLBIMVA":
        return name, (mva & 0xFFFFF000) | asid
    return name, mva & 0xFFFFF000


def _variant(name: str, draw: st.DrawFn) -> str:
    """The same operation through one of its I-side, D-side or inner-shareable encodings."""
    alts = {"TLBIALL": ["TLBIALL", "TLBIALLIS", "ITLBIALL", "DTLBIALL"],
            "TLBIMVA": ["TLBIMVA", "TLBIMVAIS", "ITLBIMVA", "DTLBIMVA"],
            "TLBIASID": ["TLBIASID", "TLBIASIDIS", "ITLBIASID", "DTLBIASID"],
            "TLBIMVAA": ["TLBIMVAA", "TLBIMVAAIS"]}
    return draw(st.sampled_from(alts[name]))


def run(data: st.DataObject, ram: FakeRam, required_ops: bool) -> None:
    rg = Regs(ttbr0=L1_A, ttbr1=L1_K, ttbcr=data.draw(st.sampled_from([0, 0, 1, 2])),
              dacr=data.draw(st.sampled_from([0x5555_5555, 0xFFFF_FFFF, 0x5555_5557])),
              contextidr=1, sctlr=data.draw(st.sampled_from([1, 1, 1 | (1 << 29)])))
    sh = ShadowTables(flush_threshold=data.draw(st.sampled_from([0, 64, 100000])))
    model = ModelTlb()
    pending = False  # an edit not (yet) followed by its TLB operations
    for _ in range(data.draw(st.integers(5, 40))):
        action = data.draw(st.sampled_from(
            ["fill"] * 6 + ["edit", "edit", "switch", "switch", "dacr", "op"]))
        if action == "fill":
            pool = VAS
            if data.draw(st.booleans()):  # mostly VAs that do translate, so entries pile up
                pool = [v for v in VAS if fresh(ram, rg, v, PL1) is not None] or VAS
            va = data.draw(st.sampled_from(pool)) | data.draw(st.sampled_from([0, 0x3FC]))
            access = data.draw(st.sampled_from([R, W, X]))
            pl = data.draw(st.sampled_from([PL0, PL1]))
            r = sh.translate(va, access, pl, read32=ram.read32, **rg.kw())
            t = walk(va, read32=ram.read32, access=access, pl=pl, **rg.kw())
            if isinstance(r, Fault):
                assert r == t  # faults always come from a fresh walk
            else:
                assert r[1] & access
                if isinstance(t, Translation):
                    model.add(t)
                ok = {m.answer(va, pl, rg.dacr) for m in model.matching(va, rg.contextidr)}
                assert r in ok, (hex(va), r, ok)
        elif action == "edit":
            in_use = sorted({a for m in model.live for a in m.sources})
            if in_use and data.draw(st.booleans()):
                addr = data.draw(st.sampled_from(in_use))  # a descriptor something came from
            else:
                addr = data.draw(st.sampled_from(DESC_L1 + DESC_L2))
            is_l1 = any(b <= addr < b + 0x4000 for b in (L1_A, L1_B, L1_K))
            word = data.draw(l1_word() if is_l1 else l2_word())
            ram.write32(addr, word)
            affected = [m for m in model.live if addr in m.sources]
            if required_ops:
                for m in affected:
                    name, value = data.draw(covering_op(m))
                    sh.apply_tlb_op(TLB_OPS[_variant(name, data.draw)], value)
                    model.op(name, value)
                assert not [m for m in model.live if addr in m.sources]
            elif affected:
                pending = True
        elif action == "switch":
            asid = data.draw(st.sampled_from([1, 2, 3]))
            rg.contextidr = asid
            if not required_ops:
                # like Linux, ASID and TTBR0 change together. With required_ops the tables
                # stay: a global entry cached from one table set is legitimately used under
                # another, so a fresh walk of other tables is not the reference there.
                rg.ttbr0 = TTBR0_OF_ASID[asid]
        elif action == "dacr":
            rg.dacr = data.draw(st.sampled_from([0x5555_5555, 0xFFFF_FFFF, 0x5555_5554,
                                                 0x5555_5575, 0]))
        else:
            name = data.draw(st.sampled_from(["TLBIALL", "TLBIMVA", "TLBIASID", "TLBIMVAA"]))
            value = data.draw(st.sampled_from(VAS)) | data.draw(st.integers(0, 3))
            sh.apply_tlb_op(TLB_OPS[_variant(name, data.draw)], value)
            model.op(name, value)
        check_all(sh, model, ram, rg, strict=required_ops and not pending)


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ram=tables(), data=st.data())
def test_shadow_equals_fresh_walk_after_required_tlb_ops(ram: FakeRam,
                                                         data: st.DataObject) -> None:
    run(data, ram, required_ops=True)


@settings(max_examples=examples(25), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ram=tables(), data=st.data())
def test_shadow_stale_only_where_architecture_allows(ram: FakeRam, data: st.DataObject) -> None:
    run(data, ram, required_ops=False)
