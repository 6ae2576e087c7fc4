"""The vCPU's exception hook with Supervisor Call entry in C (``_svc.c``), and exception entry
in C for the rest.

A system call is the guest exception a Linux process takes most often; done in Python it ended
the run (see :meth:`hvd.cpu.vcpu.VCpu._take_in_hook`). The C hook takes it without leaving
emu_start and hands every other exception to the Python hook. :meth:`SvcHook.take` enters any
exception in one call (the vCPU's guest aborts, interrupts, undefined instructions). Without
the library (a source tree nobody built), or with ``HVD_C_SVC=0``, the Python hook is
registered directly and :func:`hvd.cpu.exceptions.enter_exception` does the entries.
"""

from __future__ import annotations

import ctypes
import logging
import os
from typing import Callable

from unicorn import UC_HOOK_INTR
from unicorn.arm_const import (
    UC_ARM_REG_CP_REG, UC_ARM_REG_CPSR, UC_ARM_REG_LR, UC_ARM_REG_PC, UC_ARM_REG_SPSR,
)
from unicorn.unicorn_py3.unicorn import uclib

from hvd.native import load_library

from .arm import CPSR_A, CPSR_F
from .exceptions import ENTRY_TABLE, AbortInfo, Exc

log = logging.getLogger("hvd.cpu")

_PYTHON = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p)
FAULT_DATA = 1  # _svc.c: hvd_take_exception writes DFSR/DFAR
FAULT_INSN = 2  # ... IFSR/IFAR
#: kind -> (mode, vector offset, mask bits besides I, the fault registers an abort writes)
_ENTRY = {kind: (mode, offset, (CPSR_A if a else 0) | (CPSR_F if f else 0),
                 FAULT_DATA if kind is Exc.DABT else FAULT_INSN)
          for kind, (mode, offset, a, f) in ENTRY_TABLE.items()}


class _Svc(ctypes.Structure):
    _fields_ = [
        ("taken", ctypes.c_uint64), ("passed", ctypes.c_uint64),
        ("semihosting", ctypes.c_uint32),
        ("cpsr_regid", ctypes.c_int32), ("pc_regid", ctypes.c_int32), ("lr_regid", ctypes.c_int32),
        ("spsr_regid", ctypes.c_int32), ("cp_regid", ctypes.c_int32),
        ("reg_read", ctypes.c_void_p), ("reg_write", ctypes.c_void_p),
        ("batch_write", ctypes.c_void_p), ("python", ctypes.c_void_p),
        ("vmem_read", ctypes.c_void_p),
    ]


class SvcHook:
    """Registers the C hook in front of ``python(intno)`` (the vCPU's exception hook body, which
    must not raise). :attr:`available` is False when the Python hook had to be used alone."""

    def __init__(self, uc, python: Callable[[int], None], semihosting: bool) -> None:
        self.available = False
        self._s = None
        self._take = None
        lib = None if os.environ.get("HVD_C_SVC", "1") == "0" else load_library("hvd.cpu", "_svc")
        vmem_read = getattr(uclib, "uc_vmem_read", None)  # Unicorn >= 2.1
        if lib is not None and vmem_read is not None:
            s = _Svc()
            s.semihosting = int(semihosting)
            s.cpsr_regid, s.pc_regid, s.lr_regid = UC_ARM_REG_CPSR, UC_ARM_REG_PC, UC_ARM_REG_LR
            s.spsr_regid, s.cp_regid = UC_ARM_REG_SPSR, UC_ARM_REG_CP_REG
            s.reg_read = ctypes.cast(uclib.uc_reg_read, ctypes.c_void_p).value
            s.reg_write = ctypes.cast(uclib.uc_reg_write, ctypes.c_void_p).value
            s.batch_write = ctypes.cast(uclib.uc_reg_write_batch, ctypes.c_void_p).value
            self._cb = _PYTHON(lambda _uch, intno, _ud: python(intno))  # kept alive with the hook
            s.python = ctypes.cast(self._cb, ctypes.c_void_p).value
            s.vmem_read = ctypes.cast(vmem_read, ctypes.c_void_p).value
            handle = ctypes.c_size_t()
            err = uclib.uc_hook_add(uc._uch, ctypes.byref(handle), UC_HOOK_INTR,
                                    ctypes.cast(lib.hvd_svc_hook, ctypes.c_void_p),
                                    ctypes.cast(ctypes.pointer(s), ctypes.c_void_p),
                                    ctypes.c_uint64(1), ctypes.c_uint64(0))
            if not err:
                self._s = s
                self.available = True
                fn = lib.hvd_take_exception
                fn.restype = ctypes.c_uint32
                fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p] + [ctypes.c_uint32] * 7
                self._take = fn
                self._args = (uc._uch, ctypes.addressof(s))
                return
            log.warning("uc_hook_add(UC_HOOK_INTR) failed (%s): exceptions taken in Python", err)
        uc.hook_add(UC_HOOK_INTR, lambda _uc, intno, _ud: python(intno))

    def take(self, kind: Exc, lr: int, abort: AbortInfo | None = None) -> bool:
        """Enter exception ``kind`` with return link ``lr`` (and the fault registers of
        ``abort``), as enter_exception does; False without the library."""
        if self._take is None:
            return False
        mode, offset, mask, fault = _ENTRY[kind]
        if abort is None:
            self._take(*self._args, mode, offset, mask, lr & 0xFFFFFFFF, 0, 0, 0)
        else:
            self._take(*self._args, mode, offset, mask, lr & 0xFFFFFFFF, fault,
                       abort.fsr & 0xFFFFFFFF, abort.far & 0xFFFFFFFF)
        return True

    @property
    def taken(self) -> int:
        """SVC exceptions the C hook took."""
        return self._s.taken if self._s is not None else 0
