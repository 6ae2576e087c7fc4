"""Memory virtualization as the vCPU sees it: the shadow-paging monitor, or Unicorn's own MMU.

:class:`ShadowMmu` puts Unicorn in ``UC_TLB_VIRTUAL`` mode: every miss in Unicorn's TLB calls
:meth:`ShadowMmu._fill`, the "hardware walk of the shadow tables". :class:`NativeMmu` leaves
Unicorn in ``UC_TLB_CPU`` mode (QEMU's walker, no shadow) and only reconstructs fault details.
Both translate guest virtual addresses for the debugger and semihosting with the monitor's
walker, without touching the shadow or Unicorn's TLB.
"""

from __future__ import annotations

import logging

from unicorn import UC_HOOK_TLB_FILL, UC_PROT_EXEC, UC_PROT_READ, UC_TLB_CPU, UC_TLB_VIRTUAL

from hvd.boards.bus import Bus
from hvd.cpu.arm import CPSR_M, MODE_USR, SCTLR_M
from hvd.cpu.exceptions import AbortInfo, Exc

from .state import StateReader

log = logging.getLogger("hvd.monitor")

UNTIL_PAGE = 0xFFFF_FC00
FSR_SYNC_EXTERNAL = 0x8
DFSR_WNR = 1 << 11

# Unicorn's access codes in the fill hook
UC_MEM_READ = 16
UC_MEM_WRITE = 17
UC_MEM_FETCH = 18


class BaseMmu:
    mode = "base"

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.vcpu = None
        self.state: StateReader | None = None

    def install(self, vcpu) -> None:
        self.vcpu = vcpu
        self.state = StateReader(vcpu.uc)
        vcpu.uc.mem_map(UNTIL_PAGE, 0x400, UC_PROT_READ | UC_PROT_EXEC)

    # translation without side effects (debugger, semihosting)
    def translate(self, va: int, write: bool = False) -> int | None:
        cpsr, sctlr, *_ = self.state.read()
        if not sctlr & SCTLR_M:
            return va if self.bus.region_kind(va) is not None else None
        return self._walk_pa(va, write)

    def _walk_pa(self, va: int, write: bool) -> int | None:  # replaced once the walker lands
        return None

    def unmapped_abort(self, errno: int) -> bool:
        return False

    def reset(self) -> None:
        """Forget everything derived from guest state (board reset)."""

    def stats_dict(self) -> dict[str, int]:
        return {}

    def native_abort(self, prefetch: bool) -> None:
        raise NotImplementedError


class ShadowMmu(BaseMmu):
    mode = "shadow"

    def __init__(self, bus: Bus, sync: str = "tlb") -> None:
        super().__init__(bus)
        self.sync = sync
        self.fills = 0

    def install(self, vcpu) -> None:
        super().install(vcpu)
        vcpu.uc.ctl_set_tlb_mode(UC_TLB_VIRTUAL)
        self._hook = vcpu.uc.hook_add(UC_HOOK_TLB_FILL, self._fill)

    def _fill(self, uc, vaddr: int, access: int, entry, _ud) -> bool:
        self.fills += 1
        cpsr, sctlr, ttbr0, ttbr1, ttbcr, dacr, ctx = self.state.read()
        if not sctlr & SCTLR_M:
            kind = self.bus.region_kind(vaddr)
            if kind is None:
                if vaddr == UNTIL_PAGE and access == UC_MEM_FETCH:
                    entry.paddr = UNTIL_PAGE
                    entry.perms = UC_PROT_EXEC
                    return True
                self._abort_external(vaddr, access)
                return False
            entry.paddr = vaddr
            entry.perms = 5 if kind == "rom" else 7
            return True
        raise NotImplementedError("guest MMU on")

    def _abort_external(self, vaddr: int, access: int) -> None:
        far = self.vcpu.exact_fault_address(vaddr, access)
        if access == UC_MEM_FETCH:
            self.vcpu.pending_abort = (Exc.PABT, AbortInfo(FSR_SYNC_EXTERNAL, far))
        else:
            fsr = FSR_SYNC_EXTERNAL | (DFSR_WNR if access == UC_MEM_WRITE else 0)
            self.vcpu.pending_abort = (Exc.DABT, AbortInfo(fsr, far))


class NativeMmu(BaseMmu):
    mode = "native"

    def install(self, vcpu) -> None:
        super().install(vcpu)
        vcpu.uc.ctl_set_tlb_mode(UC_TLB_CPU)
