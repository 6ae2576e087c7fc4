"""The C front half of the tlb policy's TLB-operation hooks (``_tlbop.c``): which operations can
be answered without Python, and the bitmap of VA pages the shadow has held entries for.

:class:`TlbOpFilter` is created by :class:`hvd.monitor.mmu.ShadowMmu` when the library is built;
without it every hooked operation goes to Python through the binding's hook, as before.
"""

from __future__ import annotations

import ctypes
import os
from typing import Callable

from unicorn import UC_HOOK_CODE
from unicorn.arm_const import UC_ARM_REG_CP_REG, UC_ARM_REG_CPSR, UC_ARM_REG_PC
from unicorn.unicorn_py3.unicorn import uclib

from hvd.native import counter, load_library

from .tlbops import SCOPE_MVA, SCOPE_MVAA, TLB_OP_NAMES

KINDS = 16
_PYTHON_CFUNC = ctypes.CFUNCTYPE(None, ctypes.c_uint64)
#: register writes the C hook does itself (HookedOp.reg -> _tlbop.c's REG_*)
REG_CODES = {"DACR": 1, "CONTEXTIDR": 2}


class _Filter(ctypes.Structure):
    _fields_ = [
        ("filtered", ctypes.c_uint64), ("passed", ctypes.c_uint64),
        ("filtered_by_kind", ctypes.c_uint64 * KINDS),
        ("cpsr_regid", ctypes.c_int32), ("pad", ctypes.c_uint32),
        ("reg_read", ctypes.c_void_p), ("python", ctypes.c_void_p),
        ("fill", ctypes.c_void_p), ("fill_page_asid", ctypes.c_void_p), ("fill_page", ctypes.c_void_p),
        ("mbs", ctypes.c_uint8 * (4096 // 8)),
        ("pages", ctypes.c_uint8 * ((1 << 20) // 8)),
        ("fill_dacr", ctypes.c_void_p), ("reg_write", ctypes.c_void_p),
        ("vmem_read", ctypes.c_void_p), ("cp_regid", ctypes.c_int32), ("pc_regid", ctypes.c_int32),
        ("dacr_done", ctypes.c_uint64), ("dacr_passed", ctypes.c_uint64),
        ("fill_asid", ctypes.c_void_p), ("ctx_done", ctypes.c_uint64), ("ctx_passed", ctypes.c_uint64),
    ]


class _Op(ctypes.Structure):
    _fields_ = [("f", ctypes.c_void_p), ("passes", ctypes.c_uint32), ("rt_regid", ctypes.c_int32),
                ("kind", ctypes.c_uint32), ("by_mva", ctypes.c_uint32), ("all_asids", ctypes.c_uint32),
                ("reg", ctypes.c_uint32), ("size", ctypes.c_uint32), ("raw", ctypes.c_uint32),
                ("hits", ctypes.c_uint32)]


class TlbOpFilter:
    """One per shadow monitor (tlb policy). ``python(address)`` is the Python hook body."""

    def __init__(self, lib: ctypes.CDLL, uc, python: Callable[[int], None]) -> None:
        self._lib = lib
        self._uch = uc._uch
        f = self._f = _Filter()
        f.cpsr_regid = UC_ARM_REG_CPSR
        f.reg_read = ctypes.cast(uclib.uc_reg_read, ctypes.c_void_p).value
        self._python_cb = _PYTHON_CFUNC(python)  # kept alive with the hooks
        f.python = ctypes.cast(self._python_cb, ctypes.c_void_p).value
        self._fn = ctypes.cast(lib.hvd_tlbop_hook, ctypes.c_void_p)
        self._ops: dict[int, _Op] = {}  # hook handle -> its user data (kept alive with the hook)
        # writable views for ShadowTables.insert to set bits in (faster than ctypes indexing)
        self.mbs = memoryview(f.mbs).cast("B")
        self.pages = memoryview(f.pages).cast("B")

    def attach_fill_cache(self, fast) -> None:
        """By-MVA operations answered here also drop the fill cache's answers for the page (the
        C walker's small pages are not in the shadow's bitmap)."""
        f = self._f
        self._fill = fast  # kept alive with the hooks
        f.fill_page_asid = ctypes.cast(fast._lib.hvd_fill_flush_page_asid, ctypes.c_void_p).value
        f.fill_page = ctypes.cast(fast._lib.hvd_fill_flush_page, ctypes.c_void_p).value
        f.fill = ctypes.addressof(fast._f)
        vmem_read = getattr(uclib, "uc_vmem_read", None)
        if vmem_read is None:
            return
        # DACR and CONTEXTIDR writes done without Unicorn's whole-TLB flush (reg_write in
        # _tlbop.c)
        f.reg_write = ctypes.cast(uclib.uc_reg_write, ctypes.c_void_p).value
        f.vmem_read = ctypes.cast(vmem_read, ctypes.c_void_p).value
        f.cp_regid = UC_ARM_REG_CP_REG
        f.pc_regid = UC_ARM_REG_PC
        if os.environ.get("HVD_DACR_HOOK", "1") != "0":
            f.fill_dacr = ctypes.cast(fast._lib.hvd_fill_dacr_change, ctypes.c_void_p).value
        if os.environ.get("HVD_ASID_HOOK", "1") != "0":
            f.fill_asid = ctypes.cast(fast._lib.hvd_fill_asid_change, ctypes.c_void_p).value

    @property
    def dacr_ready(self) -> bool:
        """Whether DACR writes can be hooked (add_hook with a DACR op)."""
        return bool(self._f.fill_dacr)

    @property
    def asid_ready(self) -> bool:
        """Whether CONTEXTIDR writes can be hooked (add_hook with a CONTEXTIDR op), and the
        monitor may drop only the non-global answers for a TLBIASID."""
        return bool(self._f.fill_asid)

    def add_hook(self, address: int, op, rt_regid: int) -> int:
        """Hook ``op`` (a HookedOp) at ``address``; returns the hook's handle."""
        o = _Op()
        o.f = ctypes.addressof(self._f)
        o.passes = op.passes
        o.rt_regid = rt_regid
        if op.tlb is None:  # an MCR to DACR or CONTEXTIDR
            o.reg = REG_CODES[op.reg]
            o.size = op.size
            o.raw = int.from_bytes(op.raw, "little")
        else:
            o.kind = TLB_OP_NAMES.index(op.tlb.name) % KINDS
            o.by_mva = int(op.tlb.scope in (SCOPE_MVA, SCOPE_MVAA))
            o.all_asids = int(op.tlb.scope == SCOPE_MVAA)
        h = ctypes.c_size_t()
        err = uclib.uc_hook_add(self._uch, ctypes.byref(h), UC_HOOK_CODE, self._fn,
                                ctypes.cast(ctypes.pointer(o), ctypes.c_void_p),
                                ctypes.c_uint64(address), ctypes.c_uint64(address))
        if err:
            raise RuntimeError(f"uc_hook_add(UC_HOOK_CODE) failed: {err}")
        self._ops[h.value] = o
        return h.value

    def take_hits(self, handle: int) -> int:
        """DACR writes at a DACR hook since the last call."""
        o = self._ops.get(handle)
        if o is None:
            return 0
        n, o.hits = o.hits, 0
        return n

    def del_hook(self, handle: int) -> None:
        uclib.uc_hook_del(self._uch, ctypes.c_size_t(handle))
        self._ops.pop(handle, None)

    def clear(self) -> None:
        """The shadow was emptied: no page holds an entry any more."""
        ctypes.memset(ctypes.addressof(self._f.mbs), 0, ctypes.sizeof(self._f.mbs))
        ctypes.memset(ctypes.addressof(self._f.pages), 0, ctypes.sizeof(self._f.pages))

    filtered = counter("filtered", "operations answered here")
    dacr_done = counter("dacr_done", "DACR writes done without Unicorn's whole-TLB flush")
    dacr_passed = counter("dacr_passed", "DACR writes at a hook left to the MCR")
    ctx_done = counter("ctx_done", "CONTEXTIDR writes done without Unicorn's whole-TLB flush")
    ctx_passed = counter("ctx_passed", "CONTEXTIDR writes at a hook left to the MCR")

    def filtered_by_name(self) -> dict[str, int]:
        by_kind = self._f.filtered_by_kind
        return {name: by_kind[i % KINDS] for i, name in enumerate(TLB_OP_NAMES) if by_kind[i % KINDS]}


def create(uc, python: Callable[[int], None]) -> TlbOpFilter | None:
    if os.environ.get("HVD_TLBOP_FILTER", "1") == "0":
        return None
    lib = load_library("hvd.monitor", "_tlbop")
    if lib is None:
        return None
    return TlbOpFilter(lib, uc, python)
