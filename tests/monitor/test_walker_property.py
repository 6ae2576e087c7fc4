"""The walker against the slow reference decoder, on random tables, registers and accesses."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hvd.monitor.walker import PL0, PL1, R, W, X, Fault, Translation, walk
from tests.monitor.strategies import regs, tables, vas
from tests.monitor.support import FakeRam, RefFault, RefOk, Regs, examples, ref_walk

_ACC = {R: "r", W: "w", X: "x", 0: ""}


def check_one(ram: FakeRam, rg: Regs, va: int, access: int, pl: int) -> None:
    got = walk(va, read32=ram.read32, access=access, pl=pl, **rg.kw())
    ref = ref_walk(ram, rg, va, _ACC[access], pl == PL1)
    if isinstance(ref, RefFault):
        assert isinstance(got, Fault), (hex(va), access, pl, got, ref)
        assert (got.fs, got.domain) == (ref.fs, ref.domain), (hex(va), got, ref)
        assert got.va == va
        assert got.is_write == (access == W) and got.is_fetch == (access == X)
        return
    assert isinstance(got, Translation), (hex(va), access, pl, got, ref)
    assert got.pa == ref.pa
    assert (got.va_base, got.size) == (ref.va_base, ref.size)
    assert got.global_ == ref.global_
    assert got.sources == ref.sources
    assert got.paddr(va) == ref.pa
    if got.level:
        assert got.domain == ref.domain
        assert got.asid == rg.contextidr & 0xFF
    # the permission bits agree with the reference for every access at both levels
    for a in (R, W, X):
        for p in (PL0, PL1):
            r = ref_walk(ram, rg, va, _ACC[a], p == PL1)
            assert bool(got.perms(p) & a) == isinstance(r, RefOk), (hex(va), a, p, got, r)


@settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ram=tables(), rg=regs(), va_list=st.lists(vas(), min_size=1, max_size=12),
       access=st.sampled_from([R, W, X, 0]), pl=st.sampled_from([PL0, PL1]))
def test_walker_matches_reference(ram: FakeRam, rg: Regs, va_list: list[int], access: int,
                                  pl: int) -> None:
    for va in va_list:
        check_one(ram, rg, va, access, pl)


@settings(max_examples=examples(80), deadline=None)
@given(words=st.dictionaries(st.integers(0, 0xFFF).map(lambda i: 0x8000_0000 + 4 * i),
                             st.integers(0, 0xFFFFFFFF), max_size=64),
       rg=regs(), va=st.integers(0, 0xFFFFFFFF), access=st.sampled_from([R, W, X, 0]),
       pl=st.sampled_from([PL0, PL1]))
def test_hostile_tables_never_raise(words: dict[int, int], rg: Regs, va: int, access: int,
                                    pl: int) -> None:
    """Arbitrary words, tables aliasing each other and tables in MMIO: a result, never an error."""
    ram = FakeRam(words)
    got = walk(va, read32=ram.read32, access=access, pl=pl, **rg.kw())
    assert isinstance(got, (Fault, Translation))
    check_one(ram, rg, va, access, pl)
