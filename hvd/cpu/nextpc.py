"""Where one instruction goes next, decoded with capstone: the stop address of a single step.

Unicorn stops at ``until`` only when it translates the block reaching that address, so a step is
run with ``until`` = the address of the instruction executed next. For most instructions that is
the next one in memory; for a branch it is the target, which the guest registers, flags or stack
decide (``bx lr``, ``pop {r4, pc}``, a conditional branch). Without it a step of ``bx lr`` runs
on until something else stops it, which is how a WFI wake-up with the interrupt still masked
missed the guest's ``cpsie i`` two instructions later (ARM ARM A8.3 condition codes; A8.8 B, BL,
BLX, BX, CBZ, LDM/POP, LDR and MOV with PC as destination).

Instructions whose successor is not worked out here (exception returns such as ``subs pc, lr``
or ``ldm {..., pc}^``, computed jumps such as ``add pc, ...`` and ``tbb``, anything inside a
Thumb IT block, instructions that raise an exception) give None: the caller then falls back to
the next address in memory.
"""

from __future__ import annotations

from typing import Callable

from capstone import CS_ARCH_ARM, CS_MODE_ARM, CS_MODE_THUMB, Cs
from capstone import arm as csarm

from .access import decode_access

_cs_arm = Cs(CS_ARCH_ARM, CS_MODE_ARM)
_cs_arm.detail = True
_cs_thumb = Cs(CS_ARCH_ARM, CS_MODE_THUMB)
_cs_thumb.detail = True

CPSR_IT = 0x0600FC00
_N, _Z, _C, _V = 1 << 31, 1 << 30, 1 << 29, 1 << 28

_PC = csarm.ARM_REG_PC
_BRANCH_IMM = frozenset((csarm.ARM_INS_B, csarm.ARM_INS_BL))
_LDM = ("pop", "ldm")


def condition_passed(cc: int, cpsr: int) -> bool:
    """ARM ARM A8.3: whether condition ``cc`` (capstone's ARM_CC_*) holds for ``cpsr``."""
    n, z, c, v = bool(cpsr & _N), bool(cpsr & _Z), bool(cpsr & _C), bool(cpsr & _V)
    table = {
        csarm.ARM_CC_EQ: z, csarm.ARM_CC_NE: not z,
        csarm.ARM_CC_HS: c, csarm.ARM_CC_LO: not c,
        csarm.ARM_CC_MI: n, csarm.ARM_CC_PL: not n,
        csarm.ARM_CC_VS: v, csarm.ARM_CC_VC: not v,
        csarm.ARM_CC_HI: c and not z, csarm.ARM_CC_LS: not c or z,
        csarm.ARM_CC_GE: n == v, csarm.ARM_CC_LT: n != v,
        csarm.ARM_CC_GT: not z and n == v, csarm.ARM_CC_LE: z or n != v,
    }
    return table.get(cc, True)


def next_pc(code: bytes, pc: int, thumb: bool, cpsr: int, reg: Callable[[int], int],
            read32: Callable[[int], int | None]) -> int | None:
    """The address executed after the instruction in ``code`` at ``pc`` (without the Thumb bit),
    or None where it is not worked out. ``reg(capstone_reg_id)`` reads a register (PC reads as
    the instruction's own address), ``read32(va)`` a guest word (None if unreadable)."""
    if thumb and cpsr & CPSR_IT:
        return None
    cs = _cs_thumb if thumb else _cs_arm
    try:
        insn = next(cs.disasm(code, pc, 1))
    except StopIteration:
        return None
    fall = pc + insn.size
    if insn.cc not in (csarm.ARM_CC_AL, csarm.ARM_CC_INVALID) and not condition_passed(insn.cc, cpsr):
        return fall
    ops = insn.operands
    iid = insn.id
    if iid in _BRANCH_IMM:
        return ops[0].imm & 0xFFFFFFFF
    if iid == csarm.ARM_INS_BLX:
        if ops[0].type == csarm.ARM_OP_IMM:
            return ops[0].imm & 0xFFFFFFFF
        return _reg(ops[0].reg, pc, thumb, reg) & ~1
    if iid == csarm.ARM_INS_BX:
        return _reg(ops[0].reg, pc, thumb, reg) & ~1
    if iid in (csarm.ARM_INS_CBZ, csarm.ARM_INS_CBNZ):
        zero = reg(ops[0].reg) == 0
        return ops[1].imm & 0xFFFFFFFF if zero == (iid == csarm.ARM_INS_CBZ) else fall
    dest_pc = bool(ops) and ops[0].type == csarm.ARM_OP_REG and ops[0].reg == _PC
    mn = insn.mnemonic.split(".")[0]
    if mn.startswith(_LDM):
        if not any(op.type == csarm.ARM_OP_REG and op.reg == _PC for op in ops):
            return fall
        if "^" in insn.op_str:
            return None  # exception return: mode and CPSR change too
        acc = decode_access(code, pc, thumb, reg)
        if acc is None:
            return None
        word = read32((acc.start + acc.length - 4) & 0xFFFFFFFF)  # PC is the highest register
        return None if word is None else word & ~1
    if dest_pc:
        if mn == "ldr":
            acc = decode_access(code, pc, thumb, reg)
            word = None if acc is None else read32(acc.start)
            return None if word is None else word & ~1
        if mn == "mov" and len(ops) == 2 and ops[1].type == csarm.ARM_OP_REG:
            return _reg(ops[1].reg, pc, thumb, reg) & ~1
        return None
    if csarm.ARM_GRP_JUMP in insn.groups or csarm.ARM_GRP_INT in insn.groups:
        return None
    return fall


def _reg(r: int, pc: int, thumb: bool, reg: Callable[[int], int]) -> int:
    if r == _PC:
        return pc + (4 if thumb else 8)
    return reg(r)
