"""The fill cache (``_fillcache.c``): answers Unicorn's TLB misses from the answers the Python
monitor gave before, under the same CPU state; on a miss it walks the guest's tables itself when
the answer is a small page in guest DDR; it hands everything else to the Python hook.

See the C file for the rules that keep it exact. Built by ``setup.py``; without it, or with
``HVD_FILL_CACHE=0``, every fill goes to Python (:func:`create` returns None). ``HVD_C_WALK=0``
keeps the cache but leaves every miss to Python.
"""

from __future__ import annotations

import ctypes
import os

from unicorn import UC_HOOK_TLB_FILL
from unicorn.arm_const import UC_ARM_REG_CP_REG
from unicorn.unicorn_py3.unicorn import uclib

from hvd.native import counter, load_library

from .state import StateReader

PAGES = 8192  # must match _fillcache.c
WAYS = 8
UNPRIV = 65536
NSTATE = 3
NWALK = 5
WR_MANY = 2  # FillCache.take_writable(): W was given at more than one VA
DOM_ANY = 16  # an answer's domain, unknown: dropped at every DACR change
DOM_NONE = 17  # an answer no DACR change alters (the MMU off)
DOMS = 17
DLOG = 128
NGLOG = 512
STRAYS = 64
QUIET = 1  # set_quiet: a miss fails without Python
PROBE = 2  # set_quiet: a miss goes to Python, which must deliver no fault


class _Slot(ctypes.Structure):
    _fields_ = [("gen", ctypes.c_uint32), ("va", ctypes.c_uint32), ("pa", ctypes.c_uint32),
                ("state", ctypes.c_uint32 * NSTATE), ("perms", ctypes.c_uint32),
                ("global_", ctypes.c_uint32), ("agen", ctypes.c_uint32), ("domain", ctypes.c_uint32)]


class _Unpriv(ctypes.Structure):
    _fields_ = [("gen", ctypes.c_uint32), ("pc", ctypes.c_uint32), ("flag", ctypes.c_uint32)]


class Ram(ctypes.Structure):
    """Guest DDR as the C walker reads it (``struct hvd_ram``)."""

    _fields_ = [("host", ctypes.c_void_p), ("base", ctypes.c_uint32), ("pages", ctypes.c_uint32)]


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
        ("walks", ctypes.c_uint64), ("walk_on", ctypes.c_uint32), ("wnregs", ctypes.c_int32),
        ("ram", Ram), ("code", ctypes.c_void_p), ("wr", ctypes.c_void_p),
        ("wids", ctypes.c_void_p), ("wvals", ctypes.c_void_p),
        ("wv", ctypes.c_void_p * NWALK),
        ("slow_domain", ctypes.c_uint32), ("cp_regid", ctypes.c_int32),
        ("quiet", ctypes.c_uint32), ("quiet_misses", ctypes.c_uint32),
        ("dacr_pages", ctypes.c_uint64), ("dacr_overflows", ctypes.c_uint64),
        ("dacr_strays", ctypes.c_uint64), ("dacr_seen", ctypes.c_uint32), ("stray_n", ctypes.c_uint32),
        ("stray_pc", ctypes.c_uint32 * STRAYS),
        ("dlen", ctypes.c_uint32 * DOMS), ("dlog", (ctypes.c_uint32 * DLOG) * DOMS),
        ("slow_global", ctypes.c_uint32), ("nglen", ctypes.c_uint32),
        ("asid_pages", ctypes.c_uint64), ("asid_overflows", ctypes.c_uint64),
        ("nglog", ctypes.c_uint32 * NGLOG),
        ("pcs", _Unpriv * UNPRIV),
        ("asid_gen", ctypes.c_uint32 * 256),
        ("slots", _Slot * (PAGES * 6 * WAYS)),
    ]


class FillCache:
    """One per shadow monitor; registers the C fill hook in place of the Python one. ``ram`` is
    the guest's DDR (a :class:`hvd.boards.bus.RamRegion`, mapped): the walker reads the tables
    from it."""

    def __init__(self, lib: ctypes.CDLL, uc, slow_cb, ram=None, walk: bool = True) -> None:
        self._lib = lib
        f = self._f = _Fill()
        self._ptr = ctypes.pointer(f)
        self._uch = uc._uch
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
        self._setup_walker(uc, ram, walk)
        self._slow_cb = slow_cb  # kept alive with the hook
        f.cp_regid = UC_ARM_REG_CP_REG
        f.slow_domain = DOM_ANY
        self.insert = (lambda pl, pa, perms, global_, domain, _i=lib.hvd_fill_insert, _p=self._ptr:
                       _i(_p, pl, pa, perms, global_, domain))
        self.reset_domains = lambda _fn=lib.hvd_fill_reset_domains, _p=self._ptr: _fn(_p)
        self.flush_all = lambda _fn=lib.hvd_fill_flush_all, _p=self._ptr: _fn(_p)
        self.flush_asid = lambda asid, _fn=lib.hvd_fill_flush_asid, _p=self._ptr: _fn(_p, asid)
        self.flush_page_asid = (lambda va, asid, _fn=lib.hvd_fill_flush_page_asid, _p=self._ptr:
                                _fn(_p, va, asid))
        self.flush_page = lambda va, _fn=lib.hvd_fill_flush_page, _p=self._ptr: _fn(_p, va)
        self.set_unpriv = lambda pc, flag, _fn=lib.hvd_fill_set_unpriv, _p=self._ptr: _fn(_p, pc, flag)
        self.clear_unpriv = lambda _fn=lib.hvd_fill_clear_unpriv, _p=self._ptr: _fn(_p)
        self.forget_unpriv_page = (lambda va, _fn=lib.hvd_fill_forget_unpriv_page, _p=self._ptr:
                                   _fn(_p, va))
        self._handle = ctypes.c_size_t()
        err = uclib.uc_hook_add(uc._uch, ctypes.byref(self._handle), UC_HOOK_TLB_FILL,
                                ctypes.cast(lib.hvd_fill_hook, ctypes.c_void_p),
                                ctypes.cast(self._ptr, ctypes.c_void_p),
                                ctypes.c_uint64(1), ctypes.c_uint64(0))
        if err:
            raise RuntimeError(f"uc_hook_add(UC_HOOK_TLB_FILL) failed: {err}")

    def _setup_walker(self, uc, ram, walk: bool) -> None:
        f = self._f
        if not walk or ram is None or ram.mem is None or ram.size % 0x1000 or ram.base % 0x1000:
            return
        pages = ram.size >> 12
        self._walk_state = StateReader(uc)  # its own buffers: the walk's batch lands there
        ids, vals, addrs = self._walk_state.raw_layout(("ttbr0", "ttbr1", "ttbcr"))
        f.wnregs = len(addrs)
        f.wids = ctypes.cast(ids, ctypes.c_void_p).value
        f.wvals = ctypes.cast(vals, ctypes.c_void_p).value
        for i, a in enumerate(addrs):
            f.wv[i] = a
        self._code = (ctypes.c_uint8 * ((pages + 7) // 8))()
        self._wr = (ctypes.c_uint32 * pages)()
        self._ram = ram.mem  # the mapping the host address belongs to, kept alive
        f.ram.host = ctypes.addressof(ctypes.c_char.from_buffer(ram.mem))
        f.ram.base = ram.base
        f.ram.pages = pages
        f.code = ctypes.addressof(self._code)
        f.wr = ctypes.addressof(self._wr)
        f.walk_on = 1

    @property
    def walking(self) -> bool:
        """Whether misses for small pages in DDR are walked in C."""
        return bool(self._f.walk_on)

    def set_code(self, pa: int, on: bool) -> None:
        """The DDR page holding ``pa`` is (or is no longer) a write-protected code page."""
        self._lib.hvd_fill_set_code(self._ptr, pa, int(on))

    def take_writable(self, pa: int) -> int:
        """Where the C walker gave the DDR page of ``pa`` write permission since the last full
        flush, and forget it: 0 nowhere, :data:`WR_MANY` at several VAs, else the VA page | 1."""
        return self._lib.hvd_fill_take_writable(self._ptr, pa)

    hits = counter("hits", "fills answered from the cache")

    def set_quiet(self, mode: int) -> None:
        """Around Unicorn's own probes between runs (uc_hook_del and uc_ctl_remove_cache
        translate code VAs under whatever state the vCPU stopped in): QUIET, a miss fails
        without Python; PROBE, a miss goes to Python, which must deliver no fault; 0, off.
        Either way the vCPU's Thumb IT bits are left alone."""
        self._f.quiet = mode

    def stray_pcs(self, n: int) -> list[int]:
        """PCs of the last ``n`` (at most STRAYS) fills that saw a DACR change no hook made."""
        f = self._f
        end = f.stray_n
        return [f.stray_pc[(end - 1 - i) % STRAYS] for i in range(min(n, STRAYS, end))]

    def set_domain(self, domain: int, global_: bool) -> None:
        """The domain of the answer the Python hook is giving (DOM_NONE with the MMU off), and
        whether it is global: the C hook logs the page under them, for DACR changes
        (hvd_fill_dacr_change) and ASID changes (hvd_fill_asid_change)."""
        f = self._f
        f.slow_domain = domain
        f.slow_global = global_

    def flush_nonglobal(self) -> bool:
        """Drop Unicorn's entries for every non-global answer given since they were last all
        dropped (hvd_fill_flush_nonglobal). False when that record overflowed: the caller
        must flush Unicorn's whole TLB."""
        return bool(self._lib.hvd_fill_flush_nonglobal(self._ptr, self._uch))

    asid_pages = counter("asid_pages", "Unicorn pages flushed for ASID changes and TLBIASIDs "
                                       "instead of its whole TLB")
    dacr_pages = counter("dacr_pages", "Unicorn pages flushed for DACR changes done without its "
                                       "whole-TLB flush")
    dacr_strays = counter("dacr_strays", "DACR changes a fill saw that no DACR hook made (the MCR "
                                         "ran: a whole-TLB flush)")
    walks = counter("walks", "fills the C walker answered (hidden faults handled without Python)")


def c_walk(lib: ctypes.CDLL, ram: Ram, va: int, kind: int, pl: int, *, sctlr: int, dacr: int,
           ttbr0: int, ttbr1: int, ttbcr: int) -> tuple[int, int, bool] | None:
    """The C walker alone (for tests): (PA of the page, perms at ``pl``, global) when it answers
    the access (``kind`` 0 read, 1 write, 2 fetch) itself, None when it leaves it to Python."""
    out = (ctypes.c_uint32 * 4)()
    fn = lib.hvd_fill_walk
    fn.restype = ctypes.c_int
    fn.argtypes = [ctypes.c_void_p] + [ctypes.c_uint32] * 8 + [ctypes.c_void_p] * 4
    ok = fn(ctypes.byref(ram), va, kind, pl, sctlr, dacr, ttbr0, ttbr1, ttbcr,
            ctypes.byref(out, 0), ctypes.byref(out, 4), ctypes.byref(out, 8), ctypes.byref(out, 12))
    return (out[0], out[1], bool(out[2])) if ok else None


def create(uc, slow_cb, ram=None) -> FillCache | None:
    if os.environ.get("HVD_FILL_CACHE", "1") == "0":
        return None
    lib = load_library("hvd.monitor", "_fillcache")
    if lib is None:
        return None
    for name in ("hvd_fill_insert", "hvd_fill_flush_page", "hvd_fill_flush_page_asid",
                 "hvd_fill_flush_asid", "hvd_fill_set_unpriv", "hvd_fill_reset_domains"):
        getattr(lib, name).restype = None
    lib.hvd_fill_insert.argtypes = [ctypes.c_void_p] + [ctypes.c_uint32] * 5
    lib.hvd_fill_reset_domains.argtypes = [ctypes.c_void_p]
    lib.hvd_fill_flush_page.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    lib.hvd_fill_flush_page_asid.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32]
    lib.hvd_fill_flush_asid.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    lib.hvd_fill_set_unpriv.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32]
    lib.hvd_fill_forget_unpriv_page.restype = None
    lib.hvd_fill_forget_unpriv_page.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    lib.hvd_fill_set_code.restype = None
    lib.hvd_fill_set_code.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32]
    lib.hvd_fill_take_writable.restype = ctypes.c_uint32
    lib.hvd_fill_take_writable.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    lib.hvd_fill_flush_nonglobal.restype = ctypes.c_int
    lib.hvd_fill_flush_nonglobal.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    return FillCache(lib, uc, slow_cb, ram, walk=os.environ.get("HVD_C_WALK", "1") != "0")
