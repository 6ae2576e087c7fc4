"""The fill cache (``_fillcache.c``): answers Unicorn's TLB misses from the answers the Python
monitor gave before, under the same CPU state, and hands everything else to the Python hook.

See the C file for the rules that keep it exact. Built by ``setup.py``; without it, or with
``HVD_FILL_CACHE=0``, every fill goes to Python (:func:`create` returns None).
"""

from __future__ import annotations

import ctypes
import os

from unicorn import UC_HOOK_TLB_FILL
from unicorn.unicorn_py3.unicorn import uclib

from hvd.native import load_library

from .state import StateReader

PAGES = 8192  # must match _fillcache.c
WAYS = 8
UNPRIV = 65536
NSTATE = 3


class _Slot(ctypes.Structure):
    _fields_ = [("gen", ctypes.c_uint32), ("va", ctypes.c_uint32), ("pa", ctypes.c_uint32),
                ("state", ctypes.c_uint32 * NSTATE), ("perms", ctypes.c_uint32),
                ("global_", ctypes.c_uint32), ("agen", ctypes.c_uint32)]


class _Unpriv(ctypes.Structure):
    _fields_ = [("gen", ctypes.c_uint32), ("pc", ctypes.c_uint32), ("flag", ctypes.c_uint32)]


class _Fill(ctypes.Structure):
    _fields_ = [
        ("hits", ctypes.c_uint64), ("misses", ctypes.c_uint64),
        ("gen", ctypes.c_uint32), ("victim", ctypes.c_uint32), ("unpriv_gen", ctypes.c_uint32),
        ("nregs", ctypes.c_int32),
        ("batch", ctypes.c_void_p), ("slow", ctypes.c_void_p), ("reg_write", ctypes.c_void_p),
        ("ids", ctypes.c_void_p), ("vals", ctypes.c_void_p),
        ("v", ctypes.c_void_p * (2 + NSTATE)),
        ("last_valid", ctypes.c_uint32), ("last_va", ctypes.c_uint32),
        ("last_kind", ctypes.c_uint32), ("last_state", ctypes.c_uint32 * NSTATE),
        ("pcs", _Unpriv * UNPRIV),
        ("asid_gen", ctypes.c_uint32 * 256),
        ("slots", _Slot * (PAGES * 6 * WAYS)),
    ]


class FillCache:
    """One per shadow monitor; registers the C fill hook in place of the Python one."""

    def __init__(self, lib: ctypes.CDLL, uc, slow_cb) -> None:
        self._lib = lib
        f = self._f = _Fill()
        self._ptr = ctypes.pointer(f)
        # a StateReader of its own: its buffers are where the C hook's batch read lands
        self._state = StateReader(uc)
        ids, vals, addrs = self._state.raw_layout(("sctlr", "dacr", "contextidr"))
        f.nregs = len(addrs)
        f.batch = ctypes.cast(uclib.uc_reg_read_batch, ctypes.c_void_p).value
        f.slow = ctypes.cast(slow_cb, ctypes.c_void_p).value
        f.reg_write = ctypes.cast(uclib.uc_reg_write, ctypes.c_void_p).value
        f.ids = ctypes.cast(ids, ctypes.c_void_p).value
        f.vals = ctypes.cast(vals, ctypes.c_void_p).value
        for i, a in enumerate(addrs):
            f.v[i] = a
        f.gen = f.unpriv_gen = 1
        self._slow_cb = slow_cb  # kept alive with the hook
        self.insert = (lambda pl, pa, perms, global_, _i=lib.hvd_fill_insert, _p=self._ptr:
                       _i(_p, pl, pa, perms, global_))
        self.flush_all = lambda _fn=lib.hvd_fill_flush_all, _p=self._ptr: _fn(_p)
        self.flush_asid = lambda asid, _fn=lib.hvd_fill_flush_asid, _p=self._ptr: _fn(_p, asid)
        self.flush_page_asid = (lambda va, asid, _fn=lib.hvd_fill_flush_page_asid, _p=self._ptr:
                                _fn(_p, va, asid))
        self.flush_page = lambda va, _fn=lib.hvd_fill_flush_page, _p=self._ptr: _fn(_p, va)
        self.set_unpriv = lambda pc, flag, _fn=lib.hvd_fill_set_unpriv, _p=self._ptr: _fn(_p, pc, flag)
        self.clear_unpriv = lambda _fn=lib.hvd_fill_clear_unpriv, _p=self._ptr: _fn(_p)
        self._handle = ctypes.c_size_t()
        err = uclib.uc_hook_add(uc._uch, ctypes.byref(self._handle), UC_HOOK_TLB_FILL,
                                ctypes.cast(lib.hvd_fill_hook, ctypes.c_void_p),
                                ctypes.cast(self._ptr, ctypes.c_void_p),
                                ctypes.c_uint64(1), ctypes.c_uint64(0))
        if err:
            raise RuntimeError(f"uc_hook_add(UC_HOOK_TLB_FILL) failed: {err}")

    @property
    def hits(self) -> int:
        return self._f.hits


def create(uc, slow_cb) -> FillCache | None:
    if os.environ.get("HVD_FILL_CACHE", "1") == "0":
        return None
    lib = load_library("hvd.monitor", "_fillcache")
    if lib is None:
        return None
    for name in ("hvd_fill_insert", "hvd_fill_flush_page", "hvd_fill_flush_page_asid",
                 "hvd_fill_flush_asid", "hvd_fill_set_unpriv"):
        getattr(lib, name).restype = None
    lib.hvd_fill_insert.argtypes = [ctypes.c_void_p] + [ctypes.c_uint32] * 4
    lib.hvd_fill_flush_page.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    lib.hvd_fill_flush_page_asid.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32]
    lib.hvd_fill_flush_asid.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    lib.hvd_fill_set_unpriv.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32]
    return FillCache(lib, uc, slow_cb)
