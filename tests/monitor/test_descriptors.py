"""The walker's fast bit decoding against the construct declarations (the source of truth)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hvd.monitor import descriptors as D
from tests.monitor.support import examples

word32 = st.integers(0, 0xFFFFFFFF)


@settings(max_examples=examples(500))
@given(word32)
def test_l1_fast_path_matches_construct(w: int) -> None:
    kind, parsed = D.parse_l1(w)
    assert kind == D.l1_kind(w)
    if kind in (D.FAULT, D.RESERVED):
        return
    fast = D.l1_fields(w)
    for name, value in fast.items():
        assert int(parsed[name]) == value, (hex(w), name)
    assert D.build_l1(kind, **fast) == w


@settings(max_examples=examples(500))
@given(word32)
def test_l2_fast_path_matches_construct(w: int) -> None:
    kind, parsed = D.parse_l2(w)
    assert kind == D.l2_kind(w)
    if kind == D.FAULT:
        return
    fast = D.l2_fields(w)
    for name, value in fast.items():
        assert int(parsed[name]) == value, (hex(w), name)
    assert D.build_l2(kind, **fast) == w


def test_masks_agree_with_declarations() -> None:
    sec = D.build_l1("section", base=0xFFF)
    assert sec & D.L1_SECTION_BASE == D.L1_SECTION_BASE
    assert D.build_l1("supersection", base=0xFF) & D.L1_SUPERSECTION_BASE == D.L1_SUPERSECTION_BASE
    assert D.build_l1("page_table", base=(1 << 22) - 1) & D.L1_TABLE_BASE == D.L1_TABLE_BASE
    assert D.build_l2("large", base=0xFFFF) & D.L2_LARGE_BASE == D.L2_LARGE_BASE
    assert D.build_l2("small", base=0xFFFFF) & D.L2_SMALL_BASE == D.L2_SMALL_BASE
    assert D.build_l1("section", xn=1) & D.L1_XN
    assert D.build_l1("section", apx=1) == D.L1_APX | 2
    assert D.build_l1("section", ng=1) == D.L1_NG | 2
    assert D.build_l1("section", ap=3) == (3 << D.L1_AP_SHIFT) | 2
    assert D.build_l1("section", domain=15) == (15 << D.L1_DOMAIN_SHIFT) | 2
    assert D.build_l1("supersection") == D.L1_SUPER | 2
    assert D.build_l2("small", apx=1, ng=1, ap=3) == D.L2_APX | D.L2_NG | (3 << D.L2_AP_SHIFT) | 2
    assert D.build_l2("large", xn=1) == D.L2_LARGE_XN | 1
    assert D.build_l2("small", xn=1) == 3


def test_kinds() -> None:
    assert D.l1_kind(0) == D.FAULT
    assert D.l1_kind(1) == D.PAGE_TABLE
    assert D.l1_kind(2) == D.SECTION
    assert D.l1_kind(3) == D.RESERVED
    assert D.l1_kind(0x40002) == D.SUPERSECTION
    assert D.l2_kind(1) == D.LARGE
    assert D.l2_kind(2) == D.SMALL and D.l2_kind(3) == D.SMALL
    assert D.parse_l1(3) == (D.RESERVED, None)


def test_unknown_field_rejected() -> None:
    import pytest

    with pytest.raises(TypeError):
        D.build_l1("section", bogus=1)
