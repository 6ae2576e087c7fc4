"""ARMv7-A architectural constants and fast CP15 access through Unicorn.

Mode numbers, CPSR bits and vector offsets follow the ARM Architecture Reference Manual
(ARMv7-A/R, B1.3 "Processor modes" and B1.8 "Exception handling").
"""

from __future__ import annotations

import ctypes

from unicorn import Uc
from unicorn.arm_const import (
    UC_ARM_REG_CP_REG, UC_ARM_REG_LR, UC_ARM_REG_PC, UC_ARM_REG_R0, UC_ARM_REG_R1, UC_ARM_REG_R2,
    UC_ARM_REG_R3, UC_ARM_REG_R4, UC_ARM_REG_R5, UC_ARM_REG_R6, UC_ARM_REG_R7, UC_ARM_REG_R8,
    UC_ARM_REG_R9, UC_ARM_REG_R10, UC_ARM_REG_R11, UC_ARM_REG_R12, UC_ARM_REG_SP,
)
from unicorn.unicorn_py3.arch.arm import UcRegCP
from unicorn.unicorn_py3.unicorn import uclib

MODE_USR = 0x10
MODE_FIQ = 0x11
MODE_IRQ = 0x12
MODE_SVC = 0x13
MODE_MON = 0x16
MODE_ABT = 0x17
MODE_UND = 0x1B
MODE_SYS = 0x1F
MODE_NAMES = {MODE_USR: "usr", MODE_FIQ: "fiq", MODE_IRQ: "irq", MODE_SVC: "svc",
              MODE_MON: "mon", MODE_ABT: "abt", MODE_UND: "und", MODE_SYS: "sys"}

CPSR_M = 0x1F
CPSR_T = 1 << 5
CPSR_F = 1 << 6
CPSR_I = 1 << 7
CPSR_A = 1 << 8
CPSR_E = 1 << 9
CPSR_IT = (0x3F << 10) | (0x3 << 25)
CPSR_J = 1 << 24

SCTLR_M = 1 << 0
SCTLR_A = 1 << 1
SCTLR_V = 1 << 13
SCTLR_EE = 1 << 25
SCTLR_TE = 1 << 30
SCTLR_AFE = 1 << 29
SCTLR_TRE = 1 << 28

# Vector offsets (B1.8.1, table B1-3)
VEC_RESET = 0x00
VEC_UND = 0x04
VEC_SVC = 0x08
VEC_PABT = 0x0C
VEC_DABT = 0x10
VEC_IRQ = 0x18
VEC_FIQ = 0x1C

# (crn, crm, opc1, opc2) of the CP15 registers hvd reads and writes
CP15_MIDR = (0, 0, 0, 0)
CP15_SCTLR = (1, 0, 0, 0)
CP15_TTBR0 = (2, 0, 0, 0)
CP15_TTBR1 = (2, 0, 0, 1)
CP15_TTBCR = (2, 0, 0, 2)
CP15_DACR = (3, 0, 0, 0)
CP15_DFSR = (5, 0, 0, 0)
CP15_IFSR = (5, 0, 0, 1)
CP15_DFAR = (6, 0, 0, 0)
CP15_IFAR = (6, 0, 0, 2)
CP15_VBAR = (12, 0, 0, 0)
CP15_SCR = (1, 1, 0, 0)
#: SCR.NS | SCR.FW | SCR.AW: Unicorn runs the core in Non-secure state, where CPSR.A/F may only
#: change when SCR.AW/FW allow it; a GP DM3730 gives the kernel full control of both.
SCR_NS_FW_AW = 0x31
CP15_CONTEXTIDR = (13, 0, 0, 1)

CORTEX_A8_R3P2_MIDR = 0x413FC082

#: Unicorn's page (its TLB's and its memory map's granule). Unicorn's ARM default is QEMU's
#: 1 KiB, for ARMv5 tiny pages; ARMv7's VMSA has none (its smallest mapping is a 4 KiB small
#: page, B3.5), so hvd sets 4 KiB: one TLB fill then serves four times the memory.
UC_PAGE_SIZE = 0x1000
UC_PAGE_MASK = 0xFFFFF000


_reg_read = ctypes.CDLL(uclib._name).uc_reg_read
_reg_read.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
_reg_write = ctypes.CDLL(uclib._name).uc_reg_write
_reg_write.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]


#: Unicorn's register id of R0..R15, by register number (as instructions encode Rn, Rt, Rd)
CORE_REG_IDS = (UC_ARM_REG_R0, UC_ARM_REG_R1, UC_ARM_REG_R2, UC_ARM_REG_R3, UC_ARM_REG_R4,
                UC_ARM_REG_R5, UC_ARM_REG_R6, UC_ARM_REG_R7, UC_ARM_REG_R8, UC_ARM_REG_R9,
                UC_ARM_REG_R10, UC_ARM_REG_R11, UC_ARM_REG_R12, UC_ARM_REG_SP, UC_ARM_REG_LR,
                UC_ARM_REG_PC)


class CoreRegs:
    """Reads and writes the 32-bit core registers (R0-R15, CPSR, SPSR) with one preallocated
    value. The binding's ``reg_read`` picks a value type per call and costs ~3.7 us; this costs
    ~1.2 us, and the vCPU reads PC and CPSR on every slice, exception and guest fault.
    ``write`` is ``uc_reg_write``, exactly what the binding calls."""

    __slots__ = ("_uch", "_val", "_ref")

    def __init__(self, uc: Uc) -> None:
        self._uch = uc._uch
        self._val = ctypes.c_uint64()
        self._ref = ctypes.byref(self._val)

    def read(self, regid: int) -> int:
        _reg_read(self._uch, regid, self._ref)
        return self._val.value & 0xFFFFFFFF

    def read_r(self, n: int) -> int:
        """R<n> (0-15) by register number."""
        return self.read(CORE_REG_IDS[n])

    def write(self, regid: int, value: int) -> None:
        self._val.value = value & 0xFFFFFFFF
        _reg_write(self._uch, regid, self._ref)


class Cp15:
    """Reads and writes CP15 registers of the non-secure bank with one preallocated struct.

    The Python binding builds a new ctypes structure per access; on the monitor's fill path that
    matters, so this keeps one and calls ``uc_reg_read`` directly.
    """

    def __init__(self, uc: Uc) -> None:
        self._uch = uc._uch
        self._reg = UcRegCP()
        self._ref = ctypes.byref(self._reg)
        self._reg.cp = 15
        self._reg.is64 = 0
        self._reg.sec = 0

    def read(self, which: tuple[int, int, int, int]) -> int:
        r = self._reg
        r.crn, r.crm, r.opc1, r.opc2 = which
        uclib.uc_reg_read(self._uch, UC_ARM_REG_CP_REG, self._ref)
        return r.val & 0xFFFFFFFF

    def write(self, which: tuple[int, int, int, int], value: int) -> None:
        r = self._reg
        r.crn, r.crm, r.opc1, r.opc2 = which
        r.val = value & 0xFFFFFFFF
        uclib.uc_reg_write(self._uch, UC_ARM_REG_CP_REG, self._ref)
