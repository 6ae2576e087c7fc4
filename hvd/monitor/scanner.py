"""Find the CP15 writes the monitor must see in a guest code page.

Privileged guest code executes ``MCR p15`` without trapping into hvd, so before a code page first
runs privileged the monitor scans it and hooks the operations it found (design.md section 2):

* every TLB maintenance operation (``MCR p15, 0, Rt, c8, cX, Y``; see :mod:`hvd.monitor.tlbops`),
* and, as a separate category, writes to SCTLR, TTBR0, TTBR1, TTBCR, DACR and CONTEXTIDR, so the
  caller can decide which of those to hook.

Encodings searched (ARM ARM DDI 0406C, A8.8.98 "MCR, MCR2")::

    ARM  A1:  cond 1110 opc1 0 CRn | Rt 1111 opc2 1 CRm         (cond != 1111; that is MCR2)
    Thumb T1: 1110 1110 opc1 0 CRn | Rt 1111 opc2 1 CRm         (two halfwords, any halfword
                                                                 alignment; T2 = MCR2 is 1111 1110)

Little-endian bytes of a candidate, opc1 = 0 and CRn one of 1, 2, 3, 8, 13:

    ARM    at offsets = 0 mod 4: [opc2:1:CRm] [Rt:F] [0:0:CRn] [cond:E]
    Thumb  at offsets = 0 mod 2: [0:0:CRn] [EE] [opc2:1:CRm] [Rt:F]

A byte-class pass over the page finds these patterns in C; only the few candidates are decoded
with capstone (detail on) to confirm the instruction and read its operands. A 4 KiB page costs
about 15 us on an idle host, plus about 20 us per candidate decoded.

Anything in the page counts, code or literal-pool data alike: a literal is never executed, so
its hook never fires. With ``thumb=None`` both states are searched, and a Thumb find may sit
where the guest actually runs ARM code; a hook that wants to be exact compares the CPSR.T bit
with :attr:`Cp15Op.mode` when it fires (a spurious extra invalidation is harmless anyway).
MCR to other coprocessors (p14 debug) and other CP15 registers (c7 cache maintenance, barriers)
are not reported.
"""

from __future__ import annotations

import threading
from typing import NamedTuple

import capstone
from capstone import arm as cs_arm

from hvd.monitor.tlbops import decode_cp15_write

MODE_ARM = "arm"
MODE_THUMB = "thumb"
CATEGORY_TLB = "tlb"
CATEGORY_REG = "reg"


class Cp15Op(NamedTuple):
    """One CP15 write found in a page."""

    address: int       # guest virtual address of the instruction
    mode: str          # "arm" or "thumb"
    category: str      # "tlb" (TLB maintenance) or "reg" (translation-control register write)
    kind: str          # e.g. "TLBIMVA", "TTBR0"
    rt: int            # source register number (0-15)
    cond: int          # ARM condition field (14 = always; Thumb: 14, IT blocks are the hook's job)
    crn: int
    crm: int
    opc2: int
    size: int = 4


# First pass: every candidate, ARM or Thumb, has a CRn byte (1, 2, 3, 8 or 13) followed by a byte
# whose low nibble is 0xE (ARM: the cond:1110 byte; Thumb: 0xEE). ``bytes.translate`` maps the page
# onto a string of 'C' (CRn byte), 'E' (low nibble 0xE) and '.', and ``find(b"CE")`` walks the
# hits in C. The two byte classes are disjoint, so no hit can hide another.
_CRNS = frozenset((0x01, 0x02, 0x03, 0x08, 0x0D))
_CLASSES = bytes(0x43 if b in _CRNS else 0x45 if b & 0xF == 0xE else 0x2E for b in range(256))

_REG_NUMBERS = {f"r{i}": i for i in range(16)}
_REG_NUMBERS.update(sb=9, sl=10, fp=11, ip=12, sp=13, lr=14, pc=15)

_tls = threading.local()


def _disassembler(thumb: bool) -> capstone.Cs:
    attr = "thumb" if thumb else "arm"
    md = getattr(_tls, attr, None)
    if md is None:
        md = capstone.Cs(capstone.CS_ARCH_ARM,
                         capstone.CS_MODE_THUMB if thumb else capstone.CS_MODE_ARM)
        md.detail = True
        setattr(_tls, attr, md)
    return md


def _confirm(code: bytes, address: int, thumb: bool) -> Cp15Op | None:
    """Decode one candidate with capstone; a Cp15Op if it is an MCR to p15 we care about."""
    md = _disassembler(thumb)
    for insn in md.disasm(code, address, 1):
        if insn.id != cs_arm.ARM_INS_MCR or insn.size != 4:
            return None
        ops = insn.operands
        if len(ops) != 6:
            return None
        cp, opc1, rt, crn, crm, opc2 = ops
        if (cp.type != cs_arm.ARM_OP_PIMM or cp.value.imm != 15 or opc1.type != cs_arm.ARM_OP_IMM
                or rt.type != cs_arm.ARM_OP_REG or crn.type != cs_arm.ARM_OP_CIMM
                or crm.type != cs_arm.ARM_OP_CIMM or opc2.type != cs_arm.ARM_OP_IMM):
            return None
        found = decode_cp15_write(crn.value.imm, opc1.value.imm, crm.value.imm, opc2.value.imm)
        if found is None:
            return None
        rt_num = _REG_NUMBERS.get(insn.reg_name(rt.reg), -1)
        cond = (code[3] >> 4) if not thumb else 14
        return Cp15Op(address, MODE_THUMB if thumb else MODE_ARM, found[0], found[1], rt_num,
                      cond, crn.value.imm, crm.value.imm, opc2.value.imm)
    return None


def scan_page(data: bytes, base_va: int, thumb: bool | None = None) -> list[Cp15Op]:
    """Every CP15 write of interest in ``data`` (a code page at ``base_va``).

    ``thumb``: False scans ARM words only, True Thumb halfwords only, None both. The result is
    sorted by address; TLB operations have category "tlb", register writes "reg".
    """
    data = bytes(data)
    out: list[Cp15Op] = []
    want_arm = thumb is not True
    want_thumb = thumb is not False
    classes = data.translate(_CLASSES)
    n = len(data)
    pos = classes.find(b"CE")
    while pos >= 0:
        if (want_arm and pos & 3 == 2 and data[pos + 1] < 0xF0 and data[pos - 2] & 0x10
                and data[pos - 1] & 0xF == 0xF):
            op = _confirm(data[pos - 2:pos + 2], base_va + pos - 2, False)
            if op is not None:
                out.append(op)
        if (want_thumb and not pos & 1 and pos + 4 <= n and data[pos + 1] == 0xEE
                and data[pos + 2] & 0x10 and data[pos + 3] & 0xF == 0xF):
            op = _confirm(data[pos:pos + 4], base_va + pos, True)
            if op is not None:
                out.append(op)
        pos = classes.find(b"CE", pos + 1)
    out.sort(key=lambda op: (op.address, op.mode))
    return out


def split(ops: list[Cp15Op]) -> tuple[list[Cp15Op], list[Cp15Op]]:
    """(TLB maintenance operations, register writes)."""
    return ([op for op in ops if op.category == CATEGORY_TLB],
            [op for op in ops if op.category == CATEGORY_REG])
