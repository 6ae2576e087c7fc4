"""CP15 c8 TLB maintenance operations and the other CP15 writes the monitor cares about.

Encodings are ``MCR p15, <opc1>, <Rt>, <CRn>, <CRm>, <opc2>`` (ARM ARM DDI 0406C, B4.2.3 "TLB
maintenance operations" and B3.18.7, table B3-49 "CP15 c8 register summary")::

    CRn  opc1 CRm opc2  name          operand in Rt
    c8   0    c3  0     TLBIALLIS     ignored                 (Multiprocessing Extensions)
    c8   0    c3  1     TLBIMVAIS     MVA[31:12] | ASID[7:0]
    c8   0    c3  2     TLBIASIDIS    ASID[7:0]
    c8   0    c3  3     TLBIMVAAIS    MVA[31:12]              (all ASIDs)
    c8   0    c5  0     ITLBIALL      ignored
    c8   0    c5  1     ITLBIMVA      MVA[31:12] | ASID[7:0]
    c8   0    c5  2     ITLBIASID     ASID[7:0]
    c8   0    c6  0     DTLBIALL      ignored
    c8   0    c6  1     DTLBIMVA      MVA[31:12] | ASID[7:0]
    c8   0    c6  2     DTLBIASID     ASID[7:0]
    c8   0    c7  0     TLBIALL       ignored
    c8   0    c7  1     TLBIMVA       MVA[31:12] | ASID[7:0]
    c8   0    c7  2     TLBIASID      ASID[7:0]
    c8   0    c7  3     TLBIMVAA      MVA[31:12]              (all ASIDs)

The shadow is one unified, single-core TLB: instruction-side, data-side and inner-shareable forms
invalidate what the unified local form does (invalidating more than asked is always allowed).
The Cortex-A8 lacks the Multiprocessing Extensions, so on it the IS forms and TLBIMVAA are
UNDEFINED; they are decoded anyway because kernels carry them (patched out at boot on UP).

Register writes (B4.1, "CP15 registers"): SCTLR c1,c0,0; TTBR0 c2,c0,0; TTBR1 c2,c0,1;
TTBCR c2,c0,2; DACR c3,c0,0; CONTEXTIDR c13,c0,1 (all opc1 = 0).
"""

from __future__ import annotations

from typing import NamedTuple

# Scopes: what an operation selects.
SCOPE_ALL = "all"      # every entry
SCOPE_MVA = "mva"      # entries for the MVA with the given ASID, and global entries for it
SCOPE_ASID = "asid"    # non-global entries of the given ASID
SCOPE_MVAA = "mvaa"    # entries for the MVA, any ASID, global or not


class TlbOp(NamedTuple):
    """A decoded TLB maintenance operation kind."""

    name: str
    scope: str
    side: str          # "unified", "instruction" or "data"
    inner_shareable: bool
    crm: int
    opc2: int


_OPS = (
    TlbOp("TLBIALLIS", SCOPE_ALL, "unified", True, 3, 0),
    TlbOp("TLBIMVAIS", SCOPE_MVA, "unified", True, 3, 1),
    TlbOp("TLBIASIDIS", SCOPE_ASID, "unified", True, 3, 2),
    TlbOp("TLBIMVAAIS", SCOPE_MVAA, "unified", True, 3, 3),
    TlbOp("ITLBIALL", SCOPE_ALL, "instruction", False, 5, 0),
    TlbOp("ITLBIMVA", SCOPE_MVA, "instruction", False, 5, 1),
    TlbOp("ITLBIASID", SCOPE_ASID, "instruction", False, 5, 2),
    TlbOp("DTLBIALL", SCOPE_ALL, "data", False, 6, 0),
    TlbOp("DTLBIMVA", SCOPE_MVA, "data", False, 6, 1),
    TlbOp("DTLBIASID", SCOPE_ASID, "data", False, 6, 2),
    TlbOp("TLBIALL", SCOPE_ALL, "unified", False, 7, 0),
    TlbOp("TLBIMVA", SCOPE_MVA, "unified", False, 7, 1),
    TlbOp("TLBIASID", SCOPE_ASID, "unified", False, 7, 2),
    TlbOp("TLBIMVAA", SCOPE_MVAA, "unified", False, 7, 3),
)

TLB_OPS: dict[str, TlbOp] = {op.name: op for op in _OPS}
TLB_OP_NAMES: tuple[str, ...] = tuple(op.name for op in _OPS)
_BY_ENCODING: dict[tuple[int, int], TlbOp] = {(op.crm, op.opc2): op for op in _OPS}


def decode_tlb_op(crn: int, opc1: int, crm: int, opc2: int) -> TlbOp | None:
    """The TLB operation ``MCR p15, opc1, Rt, c<crn>, c<crm>, opc2`` performs, or None."""
    if crn != 8 or opc1 != 0:
        return None
    return _BY_ENCODING.get((crm, opc2))


def operand(op: TlbOp, value: int) -> tuple[int | None, int | None]:
    """Split the Rt value of ``op`` into (MVA page address, ASID); None where not used."""
    value &= 0xFFFFFFFF
    if op.scope == SCOPE_MVA:
        return value & 0xFFFFF000, value & 0xFF
    if op.scope == SCOPE_MVAA:
        return value & 0xFFFFF000, None
    if op.scope == SCOPE_ASID:
        return None, value & 0xFF
    return None, None


# CP15 register writes other than TLB maintenance that change translation.
REG_SCTLR = "SCTLR"
REG_TTBR0 = "TTBR0"
REG_TTBR1 = "TTBR1"
REG_TTBCR = "TTBCR"
REG_DACR = "DACR"
REG_CONTEXTIDR = "CONTEXTIDR"

_REGS: dict[tuple[int, int, int, int], str] = {
    # (crn, opc1, crm, opc2)
    (1, 0, 0, 0): REG_SCTLR,
    (2, 0, 0, 0): REG_TTBR0,
    (2, 0, 0, 1): REG_TTBR1,
    (2, 0, 0, 2): REG_TTBCR,
    (3, 0, 0, 0): REG_DACR,
    (13, 0, 0, 1): REG_CONTEXTIDR,
}
REG_NAMES: tuple[str, ...] = tuple(_REGS.values())


def decode_reg_write(crn: int, opc1: int, crm: int, opc2: int) -> str | None:
    """The translation-control register ``MCR p15, opc1, Rt, c<crn>, c<crm>, opc2`` writes."""
    return _REGS.get((crn, opc1, crm, opc2))


def decode_cp15_write(crn: int, opc1: int, crm: int, opc2: int) -> tuple[str, str] | None:
    """("tlb", op name) or ("reg", register name) for an MCR to p15 the monitor must see."""
    op = decode_tlb_op(crn, opc1, crm, opc2)
    if op is not None:
        return "tlb", op.name
    reg = _REGS.get((crn, opc1, crm, opc2))
    if reg is not None:
        return "reg", reg
    return None
