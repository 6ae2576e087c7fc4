"""CP15 c8 decode (B4.2.3, table B3-49) and operand splitting."""

from __future__ import annotations

import pytest

from hvd.monitor.tlbops import (SCOPE_ALL, SCOPE_ASID, SCOPE_MVA, SCOPE_MVAA, TLB_OP_NAMES,
                                TLB_OPS, decode_cp15_write, decode_reg_write, decode_tlb_op,
                                operand)

TABLE = {
    (3, 0): "TLBIALLIS", (3, 1): "TLBIMVAIS", (3, 2): "TLBIASIDIS", (3, 3): "TLBIMVAAIS",
    (5, 0): "ITLBIALL", (5, 1): "ITLBIMVA", (5, 2): "ITLBIASID",
    (6, 0): "DTLBIALL", (6, 1): "DTLBIMVA", (6, 2): "DTLBIASID",
    (7, 0): "TLBIALL", (7, 1): "TLBIMVA", (7, 2): "TLBIASID", (7, 3): "TLBIMVAA",
}


def test_every_encoding() -> None:
    for crm in range(16):
        for opc2 in range(8):
            op = decode_tlb_op(8, 0, crm, opc2)
            name = TABLE.get((crm, opc2))
            assert (op.name if op else None) == name
    assert sorted(TLB_OP_NAMES) == sorted(TABLE.values())


@pytest.mark.parametrize("crn, opc1", [(7, 0), (8, 1), (8, 4), (9, 0)])
def test_not_tlb_ops(crn: int, opc1: int) -> None:
    assert decode_tlb_op(crn, opc1, 7, 1) is None


def test_scopes_and_sides() -> None:
    assert TLB_OPS["TLBIMVA"].scope == SCOPE_MVA
    assert TLB_OPS["DTLBIASID"].scope == SCOPE_ASID and TLB_OPS["DTLBIASID"].side == "data"
    assert TLB_OPS["ITLBIALL"].scope == SCOPE_ALL and TLB_OPS["ITLBIALL"].side == "instruction"
    assert TLB_OPS["TLBIMVAAIS"].scope == SCOPE_MVAA and TLB_OPS["TLBIMVAAIS"].inner_shareable


def test_operands() -> None:
    assert operand(TLB_OPS["TLBIMVA"], 0x1234_5ABC) == (0x1234_5000, 0xBC)
    assert operand(TLB_OPS["TLBIMVAA"], 0x1234_5ABC) == (0x1234_5000, None)
    assert operand(TLB_OPS["TLBIASIDIS"], 0xFFFF_FF42) == (None, 0x42)
    assert operand(TLB_OPS["TLBIALL"], 0xDEAD_BEEF) == (None, None)


def test_register_writes() -> None:
    assert decode_reg_write(1, 0, 0, 0) == "SCTLR"
    assert decode_reg_write(2, 0, 0, 0) == "TTBR0"
    assert decode_reg_write(2, 0, 0, 1) == "TTBR1"
    assert decode_reg_write(2, 0, 0, 2) == "TTBCR"
    assert decode_reg_write(3, 0, 0, 0) == "DACR"
    assert decode_reg_write(13, 0, 0, 1) == "CONTEXTIDR"
    assert decode_reg_write(13, 0, 0, 0) is None   # FCSEIDR
    assert decode_reg_write(1, 0, 0, 1) is None    # ACTLR
    assert decode_cp15_write(8, 0, 7, 1) == ("tlb", "TLBIMVA")
    assert decode_cp15_write(2, 0, 0, 0) == ("reg", "TTBR0")
    assert decode_cp15_write(7, 0, 5, 0) is None   # ICIALLU: cache, not TLB
