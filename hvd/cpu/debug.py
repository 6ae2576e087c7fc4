"""Debugger breakpoints and watchpoints on the vCPU, as Unicorn hooks.

Nothing here writes guest memory: a breakpoint is a ``UC_HOOK_CODE`` hook on exactly one
address (Unicorn calls it before the instruction there executes), so a guest that checksums its
own code sees its own bytes. Software and hardware breakpoints are the same mechanism and differ
only in how the stop is reported. A watchpoint is a ``UC_HOOK_MEM_WRITE`` and/or
``UC_HOOK_MEM_READ`` hook. Unicorn 2.1.4 calls memory hooks with the *physical* address of the
access (and checks their ranges against it), so a watchpoint set at a virtual address is
translated through the guest's tables when it is inserted and hooks the physical range behind it
(page by page). It then sees every access to that memory, whatever virtual address the guest
uses, and reports the watched virtual address. gdb removes and inserts watchpoints at every
stop and resume, so the translation is refreshed each time the guest is resumed; a watchpoint
on an address that is not mapped at that moment cannot be inserted.

When a hook decides to stop, it records the reason (:attr:`DebugHooks.hit`) and calls
:meth:`VCpu.request_stop`: Unicorn leaves the translation block at once and the run loop parks.

Where the vCPU stops:

- breakpoint: PC at the breakpoint address, the instruction not executed;
- watchpoint: PC at the accessing instruction, registers not yet updated by it (Unicorn ends the
  block right after the memory operation and restores PC to the instruction). A store has
  already reached memory, so re-executing the instruction is harmless (it stores the same
  value again). This is what gdb expects of ARM targets: their watchpoints "stop before the
  access", and gdb steps over the instruction itself, with watchpoints removed, to show the new
  value.

A Unicorn 2.1.4 quirk matters for watchpoints: once a hook has written PC inside ``emu_start``
(the vCPU enters SVC/BKPT exceptions that way), Unicorn stops syncing PC for memory hooks and
stops restoring it when a hook ends the slice, until the next ``emu_start``; a watchpoint hit
later in the same slice would leave PC at the start of its translation block, with registers
already updated (checked: a store after an SVC, ``--mmu native``). While watchpoints exist, an
interrupt hook (after the vCPU's own) therefore ends the slice after every such exception.

Resuming from a stop must not stop again at once for the same reason: :attr:`DebugHooks.skip_pc`
lets the next execution of that one address pass, and :attr:`DebugHooks.suppress_watch` lets a
single step re-execute a watched access.

Costs: Unicorn checks every code hook's range for each instruction it translates and calls
Python only at the hooked addresses; memory hooks make Unicorn take its slow path for accesses
while any watchpoint exists. Adding or removing hooks flushes Unicorn's translation cache so the
change applies to code translated before. All methods must be called while the vCPU is parked
(or not started), or on the vCPU thread between slices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from unicorn import UC_HOOK_CODE, UC_HOOK_INTR, UC_HOOK_MEM_READ, UC_HOOK_MEM_WRITE

from .arm import UC_PAGE_SIZE
from .vcpu import StopReason, VCpu

#: how far below a watched address an access may start and still overlap it (LDRD/STRD, VLDR D)
MAX_ACCESS = 8

WATCH_KINDS = ("watch", "rwatch", "awatch")


@dataclass
class _Breakpoint:
    handle: int
    software: int = 0   # how many software breakpoints gdb placed here
    hardware: int = 0


@dataclass
class _Piece:
    """The part of a watchpoint that lies in one physically contiguous range."""

    pa: int
    end: int            # exclusive
    va: int             # the virtual address of ``pa``
    kind: str


@dataclass
class _Watchpoint:
    pieces: list[_Piece]
    handles: list[int] = field(default_factory=list)


class DebugHooks:
    """The debugger's breakpoints and watchpoints on one vCPU."""

    def __init__(self, vcpu: VCpu) -> None:
        self.vcpu = vcpu
        self.uc = vcpu.uc
        self._bps: dict[int, _Breakpoint] = {}
        self._wps: dict[tuple[int, int, str], _Watchpoint] = {}
        self._intr_hook: int | None = None
        #: VA -> PA by the guest's tables (None: unmapped); identity until the VM sets it
        self.translate: Callable[[int], int | None] = lambda va: va
        #: the next time the instruction at this address runs, its breakpoint does not fire
        self.skip_pc = -1
        #: watchpoints do not fire (set around a single step over a watched access)
        self.suppress_watch = False
        #: why the last hook stopped the vCPU (taken by the debugger with :meth:`take_hit`)
        self.hit: StopReason | None = None

    # -- breakpoints -------------------------------------------------------------------------
    def add_breakpoint(self, addr: int, *, hardware: bool = False) -> bool:
        addr &= 0xFFFFFFFE
        bp = self._bps.get(addr)
        if bp is None:
            handle = self.uc.hook_add(UC_HOOK_CODE, self._on_code, None, addr, addr)
            bp = self._bps[addr] = _Breakpoint(handle)
            self._changed()
        if hardware:
            bp.hardware += 1
        else:
            bp.software += 1
        return True

    def remove_breakpoint(self, addr: int, *, hardware: bool = False) -> bool:
        addr &= 0xFFFFFFFE
        bp = self._bps.get(addr)
        if bp is None:
            return False
        if hardware:
            if not bp.hardware:
                return False
            bp.hardware -= 1
        else:
            if not bp.software:
                return False
            bp.software -= 1
        if not bp.hardware and not bp.software:
            del self._bps[addr]
            self.uc.hook_del(bp.handle)
            self._changed()
        return True

    def breakpoint_at(self, addr: int) -> bool:
        return (addr & 0xFFFFFFFE) in self._bps

    def _on_code(self, uc, address: int, _size: int, _ud: object) -> None:
        if address == self.skip_pc:
            self.skip_pc = -1
            return
        bp = self._bps.get(address)
        if bp is None:
            return
        self.hit = StopReason("breakpoint", addr=address, detail="swbreak" if bp.software else "hwbreak")
        self.vcpu.request_stop(self.hit)

    # -- watchpoints -------------------------------------------------------------------------
    def add_watchpoint(self, addr: int, length: int, kind: str, *, phys: bool = False) -> bool:
        """Watch ``length`` bytes at ``addr`` (virtual, or physical with ``phys``)."""
        if kind not in WATCH_KINDS or length <= 0 or addr + length > 0x1_0000_0000:
            return False
        key = (addr, length, kind)
        if key in self._wps:
            return True
        pieces = self._pieces(addr, length, kind, phys)
        if pieces is None:
            return False
        wp = _Watchpoint(pieces)
        types = {"watch": (UC_HOOK_MEM_WRITE,), "rwatch": (UC_HOOK_MEM_READ,),
                 "awatch": (UC_HOOK_MEM_READ, UC_HOOK_MEM_WRITE)}[kind]
        for piece in pieces:
            lo = max(0, piece.pa - (MAX_ACCESS - 1))
            for t in types:
                wp.handles.append(self.uc.hook_add(t, self._on_mem, piece, lo, piece.end - 1))
        self._wps[key] = wp
        if self._intr_hook is None:
            self._intr_hook = self.uc.hook_add(UC_HOOK_INTR, self._on_intr)
        self._changed()
        return True

    def _on_intr(self, uc, _intno: int, _ud: object) -> None:
        # see the module docstring: a fresh emu_start makes Unicorn sync PC again
        uc.emu_stop()

    def _drop_intr_hook(self) -> None:
        if self._intr_hook is not None and not self._wps:
            self.uc.hook_del(self._intr_hook)
            self._intr_hook = None

    def _pieces(self, addr: int, length: int, kind: str, phys: bool) -> list[_Piece] | None:
        pieces: list[_Piece] = []
        va = addr
        end = addr + length
        while va < end:
            n = min(end - va, UC_PAGE_SIZE - (va & (UC_PAGE_SIZE - 1)))  # one Unicorn page
            pa = va if phys else self.translate(va)
            if pa is None:
                return None
            last = pieces[-1] if pieces else None
            if last is not None and last.end == pa and last.va + (last.end - last.pa) == va:
                last.end = pa + n
            else:
                pieces.append(_Piece(pa, pa + n, va, kind))
            va += n
        return pieces
    def remove_watchpoint(self, addr: int, length: int, kind: str) -> bool:
        wp = self._wps.pop((addr, length, kind), None)
        if wp is None:
            return False
        for h in wp.handles:
            self.uc.hook_del(h)
        self._drop_intr_hook()
        self._changed()
        return True

    def _on_mem(self, uc, _access: int, address: int, size: int, _value: int, p: _Piece) -> None:
        if address >= p.end or address + size <= p.pa or self.suppress_watch:
            return
        va = p.va + max(address, p.pa) - p.pa
        self.hit = StopReason("watchpoint", addr=va, detail=p.kind)
        self.vcpu.request_stop(self.hit)

    # -- common ------------------------------------------------------------------------------
    @property
    def empty(self) -> bool:
        return not self._bps and not self._wps

    def clear(self) -> None:
        """Remove every breakpoint and watchpoint (the debugger left)."""
        if self.empty:
            return
        for bp in self._bps.values():
            self.uc.hook_del(bp.handle)
        for wp in self._wps.values():
            for h in wp.handles:
                self.uc.hook_del(h)
        self._bps.clear()
        self._wps.clear()
        self._drop_intr_hook()
        self.skip_pc = -1
        self.suppress_watch = False
        self._changed()

    def take_hit(self) -> StopReason | None:
        hit, self.hit = self.hit, None
        return hit

    def _changed(self) -> None:
        # code translated before the change was generated without (or with) the hook calls
        self.uc.ctl_flush_tb()
