"""The vCPU's block hook (``_blockhook.c``): guest instruction counting and the stop at the
block where a pending interrupt becomes unmasked.

The C part is built by ``pip install`` (``setup.py``) next to this file and loaded with ctypes.
Without it (a source tree nobody built) the vCPU still works: it falls back to polling for the
unmask and reports no instruction count (:attr:`BlockHook.available` is False).
"""

from __future__ import annotations

import ctypes
import logging
from typing import Callable

from unicorn import UC_HOOK_BLOCK
from unicorn.arm_const import UC_ARM_REG_CPSR
from unicorn.unicorn_py3.unicorn import uclib

from hvd.native import load_library

log = logging.getLogger("hvd.cpu")

BLOCK_CACHE = 65536  # must match _blockhook.c

_THUMB_COUNT = ctypes.CFUNCTYPE(ctypes.c_uint32, ctypes.c_uint64, ctypes.c_uint32)


class _BlockEntry(ctypes.Structure):
    _fields_ = [("pc", ctypes.c_uint32), ("size", ctypes.c_uint16), ("icount", ctypes.c_uint16)]


class _Blocks(ctypes.Structure):
    _fields_ = [
        ("blocks", ctypes.c_uint64), ("insns", ctypes.c_uint64),
        ("unmask_stops", ctypes.c_uint64), ("misses", ctypes.c_uint64),
        ("requested_stops", ctypes.c_uint64),
        ("want", ctypes.c_uint32), ("stopped", ctypes.c_uint32),
        ("cpsr_regid", ctypes.c_int32), ("stop_next", ctypes.c_uint32),
        ("reg_read", ctypes.c_void_p), ("emu_stop", ctypes.c_void_p), ("thumb_count", ctypes.c_void_p),
        ("vmem_read", ctypes.c_void_p), ("thumb_py", ctypes.c_uint64),
        ("cache", _BlockEntry * BLOCK_CACHE),
    ]


def _load() -> ctypes.CDLL | None:
    return load_library("hvd.cpu", "_blockhook")


def thumb_instruction_count(code: bytes) -> int:
    """Instructions in a run of Thumb code: a halfword whose top five bits are 0b11101, 0b11110
    or 0b11111 starts a 32-bit instruction (ARM ARM A6.1)."""
    n = i = 0
    end = len(code) - 1
    while i < end:
        hw = code[i] | (code[i + 1] << 8)
        i += 4 if (hw >> 11) >= 0x1D else 2
        n += 1
    return n


class BlockHook:
    """One per vCPU. ``read_code(va, size)`` reads guest code by virtual address (or None)."""

    def __init__(self, uc, read_code: Callable[[int, int], bytes | None]) -> None:
        self.available = False
        self._read_code = read_code
        lib = _load()
        if lib is None:
            self._b = None
            return
        b = self._b = _Blocks()
        b.cpsr_regid = UC_ARM_REG_CPSR
        b.reg_read = ctypes.cast(uclib.uc_reg_read, ctypes.c_void_p).value
        b.emu_stop = ctypes.cast(uclib.uc_emu_stop, ctypes.c_void_p).value
        self._thumb_cb = _THUMB_COUNT(self._thumb_count)  # kept alive with the hook
        b.thumb_count = ctypes.cast(self._thumb_cb, ctypes.c_void_p).value
        vmem_read = getattr(uclib, "uc_vmem_read", None)  # Unicorn >= 2.1
        b.vmem_read = ctypes.cast(vmem_read, ctypes.c_void_p).value if vmem_read is not None else 0
        self._handle = ctypes.c_size_t()
        fn = ctypes.cast(lib.hvd_block_hook, ctypes.c_void_p)
        err = uclib.uc_hook_add(uc._uch, ctypes.byref(self._handle), UC_HOOK_BLOCK, fn,
                                ctypes.cast(ctypes.pointer(b), ctypes.c_void_p),
                                ctypes.c_uint64(1), ctypes.c_uint64(0))
        if err:
            log.warning("uc_hook_add(UC_HOOK_BLOCK) failed (%s): no instruction count", err)
            return
        self.available = True

    def _thumb_count(self, pc: int, size: int) -> int:
        try:
            code = self._read_code(pc, size)
        except Exception:  # never let an exception cross into Unicorn
            code = None
        if not code:
            return max(1, size // 2) if size else 0
        return max(1, thumb_instruction_count(code))

    # -- counters -----------------------------------------------------------------------------
    @property
    def instructions(self) -> int:
        return self._b.insns if self._b is not None else 0

    @property
    def thumb_python_counts(self) -> int:
        """Thumb blocks whose code the C hook could not read (counted in Python)."""
        return self._b.thumb_py if self._b is not None else 0

    @property
    def blocks(self) -> int:
        return self._b.blocks if self._b is not None else 0

    @property
    def unmask_stops(self) -> int:
        return self._b.unmask_stops if self._b is not None else 0

    @property
    def requested_stops(self) -> int:
        return self._b.requested_stops if self._b is not None else 0

    # -- stops at a block boundary ------------------------------------------------------------
    def request_stop(self) -> bool:
        """Ask the run to stop at the next block boundary (any thread). False without the hook."""
        b = self._b
        if b is None or not self.available:
            return False
        b.stop_next = 1
        return True

    def cancel_stop(self) -> None:
        if self._b is not None:
            self._b.stop_next = 0

    # -- interrupt unmask watch ---------------------------------------------------------------
    def watch_unmask(self, mask_bits: int) -> None:
        """Stop the run at the first block where one of ``mask_bits`` (CPSR.I 0x80, CPSR.F 0x40)
        is clear; 0 cancels."""
        if self._b is not None:
            self._b.want = mask_bits

    def take_stopped(self) -> bool:
        """Whether the hook ended the last run (and forget it)."""
        b = self._b
        if b is None or not b.stopped:
            return False
        b.stopped = 0
        return True
