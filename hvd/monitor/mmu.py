"""Memory virtualization as the vCPU sees it: the shadow-paging monitor, or Unicorn's own MMU.

:class:`ShadowMmu` puts Unicorn in ``UC_TLB_VIRTUAL`` mode: every miss in Unicorn's TLB calls
:meth:`ShadowMmu._fill`, which plays the hardware walking the *shadow* tables
(:class:`~hvd.monitor.shadow.ShadowTables`). A shadow miss is a hidden fault: the guest's own
tables are walked (:func:`~hvd.monitor.walker.walk`) and the result cached, or the guest gets the
abort its tables call for. The shadow is kept in step with the guest's tables by one of two
policies:

``tlb``  the paper's: the shadow changes only when the guest executes a TLB maintenance
         operation. Those run in privileged mode, where Unicorn does not trap them, so each guest
         code page is scanned before it first runs privileged (:mod:`~hvd.monitor.scanner`) and a
         code hook is placed on exactly the TLB operations found. Scanned code pages are
         write-protected so that a page whose contents change is scanned again.
``wp``   the alternative: pages holding guest translation tables are write-protected at every
         virtual address mapping them; a write traps, is let through for the rest of the current
         translation block, and the entries derived from the descriptors it changed are dropped.

:class:`NativeMmu` leaves Unicorn in ``UC_TLB_CPU`` mode (QEMU's walker, no shadow): the
baseline. Both translate guest virtual addresses for the debugger and semihosting with the
monitor's walker, without touching the shadow or Unicorn's TLB.

Unicorn's pages are set to 4 KiB (``hvd.cpu.arm.UC_PAGE_SIZE``): fills arrive page-aligned and are
answered for that page.
"""

from __future__ import annotations

import bisect
import ctypes
import logging
import os
import struct

from unicorn import UC_HOOK_CODE, UC_HOOK_TLB_FILL, UC_PROT_EXEC, UC_PROT_READ, UC_TLB_CPU, UC_TLB_VIRTUAL
from unicorn.arm_const import UC_ARM_REG_CPSR, UC_ARM_REG_PC
from unicorn.unicorn_py3.unicorn import uclib

from hvd.boards.bus import Bus
from hvd.cpu.arm import (
    CORE_REG_IDS, CPSR_M, CPSR_T, MODE_USR, SCTLR_A, SCTLR_M, UC_PAGE_MASK, UC_PAGE_SIZE,
)
from hvd.cpu.exceptions import AbortInfo, Exc

from .shadow import WP, ShadowTables
from .state import StateReader
from .stats import ShadowStats
from .tlbops import SCOPE_ASID, SCOPE_MVA, TLB_OPS, TlbOp
from .fillcache import (DOM_ANY, DOM_NONE, PROBE, QUIET, WR_MANY, FillCache,
                        create as create_fill_cache)
from .tlbop import TlbOpFilter, create as create_tlbop_filter
from .walker import RWX, R, W, X, Fault, Translation, walk

log = logging.getLogger("hvd.monitor")

_CPSR_IT = 0x0600FC00  # IT[1:0] at 26:25, IT[7:2] at 15:10
#: HVD_MMU_AUDIT=user (PL0 fills) or =all: check every answer of the fill hook against a fresh
#: walk of the guest's tables and log a warning for any it contradicts (a debugging aid for the
#: monitor; slow, "all" very slow)
_AUDIT = {"user": 1, "all": 2}.get(os.environ.get("HVD_MMU_AUDIT", ""), 0)


def is_unprivileged_ldst(word: int, thumb: bool) -> bool:
    """Whether the instruction is LDRT/STRT/LDRBT/STRBT/LDRHT/STRHT/LDRSBT/LDRSHT (ARM ARM
    A8.8: the 'T' forms are post-indexed with W = 1 in ARM state; in Thumb-2 they are the
    T1 encodings with bits [11:8] of the second halfword = 0b1110)."""
    if thumb:
        hw1 = word & 0xFFFF
        hw2 = word >> 16
        return (hw1 & 0xFE00) == 0xF800 and (hw1 & 0x0100) == 0 and (hw2 & 0x0F00) == 0x0E00
    if (word >> 28) == 0xF:
        return False
    if (word & 0x0D200000) == 0x04200000:  # LDR/STR(B)T: op1 01x, P=0, W=1
        return True
    # extra load/store (halfword, signed): bits 27:25 = 000, P=0, W=1, bit7 = bit4 = 1, op2 != 00
    return (word & 0x0F2000F0) in (0x002000B0, 0x002000D0, 0x002000F0)


class _Entry:
    """The (paddr, perms) answer of a fill, reused for every fill."""

    __slots__ = ("paddr", "perms")

    def __init__(self) -> None:
        self.paddr = 0
        self.perms = 0


_TLB_FILL_CFUNC = ctypes.CFUNCTYPE(ctypes.c_bool, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int,
                                   ctypes.c_void_p, ctypes.c_void_p)
_PACK_ENTRY = struct.Struct("<QI").pack
_memmove = ctypes.memmove


_UNPACK_PAGE = struct.Struct("<1024I").unpack


def changed_words(old: bytes, new: bytes) -> list[int]:
    """Byte offsets of the 32-bit words that differ between two 4 KiB page images. A trapped
    write changes one or two words: XOR the pages as integers and walk the set bits (a few
    microseconds); comparing word by word in Python cost ~100 us per trap."""
    x = int.from_bytes(old, "little") ^ int.from_bytes(new, "little")
    if x.bit_count() > 512:  # a bulk change: the plain comparison is cheaper
        ow, nw = _UNPACK_PAGE(old), _UNPACK_PAGE(new)
        return [4 * i for i in range(1024) if ow[i] != nw[i]]
    out = []
    word = 0
    while x:
        skip = ((x & -x).bit_length() - 1) >> 5
        word += skip
        out.append(4 * word)
        x >>= (skip + 1) << 5
        word += 1
    return out


class HookedOp:
    """A TLB maintenance instruction the monitor hooks: where, which, and its encoding; or
    (``tlb`` None) a write to the register ``reg`` ("DACR", "CONTEXTIDR")."""

    __slots__ = ("addr", "tlb", "rt", "size", "raw", "passes", "reg")

    def __init__(self, addr: int, tlb: TlbOp | None, rt: int, size: int, raw: bytes,
                 cond: int = 14, reg: str | None = None) -> None:
        self.addr = addr
        self.tlb = tlb
        self.reg = reg
        self.rt = rt
        self.size = size
        self.raw = raw
        #: bit n set: the condition passes when CPSR[31:28] (NZCV) = n
        self.passes = _COND_PASSES[cond]


def _cond_passes(cond: int) -> int:
    """The NZCV values (as a 16-bit mask) for which ARM condition ``cond`` passes (A8.3)."""
    mask = 0
    for nzcv in range(16):
        n, z, c, v = nzcv >> 3 & 1, nzcv >> 2 & 1, nzcv >> 1 & 1, nzcv & 1
        ok = (z, c, n, v, c and not z, n == v, n == v and not z, True)[cond >> 1]
        if cond & 1 and cond != 15:
            ok = not ok
        if ok:
            mask |= 1 << nzcv
    return mask


_COND_PASSES = [_cond_passes(c) for c in range(16)]



def _tlb_ops_in(data: bytes, va_page: int, regs: frozenset[str] = frozenset()) -> list[HookedOp]:
    """The TLB maintenance operations in a code page, with their ARM condition: a conditional
    one (``mcrne``, as Linux's ``tlb_op()`` emits them) acts only when its condition passes.
    Linux on a uniprocessor skips the Inner Shareable forms that way, one of them a TLBIALLIS
    in every flush_tlb_mm. Thumb ones are taken as always executed (the IT state is not
    reliable in a code hook), which can only invalidate more than the guest asked: allowed.
    With ``regs``, the writes to those registers too (``tlb`` None; DACR, CONTEXTIDR), for the
    C hook's reg_write."""
    from .scanner import scan_page

    out = []
    for op in scan_page(data, va_page):
        reg = None
        if op.category == "tlb":
            tlb = TLB_OPS[op.kind]
        elif op.kind in regs:
            tlb, reg = None, op.kind
        else:
            continue
        off = op.address - va_page
        out.append(HookedOp(op.address, tlb, op.rt, op.size,
                            bytes(data[off:off + op.size]), op.cond, reg))
    return out

UNTIL_PAGE = 0xFFFF_F000  # one Unicorn page (UC_PAGE_SIZE) holding the vCPU's emu_start 'until'
FSR_ALIGNMENT = 0x1
FSR_DEBUG = 0x2
FSR_SYNC_EXTERNAL = 0x8
DFSR_WNR = 1 << 11

# Unicorn's access codes in the fill hook
UC_MEM_READ = 16
UC_MEM_WRITE = 17
UC_MEM_FETCH = 18
_ACCESS = {UC_MEM_READ: R, UC_MEM_WRITE: W, UC_MEM_FETCH: X}

MAX_SHADOWS = 64
#: DACR writes between two prunings of the unused DACR hooks
DACR_PRUNE_EVERY = 1 << 9
#: DACR writes without a hook in one such period that put the pruned hooks back
DACR_REARM_UNHOOKED = 1 << 6
#: periods a DACR hook that has run goes unused before it is pruned (one, if it never ran)
DACR_IDLE_PERIODS = 8
#: how far before the PC of a fill that saw an unhooked DACR change the MCR is looked for
DACR_STRAY_REACH = 256
#: write traps after which a code page stops being protected until it next runs privileged
CODE_WRITE_LIMIT = 8
#: physical pages remembered as writable in Unicorn's TLB before the record is reset
WRITABLE_LIMIT = 1 << 16
_UC_CTL_TLB_FLUSH = 11 | (1 << 30)  # UC_CTL_WRITE(UC_CTL_TLB_FLUSH, 0)
# TLBIMVA: QEMU flushes the Unicorn page (value & TARGET_PAGE_MASK) for every ASID; TLBIMVAA
# is a Multiprocessing Extensions operation that the Cortex-A8 model does not have.
_TLBIMVA = (8, 7, 0, 1)


class BaseMmu:
    mode = "base"

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.vcpu = None
        self.state: StateReader | None = None
        self.stats = ShadowStats()
        self.read32 = bus.ram_word_reader()
        #: set when the run loop must call service() after the current slice
        self.pending_service = False
        #: the C fill cache in front of the Python fill hook (shadow/tlb only)
        self._fast: FillCache | None = None
        #: the C front half of the TLB-operation hooks (shadow/tlb only)
        self._tlbf: TlbOpFilter | None = None

    def install(self, vcpu) -> None:
        self.vcpu = vcpu
        self.state = StateReader(vcpu.uc)
        self._uch = vcpu.uc._uch
        vcpu.uc.mem_map(UNTIL_PAGE, UC_PAGE_SIZE, UC_PROT_READ | UC_PROT_EXEC)

    def flush_unicorn_tlb(self, asid: int | None = None) -> None:
        """Drop all of Unicorn's TLB (it has no ASID tags) and the fill cache's answers: all of
        them, or with ``asid`` (a TLBIASID) only that ASID's non-global ones."""
        uclib.uc_ctl(self._uch, _UC_CTL_TLB_FLUSH)
        fast = self._fast
        if fast is not None:
            if asid is None:
                fast.flush_all()
            else:
                fast.flush_asid(asid)
                fast.reset_domains()

    def flush_unicorn_pages(self, pages, asid: int | None = None) -> None:
        """Drop Unicorn's entries and the fill cache's answers for these VA pages (any address
        in a Unicorn page stands for the page): all of the cache's, or with ``asid`` (a TLBIMVA)
        only the global ones and that ASID's, so other address spaces at the same VAs keep
        theirs (after a fork every process has its stack and data there). Every change that can
        alter an answer of the fill hook goes through here or flush_unicorn_tlb."""
        cp = self.vcpu.cp15
        fast = self._fast
        for p in pages:
            cp.write(_TLBIMVA, p)
            if fast is None:
                continue
            if asid is None:
                fast.flush_page(p)
            else:
                fast.flush_page_asid(p, asid)

    # -- translation without side effects (debugger, semihosting) -----------------------------
    def walk_current(self, va: int, access: int = R, pl: int | None = None) -> Translation | Fault:
        cpsr, sctlr, ttbr0, ttbr1, ttbcr, dacr, ctx = self.state.read()
        if pl is None:
            pl = 0 if (cpsr & CPSR_M) == MODE_USR else 1
        return walk(va, read32=self.read32, ttbr0=ttbr0, ttbr1=ttbr1, ttbcr=ttbcr, dacr=dacr,
                    contextidr=ctx, sctlr=sctlr, access=access, pl=pl)

    def translate(self, va: int, write: bool = False) -> int | None:
        """Guest VA -> PA as the guest's tables say, with privileged permissions; None on fault."""
        r = self.walk_current(va & 0xFFFFFFFF, W if write else R, pl=1)
        if isinstance(r, Fault):
            # the debugger may read what the guest could only execute, or through a domain
            # the guest has switched off: retry as a manager-domain read
            r = walk(va, read32=self.read32, **self._regs_as_manager())
            if isinstance(r, Fault):
                return None
        pa = r.pa
        return pa if self.bus.region_kind(pa) is not None else None

    def translate_code(self, va: int) -> int | None:
        """Guest VA -> PA of code the CPU runs, as the CPU translates it (here: a walk)."""
        return self.translate(va)

    def _regs_as_manager(self) -> dict:
        cpsr, sctlr, ttbr0, ttbr1, ttbcr, dacr, ctx = self.state.read()
        return dict(ttbr0=ttbr0, ttbr1=ttbr1, ttbcr=ttbcr, dacr=0xFFFFFFFF, contextidr=ctx,
                    sctlr=sctlr & ~(1 << 29), access=R, pl=1)

    # -- aborts that Unicorn raised itself (alignment; everything in native mode) -------------
    def native_abort(self, prefetch: bool) -> None:
        """Unicorn raised a prefetch or data abort without telling why: rebuild FSR and FAR."""
        vcpu = self.vcpu
        pc = vcpu.regs.read(UC_ARM_REG_PC)
        cpsr = vcpu.regs.read(UC_ARM_REG_CPSR)
        pl = 0 if (cpsr & CPSR_M) == MODE_USR else 1
        if prefetch:
            r = self.walk_current(pc, X, pl)
            if isinstance(r, Fault):
                info = AbortInfo(r.ifsr(), pc)
            elif self.bus.region_kind(r.pa) is None:
                info = AbortInfo(FSR_SYNC_EXTERNAL, pc)
            else:  # BKPT-like debug event
                info = AbortInfo(FSR_DEBUG, pc)
            self.stats.guest_faults += 1
            vcpu._take_in_hook(Exc.PABT, pc + 4, info)
            return
        acc = vcpu.decode_current_access()
        info = None
        if acc is not None:
            access = W if acc.write else R
            if acc.unprivileged:
                pl = 0  # LDRT/STRT: checked as a PL0 access
            addr = acc.start
            end = acc.start + max(acc.length, 1)
            while addr < end:
                r = self.walk_current(addr, access, pl)
                if isinstance(r, Fault):
                    info = AbortInfo(r.dfsr(), addr)
                    break
                if self.bus.region_kind(r.pa) is None:
                    info = AbortInfo(FSR_SYNC_EXTERNAL | (DFSR_WNR if acc.write else 0), addr)
                    break
                addr = (addr | ~UC_PAGE_MASK) + 1
            if info is None:
                info = AbortInfo(FSR_ALIGNMENT | (DFSR_WNR if acc.write else 0), acc.start)
        else:
            info = AbortInfo(FSR_ALIGNMENT, 0)
        if info.fsr & 0xF != FSR_ALIGNMENT:
            self.stats.guest_faults += 1
        vcpu._take_in_hook(Exc.DABT, pc + 8, info)

    def unmapped_abort(self, errno: int) -> bool:
        """Unicorn stopped on an access to an unmapped physical address (native mode)."""
        vcpu = self.vcpu
        uc = vcpu.uc
        pc = uc.reg_read(UC_ARM_REG_PC)
        from unicorn import UC_ERR_FETCH_UNMAPPED

        if errno == UC_ERR_FETCH_UNMAPPED:
            vcpu._take(Exc.PABT, pc + 4, AbortInfo(FSR_SYNC_EXTERNAL, pc))
            return True
        acc = vcpu.decode_current_access()
        far = acc.start if acc is not None else 0
        wnr = DFSR_WNR if acc is not None and acc.write else 0
        vcpu._take(Exc.DABT, pc + 8, AbortInfo(FSR_SYNC_EXTERNAL | wnr, far))
        return True

    def service(self) -> None:
        self.pending_service = False

    def reset(self) -> None:
        """Forget everything derived from guest state (board reset)."""

    def stats_dict(self) -> dict[str, int]:
        d = self.stats.to_dict()
        if self._fast is not None:
            # fills answered in C without reaching Python: from the fill cache, or by the C
            # walker (a hidden fault of its own: c_walks)
            fast = self._fast.hits + self._fast.walks
            d["fast_fills"] = fast
            d["c_walks"] = self._fast.walks
            d["fills"] = d.get("fills", 0) + fast
            d["hidden_faults"] = d.get("hidden_faults", 0) + self._fast.walks
        if self._tlbf is not None:
            # TLB operations answered by the C hook (nothing the shadow held could be dropped)
            d["tlb_ops_filtered"] = self._tlbf.filtered
            if self._dacr_hooks:
                # DACR writes done without Unicorn's whole-TLB flush, those left to it, and
                # the pages flushed one by one instead
                d["dacr_writes_done"] = self._tlbf.dacr_done
                d["dacr_writes_flushed"] = self._tlbf.dacr_passed
                d["dacr_pages_flushed"] = self._fast.dacr_pages
                # DACR changes made by MCRs without a hook (each a whole-TLB flush), and how
                # often the pruned hooks were put back for them
                d["dacr_writes_unhooked"] = self._fast.dacr_strays
                d["dacr_rearms"] = self._dacr_rearms
            if self._asid_hooks:
                # CONTEXTIDR writes done without Unicorn's whole-TLB flush, those left to it,
                # and the non-global pages flushed instead (for those and for TLBIASIDs)
                d["asid_writes_done"] = self._tlbf.ctx_done
                d["asid_writes_flushed"] = self._tlbf.ctx_passed
                d["asid_pages_flushed"] = self._fast.asid_pages
            d["tlb_ops"] = d.get("tlb_ops", 0) + self._tlbf.filtered
            for name, n in self._tlbf.filtered_by_name().items():
                d[f"tlb_ops_{name}"] = d.get(f"tlb_ops_{name}", 0) + n
        return d

    def info_tlb(self) -> str:
        from .tlbinfo import info_tlb

        return info_tlb(self)


class ShadowMmu(BaseMmu):
    mode = "shadow"

    def __init__(self, bus: Bus, sync: str = "tlb") -> None:
        super().__init__(bus)
        if sync not in ("tlb", "wp"):
            raise ValueError(f"unknown shadow sync policy {sync!r}")
        self.sync = sync
        self.shadow = ShadowTables(stats=self.stats)
        # wp policy: shadows by translation regime, and the union of their table pages
        self._shadows: dict[tuple[int, int, int], ShadowTables] = {}
        self._root: tuple[int, int, int] | None = None
        self._wp_pages: set[int] | None = set() if sync == "wp" else None
        # tlb policy: code pages scanned, keyed by (va 4K page, pa 4K page)
        self._scanned: set[tuple[int, int]] = set()
        self._code_pages: dict[int, set[int]] = {}  # pa 4K page -> VA 4K pages scanned there
        self._hooks: dict[int, tuple[int, object]] = {}  # va -> (uc hook handle, op info)
        # pa 4K page -> VA pages that were given write permission (to re-protect aliases)
        self._writable: dict[int, set[int]] = {}
        self._traps: list[tuple[int, bytes, int]] = []
        self._stepping = False
        #: VA page -> {PC -> is the privileged instruction there an LDRT-class access}
        #: (a page's PCs are forgotten whenever its code may have changed)
        self._unpriv_pc: dict[int, dict[int, bool]] = {}
        #: write traps per protected code page since it was last scanned
        self._code_traps: dict[int, int] = {}
        #: DACR writes are hooked too (the C hook's dacr_write; needs the fill cache's logs)
        self._dacr_hooks = False
        #: register writes hooked (_tlb_ops_in's regs); CONTEXTIDR also means a TLBIASID drops
        #: only Unicorn's non-global entries (ShadowMmu._asid_flush_in_place)
        self._reg_hooks: frozenset[str] = frozenset()
        self._asid_hooks = False
        #: DACR hooks removed for having gone unused (their MCRs run, Unicorn flushes its TLB),
        #: by VA: put back when DACR writes without a hook become frequent
        self._dacr_pruned: dict[int, object] = {}
        self._dacr_mark = 0
        self._dacr_stray_mark = 0
        self._dacr_rearms = 0
        self._prune_due = False
        self._python_fills = 0
        self._dacr_seen: set[int] = set()
        self._dacr_idle: dict[int, int] = {}  # DACR hook handle -> periods unused in a row
        self._dacr_used: set[int] = set()     # VAs of DACR hooks that have run
        self._quiet = False
        self._probing = False
        ram = bus.ram[0]
        self._ddr_lo = ram.base
        self._ddr_hi = ram.end

    def install(self, vcpu) -> None:
        super().install(vcpu)
        vcpu.uc.ctl_set_tlb_mode(UC_TLB_VIRTUAL)
        self._install_fill_hook(vcpu)

    def _install_fill_hook(self, vcpu) -> None:
        # The fill hook is registered with a raw ctypes callback: the binding's wrapper (an
        # exception guard, a ctypes pointer dereference and a struct view per call) costs about
        # as much as the monitor's own work on a shadow hit. Under the tlb policy the C fill
        # cache sits in front of it and calls it only for answers it does not hold.
        self._entry = _Entry()
        self._fill_cb = _TLB_FILL_CFUNC(self._fill_raw)
        if self._wp_pages is None and not _AUDIT:
            self._tlbf = create_tlbop_filter(vcpu.uc, self._on_tlb_op_from_c)
            self.shadow.marks = self._tlbf
            self._fast = create_fill_cache(vcpu.uc, self._fill_cb, self.bus.ram[0])
            if self._fast is not None:
                if self._tlbf is not None:
                    # by-MVA operations it answers must drop the walker's answers for the page
                    self._tlbf.attach_fill_cache(self._fast)
                    self._dacr_hooks = self._tlbf.dacr_ready
                    self._asid_hooks = self._tlbf.asid_ready
                    self._reg_hooks = frozenset(
                        name for name, on in (("DACR", self._dacr_hooks),
                                              ("CONTEXTIDR", self._asid_hooks)) if on)
                return
        self._hook = ctypes.c_size_t()
        err = uclib.uc_hook_add(vcpu.uc._uch, ctypes.byref(self._hook), UC_HOOK_TLB_FILL,
                                ctypes.cast(self._fill_cb, ctypes.c_void_p), None,
                                ctypes.c_uint64(1), ctypes.c_uint64(0))
        if err:
            raise RuntimeError(f"uc_hook_add(UC_HOOK_TLB_FILL) failed: {err}")

    def _fill_raw(self, _uch, vaddr: int, access: int, entry_ptr: int, _ud) -> bool:
        if self._quiet:
            return False  # a probe of Unicorn's during _del_hook
        e = self._entry
        self._cacheable = True
        self._fill_domain = DOM_ANY
        self._fill_global = False
        self._python_fills += 1
        if not self._python_fills & 255 and self._dacr_hooks:
            if self._dacr_writes() - self._dacr_mark >= DACR_PRUNE_EVERY:
                self._prune_due = self.pending_service = True
        try:
            ok = self._fill(None, vaddr, access, e, None)
        except BaseException as exc:
            self._hook_failed(exc)
            return False
        if ok:
            _memmove(entry_ptr, _PACK_ENTRY(e.paddr, e.perms), 12)
            if self._fill_cpsr & _CPSR_IT and not self._probing:
                # Unicorn restored this instruction's state before calling the hook, Thumb IT
                # bits included. In the middle of a translated block QEMU keeps them 0 and
                # writes them only when the block ends inside an IT block: left set, they make
                # the instructions after the IT block run as if inside it (corrupted user
                # programs under shadow paging; native fills never restore state).
                self.vcpu.regs.write(UC_ARM_REG_CPSR, self._fill_cpsr & ~_CPSR_IT)
            fast = self._fast
            if fast is not None:
                fast.set_domain(self._fill_domain, self._fill_global)
                if self._cacheable:
                    fast.insert(self._fill_pl, e.paddr, e.perms, self._fill_global,
                                self._fill_domain)
        return ok

    def reset(self) -> None:
        self.shadow.clear()
        self._shadows.clear()
        self._root = None
        if self._wp_pages is not None:
            self._wp_pages.clear()
        for va, (h, _op) in list(self._hooks.items()):
            self._del_hook(h)
        self._hooks.clear()
        self._scanned.clear()
        for pa4k in self._code_pages:
            self._set_code_page(pa4k, False)
        self._code_pages.clear()
        self._writable.clear()
        self._traps.clear()
        self._clear_unpriv()
        self._code_traps.clear()
        self.flush_unicorn_tlb()

    # -- the fill hook: the hardware walking the shadow ---------------------------------------
    def _fill(self, uc, vaddr: int, access: int, entry, _ud) -> bool:
        cpsr, sctlr, ttbr0, ttbr1, ttbcr, dacr, ctx = self.state.read()
        self._fill_cpsr = cpsr
        pl = 0 if (cpsr & 0x1F) == 0x10 else 1
        acc = _ACCESS[access]
        wp = self._wp_pages
        if sctlr & 1:
            if wp is not None:
                root = (ttbr0 & 0xFFFFC000, ttbr1 & 0xFFFFC000, (ttbcr & 0x37) | (sctlr & 0x30000000))
                if root != self._root:
                    self._switch_root(root)
            shadow = self.shadow
            if pl and access != UC_MEM_FETCH and self._unprivileged(cpsr, ctx, dacr):
                pl = 0  # LDRT/STRT from a privileged mode: Unicorn fills its PL0 TLB here
            if vaddr == UNTIL_PAGE and access == UC_MEM_FETCH:
                # emu_start probes its 'until' address once per call: not a guest access
                return self._fill_until(entry)
            misses = self.stats.hidden_faults
            r = shadow.translate(vaddr, acc, pl, read32=self.read32, ttbr0=ttbr0, ttbr1=ttbr1,
                                 ttbcr=ttbcr, dacr=dacr, contextidr=ctx, sctlr=sctlr)
            if r.__class__ is Fault:
                self._guest_fault(r, vaddr, access)
                return False
            pa, perms = r
            if wp is not None and self.stats.hidden_faults != misses:
                self._protect_sources(vaddr, ctx & 0xFF)
        else:
            self.stats.fills += 1
            pa = vaddr
            perms = 7
        if not self._ddr_lo <= pa < self._ddr_hi:
            kind = self.bus.region_kind(pa)
            if kind is None:
                if vaddr == UNTIL_PAGE and access == UC_MEM_FETCH:
                    return self._fill_until(entry)
                self._external_abort(vaddr, access)
                return False
            if kind == "rom":
                perms &= ~W
        pa4k = pa >> 12
        if pl and wp is None:
            key = (vaddr >> 12, pa4k)
            if key not in self._scanned:
                if access == UC_MEM_FETCH:
                    self._scan(vaddr & ~0xFFF, pa & ~0xFFF, key)
                else:
                    # Unicorn would use this answer for instruction fetches too, without asking
                    # again: keep X back until the page has been scanned by a real fetch fill
                    perms &= ~X
        if perms & W and (pa4k in self._code_pages or (wp is not None and pa4k in wp)):
            if access == UC_MEM_WRITE:
                self._cacheable = False  # this answer opens one trapped write, once
                self._trap_write(pa, vaddr)
            else:
                perms &= ~W
        if perms & W:
            s = self._writable.get(pa4k)
            if s is None:
                if len(self._writable) >= WRITABLE_LIMIT:
                    # bound the record: after a full flush Unicorn holds no write permission
                    # at all, so the record can start again empty
                    self._writable.clear()
                    self.flush_unicorn_tlb()
                self._writable[pa4k] = {vaddr}
            else:
                s.add(vaddr)
        if not perms & acc:
            # The cached entry does not allow this access: walk again. A fault is the guest's;
            # a translation that allows it replaces the cached one (a TLB may refill at any
            # time), rather than handing Unicorn an answer it would turn into a bogus abort.
            r = self.walk_current(vaddr, acc, pl)
            if r.__class__ is Fault:
                self._guest_fault(r, vaddr, access)
                return False
            if sctlr & 1:
                self.shadow.insert(r)
                if wp is not None:
                    self._protect_sources(vaddr, ctx & 0xFF)
            perms = r.perms(pl) & perms | (r.perms(pl) & acc)
            if r.pa >> 12 != pa4k:
                return self._fill(uc, vaddr, access, entry, _ud)
        if _AUDIT and sctlr & 1 and (_AUDIT == 2 or not pl):
            self._audit(vaddr, acc, pl, pa, perms)
        if self._fast is not None:  # what the fill cache needs to keep this answer
            self._fill_pl = pl
            if sctlr & 1:  # the shadow entry this answer came from: global? which domain?
                se = self.shadow.entry(vaddr, ctx & 0xFF)
                self._fill_global = se is not None and se.global_
                self._fill_domain = DOM_ANY if se is None else se.domain
            else:
                self._fill_global = True
                self._fill_domain = DOM_NONE
        if access != UC_MEM_FETCH:
            # A data fill never grants X (a fetch asks again, as from a split I/D TLB). Unicorn
            # sends every store to a page whose TLB entry is executable down its slow path
            # (self-modifying-code check) for as long as the entry lives; without X it marks
            # the page dirty after the first store and later stores take the fast path.
            perms &= ~X
        entry.paddr = pa
        entry.perms = perms
        return True

    def _audit(self, vaddr: int, acc: int, pl: int, pa: int, perms: int) -> None:
        r = self.walk_current(vaddr, acc, pl)
        if r.__class__ is Fault or r.pa >> 10 != pa >> 10 or perms & ~r.perms(pl) & RWX:
            *_, ctx = self.state.read()
            log.warning("audit: va %08x (access %d, PL%d, CONTEXTIDR %x, PC %08x) filled as pa %08x "
                        "perms %d; the tables say %s", vaddr, acc, pl, ctx, self.state.pc, pa,
                        perms, r if r.__class__ is Fault else
                        f"pa {r.pa:08x} perms {r.perms(pl)} (descriptors "
                        f"{', '.join(f'{x:08x}' for x in r.sources)})")

    # -- wp policy: one shadow per translation regime, table pages write-protected --------------
    def _switch_root(self, root: tuple[int, int, int]) -> None:
        """wp sync: the shadow belongs to the tables it was built from (TTBR0, TTBR1, TTBCR, and
        SCTLR.AFE/TRE, which change how descriptors read).
        Entries are only dropped when their descriptors change, so a switch to other tables
        (or back) selects another shadow instead of invalidating anything."""
        self.stats.context_switches += 1
        self._root = root
        shadows = self._shadows
        sh = shadows.pop(root, None)
        if sh is None:
            sh = ShadowTables(stats=self.stats)
            if len(shadows) >= MAX_SHADOWS:
                shadows.pop(next(iter(shadows)))
        shadows[root] = sh
        self.shadow = sh

    def _protect_sources(self, vaddr: int, asid: int) -> None:
        e = self.shadow.entry(vaddr, asid)
        if e is None:
            return
        wp = self._wp_pages
        for src in e.sources:
            page = src >> 12
            if page not in wp:
                wp.add(page)
                self._protect_page(page)

    def _clear_unpriv(self) -> None:
        self._unpriv_pc.clear()
        if self._fast is not None:
            self._fast.clear_unpriv()

    def _forget_unpriv(self, va_page: int) -> None:
        """The code in a VA page may have changed: decode its PCs again (and the last halfword
        of the page before, where a 32-bit Thumb instruction can start)."""
        self._unpriv_pc.pop(va_page >> 12, None)
        prev = self._unpriv_pc.get((va_page >> 12) - 1)
        if prev is not None:
            prev.pop(va_page - 2, None)
        if self._fast is not None:
            self._fast.forget_unpriv_page(va_page)

    def _unprivileged(self, cpsr: int, ctx: int, dacr: int) -> bool:
        """Is the privileged instruction making this access an unprivileged load/store?

        The fill hook is not told Unicorn's mmu_idx, only the CPSR mode; LDRT and friends are
        the one case where they differ, so look at the instruction (its page is in the shadow:
        it is being executed)."""
        pc = self.state.pc
        if self._wp_pages is not None:
            # wp: code pages are not protected, so nothing says when an instruction changes
            # (an LDR rewritten into an LDRT at the same address): decode it every time
            return self._decode_unprivileged(pc, cpsr, ctx, dacr)
        page = self._unpriv_pc.get(pc >> 12)
        if page is None:
            page = self._unpriv_pc[pc >> 12] = {}
        known = page.get(pc)
        if known is None:
            known = page[pc] = self._decode_unprivileged(pc, cpsr, ctx, dacr)
        if self._fast is not None:  # (again, when the C table lost it to a collision)
            self._fast.set_unpriv(pc, int(known))
        return known

    def _decode_unprivileged(self, pc: int, cpsr: int, ctx: int, dacr: int) -> bool:
        hit = self.shadow.lookup(pc, ctx & 0xFF, 1, dacr | 0x55555555)
        if hit is None:
            return False
        thumb = bool(cpsr & 0x20)
        pa = hit[0] + (pc & ~UC_PAGE_MASK)
        if thumb:
            lo = self.read32(pa & ~3)
            if lo is None:
                return False
            if pa & 2:
                hi = self.read32((pa & ~3) + 4)
                if hi is None:
                    return False
                word = (lo >> 16) | ((hi & 0xFFFF) << 16)
            else:
                word = lo
            return is_unprivileged_ldst(word, True)
        word = self.read32(pa)
        return word is not None and is_unprivileged_ldst(word, False)

    def translate_code(self, va: int) -> int | None:
        """The shadow's entry when it has one (the translation the CPU is using for the code
        it runs, without a walk: the block hook counts Thumb blocks with it, the vCPU decodes
        faulting instructions with it), else a walk."""
        cpsr, sctlr, _t0, _t1, _tc, _dacr, ctx = self.state.read()
        if sctlr & 1:
            hit = self.shadow.lookup(va, ctx & 0xFF, 0 if (cpsr & 0x1F) == 0x10 else 1, 0xFFFFFFFF)
            if hit is not None:
                return hit[0] + (va & ~UC_PAGE_MASK)
        return self.translate(va)

    def _fill_until(self, entry) -> bool:
        # emu_start translates its 'until' address once per call: answer it harmlessly
        self._cacheable = False
        entry.paddr = UNTIL_PAGE
        entry.perms = UC_PROT_EXEC
        return True

    def _guest_fault(self, f: Fault, vaddr: int, access: int) -> None:
        if self._probing:
            return  # one of Unicorn's own probes (_invalidate_blocks), not a guest access
        far = self.vcpu.exact_fault_address(vaddr, access)
        if access == UC_MEM_FETCH:
            self.vcpu.pending_abort = (Exc.PABT, AbortInfo(f.ifsr(), far))
        else:
            self.vcpu.pending_abort = (Exc.DABT, AbortInfo(f.dfsr(), far))

    def _external_abort(self, vaddr: int, access: int) -> None:
        if self._probing:
            return
        self.stats.guest_faults += 1
        far = self.vcpu.exact_fault_address(vaddr, access)
        if access == UC_MEM_FETCH:
            self.vcpu.pending_abort = (Exc.PABT, AbortInfo(FSR_SYNC_EXTERNAL, far))
        else:
            fsr = FSR_SYNC_EXTERNAL | (DFSR_WNR if access == UC_MEM_WRITE else 0)
            self.vcpu.pending_abort = (Exc.DABT, AbortInfo(fsr, far))

    # -- write protection (wp tables, scanned code) --------------------------------------------
    def _trap_write(self, pa: int, vaddr: int) -> None:
        """A write to a protected page: let it through until the end of this translation block,
        remembering the page's old contents; :meth:`service` then finds what changed."""
        self.stats.wp_traps += 1
        page = pa & ~0xFFF
        old = self.bus.read_phys(page, 0x1000) or b""
        self._traps.append((page, old, vaddr))
        if not self._stepping:
            # Unicorn completes this access, then stops with PC still at the instruction;
            # service() re-executes it (a store is idempotent) and stops right after it.
            self.pending_service = True
            self.vcpu._stop_emu()

    def _protect_page(self, pa4k: int) -> None:
        """Take away the write permission Unicorn may hold for the page at any VA."""
        vas = self._writable.pop(pa4k, None)
        if vas:
            self.flush_unicorn_pages(vas)
        fast = self._fast
        if fast is not None:  # where the C walker gave W (see _fillcache.c)
            rec = fast.take_writable(pa4k << 12)
            if rec == WR_MANY:
                self.flush_unicorn_tlb()
            elif rec:
                self.flush_unicorn_pages([rec & UC_PAGE_MASK])

    def _set_code_page(self, pa4k: int, on: bool) -> None:
        """Tell the C walker that a page is (or is no longer) a protected code page."""
        if self._fast is not None:
            self._fast.set_code(pa4k << 12, on)

    def service(self) -> None:
        """After a slice in which protected pages were written (or DACR hooks are to be pruned)."""
        self.pending_service = False
        if self._prune_due:
            self._prune_dacr_hooks()
        if not self._traps:
            return
        self._stepping = True
        try:
            self.vcpu.step_current_instruction(store=True)  # it trapped a write
        finally:
            self._stepping = False
        traps, self._traps = self._traps, []
        for page, old, vaddr in traps:
            new = self.bus.read_phys(page, 0x1000)
            if new is None or len(old) != 0x1000:
                continue
            if new != old:
                changed = [page + off for off in changed_words(old, new)]
                flush: set[int] = set()
                flush_all = False
                shadows = list(self._shadows.values()) if self._wp_pages is not None else [self.shadow]
                if self.shadow not in shadows:
                    shadows.append(self.shadow)
                for addr in changed:
                    for sh in shadows:
                        res = sh.drop_by_descriptor(addr)
                        if res is None:
                            flush_all = True
                        else:
                            flush.update(res)
                if flush_all:
                    self.flush_unicorn_tlb()
                elif flush:
                    self.flush_unicorn_pages(flush)
                if (page >> 12) in self._code_pages:
                    for va_page in self._code_pages[page >> 12]:
                        self._forget_unpriv(va_page)
                    n = self._code_traps.get(page >> 12, 0) + 1
                    self._code_traps[page >> 12] = n
                    if n >= CODE_WRITE_LIMIT:
                        self._retire_code_page(page >> 12)
                    else:
                        self._rescan(page)
            if self._wp_pages is not None and (page >> 12) in self._wp_pages:
                if not any(sh.is_table_page(page) for sh in self._shadows.values()):
                    self._wp_pages.discard(page >> 12)  # no longer holds tables in use
            # the write permission granted for the trap goes again
            self.flush_unicorn_pages([vaddr])
            if (page >> 12) in self._code_pages or (
                    self._wp_pages is not None and (page >> 12) in self._wp_pages):
                self._protect_page(page >> 12)

    def _retire_code_page(self, pa4k: int) -> None:
        """A code page written again and again (Linux poisons its freed init code, a guest
        keeps data beside its code): stop protecting it. It is forgotten as scanned, its hooks
        go, and Unicorn's translations of it are dropped, so the next privileged instruction
        fetch from it scans and protects it afresh, and sees whatever TLB operations it then
        holds."""
        self.stats.retired_code_pages += 1
        self._code_traps.pop(pa4k, None)
        vas = self._code_pages.pop(pa4k, set())
        self._set_code_page(pa4k, False)
        for va_page in vas:
            self._scanned.discard((va_page >> 12, pa4k))
            self._drop_hooks(va_page, lambda va: True)
            self.flush_unicorn_pages(range(va_page, va_page + 0x1000, UC_PAGE_SIZE))

    # -- tlb policy: finding the guest's TLB maintenance operations ----------------------------
    def _scan(self, va_page: int, pa_page: int, key: tuple[int, int]) -> None:
        self._scanned.add(key)
        # new code at this VA, or a retired page's code (written unprotected since)
        self._forget_unpriv(va_page)
        data = self.bus.read_phys(pa_page, 0x1000)
        if data is None:
            return
        self.stats.scanned_pages += 1
        pa4k = pa_page >> 12
        vas = self._code_pages.get(pa4k)
        if vas is None:
            vas = self._code_pages[pa4k] = set()
            self._code_traps.pop(pa4k, None)
            self._set_code_page(pa4k, True)
            self._protect_page(pa4k)
        vas.add(va_page)
        for op in _tlb_ops_in(data, va_page, self._reg_hooks):
            self._add_hook(op)

    def _rescan(self, pa_page: int) -> None:
        data = self.bus.read_phys(pa_page, 0x1000)
        if data is None:
            return
        for va_page in self._code_pages.get(pa_page >> 12, ()):
            self.stats.scanned_pages += 1
            found = {op.addr: op for op in _tlb_ops_in(data, va_page, self._reg_hooks)}
            self._drop_hooks(va_page, lambda va: va not in found
                             or found[va].raw != self._hooks[va][1].raw)
            for va, op in found.items():
                if va not in self._hooks:
                    self._add_hook(op)
            # blocks translated before the hooks changed must not run on without them
            self.vcpu.uc.ctl_remove_cache(va_page, va_page + 0x1000)

    def _dacr_writes(self) -> int:
        """DACR writes so far: at hooks (done there or left to the MCR) and without one."""
        return self._tlbf.dacr_done + self._tlbf.dacr_passed + self._fast.dacr_strays

    def _prune_dacr_hooks(self) -> None:
        """Remove the DACR hooks that went unused. Unicorn walks the whole list of code hooks at
        every hooked instruction (and at every instruction it translates): Linux has about 1,200
        DACR writes (one per inlined uaccess_save_and_enable), and with all of them hooked the
        walks cost more than the flushes saved. A hook that never ran goes after one period of
        DACR_PRUNE_EVERY writes, one that has run after DACR_IDLE_PERIODS periods unused.

        What runs changes (the end of a boot, then a fork+exec loop): DACR writes at pruned
        sites show as DACR changes no hook made (each a whole-TLB flush), and the fill that saw
        one left its PC. When they were frequent in the period, the pruned hooks shortly before
        those PCs are put back."""
        self._prune_due = False
        tlbf, fast = self._tlbf, self._fast
        self._dacr_mark = self._dacr_writes()
        strays, self._dacr_stray_mark = (fast.dacr_strays - self._dacr_stray_mark,
                                         fast.dacr_strays)
        idle, used = self._dacr_idle, self._dacr_used
        for va, (h, op) in list(self._hooks.items()):
            if op.reg != "DACR":
                continue
            hits = tlbf.take_hits(h)
            if h not in self._dacr_seen:
                continue  # added since the last pruning: judged after a whole period
            if hits:
                used.add(va)
                idle[h] = 0
                continue
            n = idle[h] = idle.get(h, 0) + 1
            if n >= (DACR_IDLE_PERIODS if va in used else 1):
                self._remove_hook(va)
                self._dacr_pruned[va] = op
        if strays >= DACR_REARM_UNHOOKED and self._dacr_pruned:
            self._rearm_dacr_hooks(fast.stray_pcs(strays))
        self._dacr_seen = {h for h, op in self._hooks.values() if op.reg == "DACR"}

    def _rearm_dacr_hooks(self, pcs: list[int]) -> None:
        """Hook again the pruned DACR writes up to DACR_STRAY_REACH bytes before these PCs."""
        pruned = self._dacr_pruned
        sites = sorted(pruned)
        back = []
        for pc in set(pcs):
            i = bisect.bisect_right(sites, pc)
            while i and pc - sites[i - 1] <= DACR_STRAY_REACH:
                i -= 1
                back.append(sites[i])
        if not back:
            return
        self._dacr_rearms += 1
        for va in back:
            op = pruned.pop(va, None)
            if op is not None:
                self._add_hook(op)
        self._invalidate_blocks({va & ~0xFFF for va in back})

    def _invalidate_blocks(self, pages) -> None:
        """Drop Unicorn's translated blocks of these guest code pages (VAs), so that hooks added
        since compile into them. uc_ctl_remove_cache finds the blocks by translating each VA
        under the vCPU's current state: between runs that may be User mode, where kernel code
        cannot be fetched, so the vCPU is moved to Supervisor mode for the probes and back
        (Unicorn swaps the banked registers both ways). A miss goes to Python, which walks as
        for any fill and delivers no fault: a page that cannot be translated now (not mapped)
        keeps its blocks, which then run without the new hooks: slower, never wrong."""
        regs = self.vcpu.regs
        cpsr = regs.read(UC_ARM_REG_CPSR)
        user = (cpsr & 0x1F) == 0x10
        if user:
            regs.write(UC_ARM_REG_CPSR, (cpsr & ~0x1F) | 0x13)
        self._set_quiet(PROBE)
        try:
            remove = self.vcpu.uc.ctl_remove_cache
            for page in sorted(pages):
                remove(page, page + 0x1000)
        finally:
            self._set_quiet(0)
            if user:
                regs.write(UC_ARM_REG_CPSR, cpsr)

    def _drop_hooks(self, va_page: int, which) -> None:
        """Remove the TLB-operation hooks in the 4 KiB VA page for which ``which(va)`` holds."""
        for va in [v for v in self._hooks if va_page <= v < va_page + 0x1000 and which(v)]:
            self._remove_hook(va)

    def _remove_hook(self, va: int) -> None:
        h, _ = self._hooks.pop(va)
        self._dacr_idle.pop(h, None)
        self._del_hook(h)
        self.stats.hooks -= 1

    def _del_hook(self, h: int) -> None:
        # uc_hook_del invalidates the translated blocks the hook was compiled into, and finds
        # their pages by translating their VAs under the vCPU's current state (another mode,
        # another address space): a fill then must neither deliver a guest fault nor touch the
        # guest's registers (Unicorn ignores the failure). Without this, a user process got the
        # prefetch abort of a kernel VA.
        self._set_quiet(QUIET)
        try:
            if self._tlbf is not None:
                self._tlbf.del_hook(h)
            else:
                self.vcpu.uc.hook_del(h)
        finally:
            self._set_quiet(0)

    def _set_quiet(self, mode: int) -> None:
        """QUIET: fills fail (no guest fault, no Python work); PROBE: fills are answered as
        usual but a fault is not delivered; 0: normal. Both leave the Thumb IT bits alone."""
        self._quiet = mode == QUIET
        self._probing = mode == PROBE
        if self._fast is not None:
            self._fast.set_quiet(mode)

    def _add_hook(self, op) -> None:
        if op.addr in self._hooks or (op.reg == "DACR" and op.addr in self._dacr_pruned):
            return
        if self._tlbf is not None:
            h = self._tlbf.add_hook(op.addr, op, CORE_REG_IDS[op.rt])
        else:
            h = self.vcpu.uc.hook_add(UC_HOOK_CODE, self._on_tlb_op, op, op.addr, op.addr)
        self._hooks[op.addr] = (h, op)
        self.stats.hooks += 1

    def _on_tlb_op_from_c(self, address: int) -> None:
        """The C hook (``_tlbop.c``) hands over an operation it could not answer."""
        try:
            hooked = self._hooks.get(address)
            if hooked is not None:
                self._on_tlb_op(self.vcpu.uc, address, 0, hooked[1])
        except BaseException as exc:
            self._hook_failed(exc)

    def _hook_failed(self, exc: BaseException) -> None:
        self.vcpu.hook_failed(exc)

    def _on_tlb_op(self, uc, address: int, size: int, op) -> None:
        """Just before the guest executes a TLB maintenance operation."""
        cpsr, *_, ctx = self.state.read()
        if (cpsr & 0x1F) == 0x10:
            return  # user mode: the instruction is UNDEFINED there
        if not op.passes >> (cpsr >> 28) & 1 and not cpsr & 0x20:
            return  # an ARM instruction whose condition fails does nothing
        # the hook is by VA: make sure the instruction is still the one found. It is being
        # executed, so its page is normally in the shadow (a dict lookup, not a walk)
        raw = self.vcpu.read_code(address, op.size)
        if raw is None or raw != op.raw:
            return
        value = self.vcpu.regs.read_r(op.rt)
        res = self.shadow.apply_tlb_op(op.tlb, value)
        scope = op.tlb.scope
        if scope == SCOPE_ASID:
            if not self._asid_flush_in_place(address, op, value & 0xFF, cpsr, ctx):
                self.flush_unicorn_tlb(asid=value & 0xFF)
        elif res is None:
            self.flush_unicorn_tlb()
        elif res:
            self.flush_unicorn_pages(res, asid=value & 0xFF if scope == SCOPE_MVA else None)


    def _asid_flush_in_place(self, address: int, op, asid: int, cpsr: int, ctx: int) -> bool:
        """A TLBIASID without Unicorn's whole-TLB flush: Unicorn holds non-global entries of the
        current ASID only (a CONTEXTIDR write drops them, _fillcache.c's hvd_fill_asid_change),
        so for another ASID there is nothing of it to drop, and for the current one the pages
        in the fill cache's ASID log. Then the instruction is stepped over. False (nothing
        done to Unicorn) when that cannot be done: the log overflowed, or a Thumb IT block.

        Unicorn runs the hook of a Thumb instruction in an IT block only when its condition
        passes, and does not leave a block in the middle of an IT block: the new PC is then
        not taken, the MCR runs after the hook and Unicorn flushes its TLB (mmu_asid's ITE
        case shows the instruction after it still skipped). CPSR's IT bits read here are not
        kept up to date inside a block; the check is for those that are."""
        if not self._asid_hooks or cpsr & _CPSR_IT:
            return False
        fast = self._fast
        if asid == ctx & 0xFF and not fast.flush_nonglobal():
            return False
        fast.flush_asid(asid)
        self.stats.asid_flushes_in_place += 1
        self.vcpu.regs.write(UC_ARM_REG_PC, (address + op.size) | (1 if cpsr & 0x20 else 0))
        return True


class NativeMmu(BaseMmu):
    mode = "native"

    def install(self, vcpu) -> None:
        super().install(vcpu)
        vcpu.uc.ctl_set_tlb_mode(UC_TLB_CPU)
