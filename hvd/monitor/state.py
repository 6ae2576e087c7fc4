"""One-call snapshot of the CPU state the monitor needs at every TLB fill.

The monitor never caches TTBRx/TTBCR/DACR/CONTEXTIDR/SCTLR across fills: it reads them from
Unicorn when it needs them, so a guest that changes them without a TLB operation is still
translated the way the architecture says. Through the Python binding each register costs about
2.5 us; this reads CPSR, PC and the six CP15 registers with one ``uc_reg_read_batch`` call into
one preallocated buffer (a raw ctypes function, no argument conversion) and decodes the buffer
with a single ``struct.unpack_from``.
"""

from __future__ import annotations

import ctypes
import struct

from unicorn import Uc
from unicorn.arm_const import UC_ARM_REG_CP_REG, UC_ARM_REG_CPSR, UC_ARM_REG_PC
from unicorn.unicorn_py3.arch.arm import UcRegCP
from unicorn.unicorn_py3.unicorn import uclib

from hvd.cpu.arm import CP15_CONTEXTIDR, CP15_DACR, CP15_SCTLR, CP15_TTBCR, CP15_TTBR0, CP15_TTBR1

_ORDER = (CP15_SCTLR, CP15_TTBR0, CP15_TTBR1, CP15_TTBCR, CP15_DACR, CP15_CONTEXTIDR)
_NAMES = ("sctlr", "ttbr0", "ttbr1", "ttbcr", "dacr", "contextidr")
_N = len(_ORDER) + 2
_CP_SIZE = ctypes.sizeof(UcRegCP)
_VAL_OFF = UcRegCP.val.offset


class _Buffers(ctypes.Structure):
    _fields_ = [("cpsr", ctypes.c_uint64), ("pc", ctypes.c_uint64),
                ("cp", UcRegCP * len(_ORDER))]


# cpsr, pc, then the 'val' field of each CP register struct (little-endian host)
_FMT = "<QQ" + "".join(f"{_VAL_OFF + (i * _CP_SIZE) - (i and (_VAL_OFF + (i - 1) * _CP_SIZE + 8)) }xQ" if i else f"{_VAL_OFF}xQ"
                       for i in range(len(_ORDER)))
_UNPACK = struct.Struct(_FMT).unpack_from
_raw_batch = ctypes.CDLL(uclib._name).uc_reg_read_batch
_raw_batch.restype = ctypes.c_int


class StateReader:
    __slots__ = ("_uch", "_ids", "_vals", "_buf", "_view", "pc", "_layout")

    def __init__(self, uc: Uc) -> None:
        self._uch = uc._uch
        self._buf = _Buffers()
        for reg, (crn, crm, opc1, opc2) in zip(self._buf.cp, _ORDER):
            reg.cp, reg.is64, reg.sec = 15, 0, 0
            reg.crn, reg.crm, reg.opc1, reg.opc2 = crn, crm, opc1, opc2
        base = ctypes.addressof(self._buf)
        addrs = [base + _Buffers.cpsr.offset, base + _Buffers.pc.offset]
        addrs += [base + _Buffers.cp.offset + i * _CP_SIZE for i in range(len(_ORDER))]
        self._ids = (ctypes.c_int * _N)(UC_ARM_REG_CPSR, UC_ARM_REG_PC, *([UC_ARM_REG_CP_REG] * len(_ORDER)))
        self._vals = (ctypes.c_void_p * _N)(*addrs)
        self._view = memoryview(self._buf).cast("B")
        #: PC as of the last :meth:`read`
        self.pc = 0

    def raw_layout(self, names: tuple[str, ...]) -> tuple[ctypes.Array, ctypes.Array, list[int]]:
        """For a caller in C that does the batch read itself: (register ids, value pointers,
        address of each value as it lands) for CPSR, PC, then the named CP15 registers (of
        sctlr, ttbr0, ttbr1, ttbcr, dacr, contextidr)."""
        index = [_NAMES.index(n) for n in names]
        ids = (ctypes.c_int * (2 + len(index)))(UC_ARM_REG_CPSR, UC_ARM_REG_PC,
                                                  *([UC_ARM_REG_CP_REG] * len(index)))
        vals = (ctypes.c_void_p * (2 + len(index)))(self._vals[0], self._vals[1],
                                                    *(self._vals[2 + i] for i in index))
        addrs = [self._vals[0], self._vals[1]] + [self._vals[2 + i] + _VAL_OFF for i in index]
        self._layout = (ids, vals)  # kept alive with this reader
        return ids, vals, addrs

    def read(self) -> tuple[int, int, int, int, int, int, int]:
        """(cpsr, sctlr, ttbr0, ttbr1, ttbcr, dacr, contextidr); also updates :attr:`pc`."""
        _raw_batch(self._uch, self._ids, self._vals, _N)
        cpsr, pc, sctlr, ttbr0, ttbr1, ttbcr, dacr, ctx = _UNPACK(self._view)
        self.pc = pc & 0xFFFFFFFF
        return (cpsr & 0xFFFFFFFF, sctlr & 0xFFFFFFFF, ttbr0 & 0xFFFFFFFF, ttbr1 & 0xFFFFFFFF,
                ttbcr & 0xFFFFFFFF, dacr & 0xFFFFFFFF, ctx & 0xFFFFFFFF)
