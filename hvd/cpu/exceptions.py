"""ARMv7-A exception entry, done by hvd because Unicorn only reports the exception number.

Follows the ARM ARM (ARMv7-A/R) B1.8 "Exception handling": the pseudo-code functions
TakeUndefInstrException, TakeSVCException, TakePrefetchAbortException, TakeDataAbortException,
TakePhysicalIRQException and TakePhysicalFIQException. Every exception kind goes through
:func:`enter_exception`, the single place where the mode switch, the banked SPSR/LR, the CPSR
mask bits, the instruction set state and the vector address are computed.

Return-address offsets (the value written to the new mode's LR, B1.8.3 table B1-7), where
``addr`` is the address of the instruction concerned:

=============  ==============  ==============
exception      ARM state       Thumb state
=============  ==============  ==============
UND            addr + 4        addr + 2
SVC            addr + 4        addr + 2
PABT           addr + 4        addr + 4
DABT           addr + 8        addr + 8
IRQ / FIQ      next + 4        next + 4
=============  ==============  ==============
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from unicorn.arm_const import UC_ARM_REG_CPSR, UC_ARM_REG_LR, UC_ARM_REG_PC, UC_ARM_REG_SPSR

from .arm import (
    CP15_DFAR, CP15_DFSR, CP15_IFAR, CP15_IFSR, CP15_SCTLR, CP15_VBAR, CPSR_A, CPSR_E, CPSR_F,
    CPSR_I, CPSR_IT, CPSR_J, CPSR_M, CPSR_T, MODE_ABT, MODE_FIQ, MODE_IRQ, MODE_SVC, MODE_UND,
    SCTLR_EE, SCTLR_TE, SCTLR_V, VEC_DABT, VEC_FIQ, VEC_IRQ, VEC_PABT, VEC_SVC, VEC_UND, CoreRegs, Cp15,
)


class Exc(Enum):
    UND = "und"
    SVC = "svc"
    PABT = "pabt"
    DABT = "dabt"
    IRQ = "irq"
    FIQ = "fiq"


#: kind -> (target mode, vector offset, sets A, sets F)
_TABLE = {
    Exc.UND: (MODE_UND, VEC_UND, False, False),
    Exc.SVC: (MODE_SVC, VEC_SVC, False, False),
    Exc.PABT: (MODE_ABT, VEC_PABT, True, False),
    Exc.DABT: (MODE_ABT, VEC_DABT, True, False),
    Exc.IRQ: (MODE_IRQ, VEC_IRQ, True, False),
    Exc.FIQ: (MODE_FIQ, VEC_FIQ, True, True),
}


#: kind -> (target mode, vector offset, sets A, sets F), for the C entry (hvd.cpu.svchook)
ENTRY_TABLE = _TABLE


@dataclass(frozen=True, slots=True)
class AbortInfo:
    """What an abort writes to the fault registers: FSR value and faulting address."""

    fsr: int
    far: int


def lr_for(kind: Exc, addr: int, thumb: bool) -> int:
    """The LR value for an exception caused by the instruction at ``addr`` (for IRQ/FIQ: the
    address of the next instruction to execute)."""
    if kind is Exc.UND or kind is Exc.SVC:
        return addr + (2 if thumb else 4)
    if kind is Exc.DABT:
        return addr + 8
    return addr + 4  # PABT, IRQ, FIQ


def vector_base(cp15: Cp15, sctlr: int) -> int:
    if sctlr & SCTLR_V:
        return 0xFFFF0000
    return cp15.read(CP15_VBAR) & 0xFFFFFFE0


def enter_exception(regs: CoreRegs, cp15: Cp15, kind: Exc, lr: int, abort: AbortInfo | None = None) -> int:
    """Take exception ``kind`` with return link ``lr``; returns the vector address jumped to.

    Order matters with Unicorn: CPSR first (it swaps the banked registers), then SPSR, LR, PC.
    """
    mode, offset, set_a, set_f = _TABLE[kind]
    cpsr = regs.read(UC_ARM_REG_CPSR)
    sctlr = cp15.read(CP15_SCTLR)
    if abort is not None:
        if kind is Exc.DABT:
            cp15.write(CP15_DFSR, abort.fsr)
            cp15.write(CP15_DFAR, abort.far)
        else:
            cp15.write(CP15_IFSR, abort.fsr)
            cp15.write(CP15_IFAR, abort.far)
    new = (cpsr & ~(CPSR_M | CPSR_T | CPSR_IT | CPSR_J | CPSR_E)) | mode | CPSR_I
    if set_a:
        new |= CPSR_A
    if set_f:
        new |= CPSR_F
    thumb = bool(sctlr & SCTLR_TE)
    if thumb:
        new |= CPSR_T
    if sctlr & SCTLR_EE:
        new |= CPSR_E
    vector = (vector_base(cp15, sctlr) + offset) & 0xFFFFFFFF
    regs.write(UC_ARM_REG_CPSR, new)
    regs.write(UC_ARM_REG_SPSR, cpsr)
    regs.write(UC_ARM_REG_LR, lr & 0xFFFFFFFF)
    regs.write(UC_ARM_REG_PC, vector | (1 if thumb else 0))
    return vector


def irq_allowed(cpsr: int, fiq: bool) -> bool:
    return not (cpsr & (CPSR_F if fiq else CPSR_I))


__all__ = ["Exc", "AbortInfo", "enter_exception", "lr_for", "irq_allowed", "MODE_SVC",
           "MODE_ABT", "MODE_IRQ", "MODE_FIQ", "MODE_UND"]
