"""One-call snapshot of the CPU state the monitor needs at every TLB fill.

The monitor never caches TTBRx/TTBCR/DACR/CONTEXTIDR/SCTLR across fills: it reads them from
Unicorn when it needs them, so a guest that changes them without a TLB operation is still
translated the way the architecture says. Reading them one by one through the Python binding
costs about 2.5 us each; this reads CPSR and all six CP15 registers with one
``uc_reg_read_batch`` call into preallocated buffers (about 3 us in all).
"""

from __future__ import annotations

import ctypes

from unicorn import Uc
from unicorn.arm_const import UC_ARM_REG_CP_REG, UC_ARM_REG_CPSR, UC_ARM_REG_PC
from unicorn.unicorn_py3.arch.arm import UcRegCP
from unicorn.unicorn_py3.unicorn import uclib

from hvd.cpu.arm import CP15_CONTEXTIDR, CP15_DACR, CP15_SCTLR, CP15_TTBCR, CP15_TTBR0, CP15_TTBR1

_ORDER = (CP15_SCTLR, CP15_TTBR0, CP15_TTBR1, CP15_TTBCR, CP15_DACR, CP15_CONTEXTIDR)


class StateReader:
    __slots__ = ("_uch", "_ids", "_vals", "_n", "_cpsr", "_pc", "_regs", "_fn")

    def __init__(self, uc: Uc) -> None:
        self._uch = uc._uch
        n = len(_ORDER) + 2
        self._n = n
        self._ids = (ctypes.c_int * n)(UC_ARM_REG_CPSR, UC_ARM_REG_PC,
                                        *([UC_ARM_REG_CP_REG] * (n - 2)))
        self._cpsr = ctypes.c_uint64()
        self._pc = ctypes.c_uint64()
        self._regs = [UcRegCP() for _ in _ORDER]
        for reg, (crn, crm, opc1, opc2) in zip(self._regs, _ORDER):
            reg.cp, reg.is64, reg.sec = 15, 0, 0
            reg.crn, reg.crm, reg.opc1, reg.opc2 = crn, crm, opc1, opc2
        self._vals = (ctypes.c_void_p * n)(ctypes.addressof(self._cpsr), ctypes.addressof(self._pc),
                                           *[ctypes.addressof(r) for r in self._regs])
        self._fn = uclib.uc_reg_read_batch

    @property
    def pc(self) -> int:
        """PC as of the last :meth:`read`."""
        return self._pc.value & 0xFFFFFFFF

    def read(self) -> tuple[int, int, int, int, int, int, int]:
        """(cpsr, sctlr, ttbr0, ttbr1, ttbcr, dacr, contextidr)"""
        self._fn(self._uch, self._ids, self._vals, self._n)
        r = self._regs
        return (self._cpsr.value & 0xFFFFFFFF, r[0].val & 0xFFFFFFFF, r[1].val & 0xFFFFFFFF,
                r[2].val & 0xFFFFFFFF, r[3].val & 0xFFFFFFFF, r[4].val & 0xFFFFFFFF,
                r[5].val & 0xFFFFFFFF)
