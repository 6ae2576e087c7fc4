""":class:`VmTarget`: the GDB :class:`~.target.Target` over an hvd VM.

- Registers come from Unicorn (the current mode's view: the banked registers of the mode in
  CPSR). Writing PC keeps the Thumb state (Unicorn takes it from bit 0 of the value written);
  writing CPSR switches mode and state like the hardware's MSR would, banks included.
- Memory at guest virtual addresses is translated with the monitor's walker through
  ``vm.translate`` (the guest's own tables, as a privileged access; the shadow and Unicorn's TLB
  are not touched), page by page, and read or written physically through the board's bus (RAM and
  device registers). In physical mode (``monitor phys on``) the address is used as is. A write
  flushes Unicorn's translated code: gdb may have written instructions.
- Execution: breakpoints and watchpoints are :class:`hvd.cpu.debug.DebugHooks`; continuing
  resumes the VM, and the stop is learnt from the VM's events (``STOP``: breakpoint, watchpoint,
  pause; ``SHUTDOWN``: the guest exited or powered off). A single step is the vCPU's own
  ``step()``. Ctrl-C pauses the VM.

State names of the VM are the QMP ones (``prelaunch``, ``running``, ``paused``, ``debug``,
``shutdown``, ``internal-error``).
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable

from unicorn.arm_const import (
    UC_ARM_REG_CPSR, UC_ARM_REG_D0, UC_ARM_REG_FPEXC, UC_ARM_REG_FPSCR, UC_ARM_REG_LR,
    UC_ARM_REG_PC, UC_ARM_REG_R0, UC_ARM_REG_R8, UC_ARM_REG_SP, UC_ARM_REG_SPSR,
)

from hvd.cpu.arm import (
    CP15_CONTEXTIDR, CP15_DACR, CP15_DFAR, CP15_DFSR, CP15_IFAR, CP15_IFSR, CP15_MIDR,
    CP15_SCTLR, CP15_TTBCR, CP15_TTBR0, CP15_TTBR1, CP15_VBAR, CPSR_M, CPSR_T,
)
from hvd.cpu.debug import DebugHooks
from hvd.cpu.vcpu import StopReason

from . import tdesc
from .target import SIGINT, SIGSEGV, SIGTRAP, BpType, StopCallback, StopEvent

log = logging.getLogger("hvd.gdbstub")

SIGKILL = 9
_CP15 = (("MIDR", CP15_MIDR), ("SCTLR", CP15_SCTLR), ("CPACR", (1, 0, 0, 2)),
         ("TTBR0", CP15_TTBR0), ("TTBR1", CP15_TTBR1), ("TTBCR", CP15_TTBCR), ("DACR", CP15_DACR),
         ("CONTEXTIDR", CP15_CONTEXTIDR), ("DFSR", CP15_DFSR), ("DFAR", CP15_DFAR),
         ("IFSR", CP15_IFSR), ("IFAR", CP15_IFAR), ("VBAR", CP15_VBAR))
_BANKED_MODES = (("usr", 0x1F), ("fiq", 0x11), ("irq", 0x12), ("svc", 0x13), ("abt", 0x17),
                 ("und", 0x1B))
_WATCH = {BpType.WRITE: "watch", BpType.READ: "rwatch", BpType.ACCESS: "awatch"}
#: how long Ctrl-C waits for the vCPU to park
PAUSE_TIMEOUT_S = 10.0


def _reg_id(regnum: int) -> int | None:
    if 0 <= regnum <= 12:
        return UC_ARM_REG_R0 + regnum
    if regnum == 13:
        return UC_ARM_REG_SP
    if regnum == 14:
        return UC_ARM_REG_LR
    if regnum == 15:
        return UC_ARM_REG_PC
    if regnum == tdesc.CPSR_REGNUM:
        return UC_ARM_REG_CPSR
    if tdesc.D0_REGNUM <= regnum < tdesc.D0_REGNUM + 32:
        return UC_ARM_REG_D0 + (regnum - tdesc.D0_REGNUM)
    if regnum == tdesc.FPSCR_REGNUM:
        return UC_ARM_REG_FPSCR
    return None


def stop_event_for(reason: StopReason | None) -> StopEvent:
    """The gdb view of a vCPU stop reason."""
    if reason is None:
        return StopEvent("signal", SIGTRAP)
    if reason.kind == "breakpoint":
        return StopEvent(reason.detail if reason.detail in ("swbreak", "hwbreak") else "swbreak")
    if reason.kind == "watchpoint":
        return StopEvent(reason.detail or "watch", addr=reason.addr)
    if reason.kind == "exit":
        return StopEvent("exited", status=reason.status)
    if reason.kind == "poweroff":
        return StopEvent("exited", status=0)
    if reason.kind == "error":
        return StopEvent("signal", SIGSEGV, message=f"hvd: vCPU stopped: {reason.detail}")
    return StopEvent("signal", SIGTRAP)


class VmTarget:
    """A VM as gdb's target. See the module docstring."""

    def __init__(self, vm: Any) -> None:
        self.vm = vm
        self.vcpu = vm.vcpu
        self.uc = vm.vcpu.uc
        self.bus = vm.board.bus
        self.debug = DebugHooks(vm.vcpu)
        self.debug.translate = lambda va: vm.translate(va, False)
        self._lock = threading.Lock()
        self._on_stop: StopCallback | None = None
        self._last = StopEvent("signal", SIGTRAP)
        self._stop_pc = -1
        vm.add_event_listener(self._on_vm_event)

    def close(self) -> None:
        self.vm.remove_event_listener(self._on_vm_event)
        with self._lock:
            self._on_stop = None
        self._on_vcpu(self.debug.clear)

    # -- run state ---------------------------------------------------------------------------
    def hold(self) -> None:
        """Start the VM's vCPU parked (``--gdb-wait``): no guest instruction runs until gdb says."""
        vm = self.vm
        if vm.status != "prelaunch":
            return
        self.vcpu.pause()       # before the thread exists: it will park at once
        vm.start()
        vm.pause()

    def _finished(self) -> StopEvent | None:
        vm = self.vm
        if vm.status == "shutdown":
            return StopEvent("exited", status=(vm.exit_status or 0) & 0xFF) \
                if vm.exit_status is not None else StopEvent("terminated", SIGKILL)
        if vm.status == "internal-error":
            return StopEvent("signal", SIGSEGV, message=f"hvd: internal error: {vm.error}")
        return None

    def attach(self) -> StopEvent:
        done = self._finished()
        if done is not None:
            return done
        status = self.vm.status
        if status == "prelaunch":
            self.hold()
        elif status == "running":
            self.vm.pause()
        self._last = StopEvent("signal", SIGTRAP)
        return self._last

    def _finish(self, ev: StopEvent) -> None:
        with self._lock:
            cb, self._on_stop = self._on_stop, None
            if cb is None:
                return
            self._last = ev
            self._stop_pc = self.uc.reg_read(UC_ARM_REG_PC)   # the vCPU is parked here
        cb(ev)

    def _on_vm_event(self, event: str, data: dict) -> None:
        """VM events (vCPU thread or the thread that paused the VM)."""
        if self._on_stop is None:
            return
        if event == "SHUTDOWN":
            if data.get("guest"):
                self._finish(StopEvent("exited", status=int(data.get("status") or 0) & 0xFF))
            else:
                self._finish(StopEvent("terminated", SIGKILL))
        elif event == "STOP":
            reason = data.get("reason")
            if reason is None:                          # pause (Ctrl-C, QMP stop)
                self._finish(StopEvent("signal", SIGINT))
            elif reason == "internal-error":
                self._finish(StopEvent("signal", SIGSEGV,
                                       message=f"hvd: internal error: {data.get('detail')}"))
            elif reason in ("breakpoint", "watchpoint"):
                hit = self.debug.take_hit()
                if hit is not None:
                    self._finish(stop_event_for(hit))
            # "step": single steps are reported by resume() itself

    def resume(self, *, step: bool, on_stop: StopCallback) -> None:
        done = self._finished()
        if done is not None:
            on_stop(done)
            return
        with self._lock:
            self._on_stop = on_stop
        pc = self.uc.reg_read(UC_ARM_REG_PC)
        last = self._last
        # a stop at a watchpoint leaves PC at the accessing instruction: step over it quietly
        # (gdb does that itself, with its watchpoints removed; other clients may not)
        over_watch = last.kind in ("watch", "rwatch", "awatch") and pc == self._stop_pc
        if step or over_watch:
            ev = self._step(pc, over_watch)
            if step or ev is not None:
                self._finish(ev or StopEvent("signal", SIGTRAP))
                return
            pc = self.uc.reg_read(UC_ARM_REG_PC)
        self.debug.skip_pc = pc
        self.debug.hit = None
        self.vm.resume()

    def _step(self, pc: int, over_watch: bool) -> StopEvent | None:
        """One instruction; the stop it caused (None: an ordinary step)."""
        debug = self.debug
        debug.skip_pc = pc
        debug.suppress_watch = over_watch
        debug.hit = None
        # Unicorn 2.1.4 installs its instruction-count hook without dropping code it translated
        # while running uncounted: a step (count=1) inside a hot loop would run on forever.
        # Steps start from freshly translated code (cheap at the pace of a debugger).
        self.uc.ctl_flush_tb()
        try:
            reason = self.vcpu.step()
        finally:
            debug.skip_pc = -1
            debug.suppress_watch = False
        hit = debug.take_hit()
        if hit is not None:
            return stop_event_for(hit)
        done = self._finished()
        if done is not None:
            return done
        if reason is not None and reason.kind in ("exit", "poweroff", "error"):
            return stop_event_for(reason)
        return None

    def interrupt(self) -> None:
        if self.vm.status != "running":
            # already stopped (a stop report is on its way) or never started
            if self.vm.status in ("paused", "debug", "prelaunch"):
                self._finish(StopEvent("signal", SIGINT))
            return
        if not self.vm.pause():
            log.warning("gdb: the vCPU did not stop within %.0f s", PAUSE_TIMEOUT_S)

    def detach(self) -> None:
        with self._lock:
            self._on_stop = None
        self._on_vcpu(self.debug.clear)
        if self.vm.status in ("paused", "debug"):
            self.vm.resume()

    def disconnect(self) -> None:
        with self._lock:
            waiting, self._on_stop = self._on_stop is not None, None
        self._on_vcpu(self.debug.clear)
        if waiting and self.vm.status == "debug":
            # it hit a breakpoint the vanished debugger never heard of: it was running for
            # all anyone knows, so it runs on
            self.debug.hit = None
            self.vm.resume()

    def kill(self) -> None:
        with self._lock:
            self._on_stop = None
        self._on_vcpu(self.debug.clear)
        self.vm.shutdown("host-ui")

    def _on_vcpu(self, fn: Callable[[], None], timeout: float = 5.0) -> None:
        """Run ``fn`` where Unicorn is not executing: here if the vCPU is parked or gone,
        otherwise on the vCPU thread between two slices."""
        vcpu = self.vcpu
        if vcpu.parked or not vcpu.running:
            fn()
            return
        done = threading.Event()

        def run() -> None:
            try:
                fn()
            finally:
                done.set()

        vcpu.post(run)
        if not done.wait(timeout) and not vcpu.running:
            fn()

    # -- registers ---------------------------------------------------------------------------
    def read_register(self, regnum: int) -> int | None:
        if tdesc.Q0_REGNUM <= regnum < tdesc.Q0_REGNUM + 16:
            d = UC_ARM_REG_D0 + 2 * (regnum - tdesc.Q0_REGNUM)
            return self.uc.reg_read(d) | (self.uc.reg_read(d + 1) << 64)
        rid = _reg_id(regnum)
        if rid is None:
            return None
        return self.uc.reg_read(rid)

    def write_register(self, regnum: int, value: int) -> bool:
        if tdesc.Q0_REGNUM <= regnum < tdesc.Q0_REGNUM + 16:
            d = UC_ARM_REG_D0 + 2 * (regnum - tdesc.Q0_REGNUM)
            self.uc.reg_write(d, value & 0xFFFFFFFFFFFFFFFF)
            self.uc.reg_write(d + 1, (value >> 64) & 0xFFFFFFFFFFFFFFFF)
            return True
        rid = _reg_id(regnum)
        if rid is None:
            return False
        uc = self.uc
        if rid == UC_ARM_REG_PC:
            # Unicorn takes the Thumb state from bit 0 of a PC write: keep the current one
            thumb = uc.reg_read(UC_ARM_REG_CPSR) & CPSR_T
            uc.reg_write(rid, (value & ~1) | (1 if thumb else 0))
        elif rid == UC_ARM_REG_CPSR:
            pc = uc.reg_read(UC_ARM_REG_PC)
            uc.reg_write(rid, value & 0xFFFFFFFF)
            uc.reg_write(UC_ARM_REG_PC, pc | (1 if value & CPSR_T else 0))
        else:
            uc.reg_write(rid, value)
        return True

    # -- memory ------------------------------------------------------------------------------
    def _pa(self, addr: int, phys: bool) -> int | None:
        if phys:
            return addr
        return self.vm.translate(addr, False)

    def read_memory(self, addr: int, length: int, *, phys: bool = False) -> bytes:
        out = bytearray()
        while length > 0 and addr <= 0xFFFFFFFF:
            n = min(length, 0x400 - (addr & 0x3FF))   # 1 KiB pieces (within any page)
            pa = self._pa(addr, phys)
            if pa is None:
                break
            data = self.bus.read_phys(pa, n)
            if data is None:
                break
            out += data
            addr += n
            length -= n
        return bytes(out)

    def write_memory(self, addr: int, data: bytes, *, phys: bool = False) -> bool:
        # translate everything first: a write either happens completely or not at all
        pieces = []
        i = 0
        while i < len(data):
            a = addr + i
            n = min(len(data) - i, 0x400 - (a & 0x3FF))
            pa = self._pa(a, phys)
            if pa is None:
                return False
            pieces.append((pa, data[i:i + n]))
            i += n
        ok = True
        for pa, chunk in pieces:
            ok = self.bus.write_phys(pa, chunk) and ok
            note = getattr(self.vm.mmu, "debugger_wrote", None)
            if note is not None:
                note(pa, len(chunk))
        # gdb may have written instructions: drop Unicorn's translations
        self.uc.ctl_flush_tb()
        return ok

    # -- breakpoints -------------------------------------------------------------------------
    def insert_breakpoint(self, kind: BpType, addr: int, length: int, *,
                          phys: bool = False) -> bool:
        ok = [False]

        def do() -> None:
            if kind in (BpType.SOFTWARE, BpType.HARDWARE):
                ok[0] = self.debug.add_breakpoint(addr, hardware=kind == BpType.HARDWARE)
            else:
                ok[0] = self.debug.add_watchpoint(addr, length, _WATCH[kind], phys=phys)

        self._on_vcpu(do)
        return ok[0]

    def remove_breakpoint(self, kind: BpType, addr: int, length: int) -> bool:
        ok = [False]

        def do() -> None:
            if kind in (BpType.SOFTWARE, BpType.HARDWARE):
                ok[0] = self.debug.remove_breakpoint(addr, hardware=kind == BpType.HARDWARE)
            else:
                ok[0] = self.debug.remove_watchpoint(addr, length, _WATCH[kind])

        self._on_vcpu(do)
        return ok[0]

    # -- monitor -----------------------------------------------------------------------------
    def banked_registers(self) -> dict[str, int]:
        uc = self.uc
        cpsr = uc.reg_read(UC_ARM_REG_CPSR)
        pc = uc.reg_read(UC_ARM_REG_PC)
        out: dict[str, int] = {"cpsr": cpsr}
        try:
            for name, mode in _BANKED_MODES:
                uc.reg_write(UC_ARM_REG_CPSR, (cpsr & ~CPSR_M & ~CPSR_T) | mode)
                if name == "fiq":
                    for i in range(8, 13):
                        out[f"r{i}_fiq"] = uc.reg_read(UC_ARM_REG_R8 + i - 8)
                out[f"r13_{name}"] = uc.reg_read(UC_ARM_REG_SP)
                out[f"r14_{name}"] = uc.reg_read(UC_ARM_REG_LR)
                if name != "usr":
                    out[f"spsr_{name}"] = uc.reg_read(UC_ARM_REG_SPSR)
        finally:
            uc.reg_write(UC_ARM_REG_CPSR, cpsr)
            uc.reg_write(UC_ARM_REG_PC, pc | (1 if cpsr & CPSR_T else 0))
        return out

    def cp15_registers(self) -> dict[str, int]:
        cp = self.vcpu.cp15
        out = {name: cp.read(reg) for name, reg in _CP15}
        out["FPEXC"] = self.uc.reg_read(UC_ARM_REG_FPEXC)
        return out

    def shadow_stats(self) -> dict[str, object]:
        mmu = self.vm.mmu
        out: dict[str, object] = {"mmu": getattr(mmu, "mode", "?")}
        if hasattr(mmu, "sync"):
            out["sync"] = mmu.sync
        try:
            out.update(mmu.stats_dict())
        except Exception as exc:  # noqa: BLE001
            out["error"] = repr(exc)
        return out

    def info_tlb(self) -> str:
        try:
            return self.vm.mmu.info_tlb()
        except Exception as exc:  # noqa: BLE001 - a monitor failure must not end the session
            log.debug("mmu.info_tlb failed: %r", exc)
            return f"info tlb failed: {exc!r}\n"
