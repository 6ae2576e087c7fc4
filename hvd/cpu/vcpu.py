"""The vCPU: one Unicorn Cortex-A8 run in slices on its own OS thread.

Run loop (one iteration):

1. park if a pause or debug stop was requested (guest time frozen while parked);
2. fire due timers (:meth:`VirtualClock.run_due`), then take a pending IRQ/FIQ if CPSR allows;
3. if the guest is in WFI with nothing pending, sleep until the next timer deadline or a kick
   (in ``warp`` clock mode jump guest time to the deadline instead) — an idle guest costs no
   host CPU;
4. otherwise run Unicorn (``emu_start`` with no instruction count: counting costs ~20% and
   switching it on and off flushes the translation cache) until something stops it.

What stops a slice: a hook (exception entry needed, semihosting exit, breakpoint) calling
``emu_stop`` on this thread; a WFI (Unicorn returns from ``emu_start``); a failed TLB fill (the
monitor decided on a guest abort: ``UC_ERR_EXCEPTION``); or the alarm thread. Stopping from another
thread is done only by the alarm thread. It asks the C block hook to stop the run at the next
block boundary (:meth:`BlockHook.request_stop`): Unicorn's own ``emu_stop`` from another thread
is taken at the check after the next memory access, which may be inside an instruction (an
``LDRD r0, r1, [r0]`` stopped between its loads has already overwritten its base and runs again
from the wrong address). Only when no block starts within ``BLOCK_STOP_GRACE_S`` (or the hook is
not built) does the alarm fall back to ``uc.emu_stop()``, repeated every ``KICK_RETRY_S`` until
the vCPU acknowledges (``emu_stop`` can be lost when it races with the start of ``emu_start``);
``cpu.outside_stops`` counts those. Every other thread asks for a stop through :meth:`VCpu.kick`.

Exceptions the guest takes because of an instruction (SVC, undefined instruction, BKPT) are
entered from inside the Unicorn hook by writing CPSR/SPSR/LR/PC: Unicorn then leaves the current
translation block and continues at the vector without leaving ``emu_start``.
"""

from __future__ import annotations

import logging
import struct
import threading
import time
from dataclasses import dataclass
from typing import Callable

from unicorn import (
    UC_ARCH_ARM, UC_ERR_EXCEPTION, UC_ERR_FETCH_UNMAPPED, UC_ERR_READ_UNMAPPED,
    UC_ERR_WRITE_UNMAPPED, UC_ERR_FETCH_PROT, UC_ERR_READ_PROT, UC_ERR_WRITE_PROT, UC_HOOK_INSN_INVALID,
    UC_MODE_ARM, Uc, UcError,
)
from unicorn.arm_const import (
    UC_ARM_REG_CPSR, UC_ARM_REG_PC, UC_ARM_REG_R0, UC_ARM_REG_R1, UC_CPU_ARM_CORTEX_A8,
)

from hvd.clock import VirtualClock

from capstone import arm as csarm
from unicorn.arm_const import UC_ARM_REG_LR, UC_ARM_REG_SP

from .blockhook import BlockHook
from unicorn.unicorn_py3.unicorn import uclib as _uclib
from .svchook import SvcHook
from .access import decode_access, first_address_in_page
from .nextpc import next_pc
from .arm import CORTEX_A8_R3P2_MIDR, CP15_MIDR, CP15_SCR, CP15_SCTLR, CP15_VBAR, SCR_NS_FW_AW, CPSR_F, CPSR_I, CPSR_M, CPSR_T, MODE_USR, UC_PAGE_MASK, UC_PAGE_SIZE, CORE_REG_IDS, CoreRegs, Cp15
from .exceptions import AbortInfo, Exc, enter_exception, lr_for
from .semihosting import SVC_ARM, SVC_THUMB, SemihostExit, Semihosting

log = logging.getLogger("hvd.cpu")

UNTIL = 0xFFFFFFFE  # never reached: guests do not execute at 0xFFFFFFFE
KICK_RETRY_S = 0.001
#: how long the alarm waits for a stop at a block boundary (block hook) before falling back to a
#: stop at a device access or from outside; a guest always enters blocks, so only a thread the
#: host keeps off its CPU (or a long hook) ever waits this long
BLOCK_STOP_GRACE_S = 0.25
#: how long the alarm lets the vCPU stop itself at a device access before stopping it from outside
STOP_GRACE_S = 0.0002
#: the alarm stops the vCPU from outside only after it has used this much CPU time since it was
#: asked to stop at its next device access (see _ran_since)
ACCESS_GAP_NS = 20_000
#: while an interrupt is pending but masked, poll this often for the guest to unmask it
MASKED_POLL_NS = 200_000
#: after a WFI wake-up with the interrupt still masked, step at most this many instructions
WAKE_STEP_LIMIT = 64
#: a replayed device access whose step keeps being cut short is retried at most this often
REPLAY_STEP_TRIES = 100

EXCP_UDEF = 1
EXCP_SWI = 2
_uc_emu_start = _uclib.uc_emu_start
EXCP_PREFETCH_ABORT = 3
EXCP_DATA_ABORT = 4
EXCP_BKPT = 7
EXCP_SMC = 13


_CS_TO_UC = {getattr(csarm, f"ARM_REG_R{i}"): UC_ARM_REG_R0 + i for i in range(13)}
_CS_TO_UC.update({csarm.ARM_REG_SP: UC_ARM_REG_SP, csarm.ARM_REG_LR: UC_ARM_REG_LR,
                  csarm.ARM_REG_PC: UC_ARM_REG_PC})
_CS_TO_UC[csarm.ARM_REG_SB] = UC_ARM_REG_R0 + 9 if hasattr(csarm, "ARM_REG_SB") else UC_ARM_REG_R0 + 9
_CS_TO_UC[getattr(csarm, "ARM_REG_FP", csarm.ARM_REG_R11)] = UC_ARM_REG_R0 + 11
_CS_TO_UC[getattr(csarm, "ARM_REG_IP", csarm.ARM_REG_R12)] = UC_ARM_REG_R0 + 12
_CS_TO_UC[getattr(csarm, "ARM_REG_SL", csarm.ARM_REG_R10)] = UC_ARM_REG_R0 + 10


@dataclass
class StopReason:
    """Why the vCPU parked or stopped: pause, breakpoint, watchpoint, step, exit, poweroff, error."""

    kind: str
    addr: int = 0
    status: int = 0
    detail: str = ""


class VCpu:
    """Unicorn plus the run loop. ``mmu`` is the memory virtualization (shadow monitor or native)."""

    def __init__(self, clock: VirtualClock, *, semihosting: bool = False,
                 semihost_write: Callable[[bytes], None] | None = None,
                 semihost_read: Callable[[], int] | None = None) -> None:
        self.clock = clock
        self.uc = Uc(UC_ARCH_ARM, UC_MODE_ARM)
        self.uc.ctl_set_page_size(UC_PAGE_SIZE)  # before anything initializes the engine
        self.uc.ctl_set_cpu_model(UC_CPU_ARM_CORTEX_A8)
        self.cp15 = Cp15(self.uc)
        #: fast core-register access (see :class:`hvd.cpu.arm.CoreRegs`)
        self.regs = CoreRegs(self.uc)
        self.mmu = None  # set by attach_mmu
        self.semihosting: Semihosting | None = None
        if semihosting:
            self.semihosting = Semihosting(self, semihost_write or (lambda b: None),
                                           semihost_read, now_ns=clock.now_ns)
        # interrupt lines from the interrupt controller
        self.irq_level = False
        self.fiq_level = False
        # run-loop state
        self._thread: threading.Thread | None = None
        self._cv = threading.Condition()
        self._quit = False
        self._park_requested = False
        self._parked = False
        self._step_requested = 0
        self.wfi = False
        self.exit_status: int | None = None
        self.stop_reason: StopReason | None = None
        self._hook_stop: StopReason | None = None
        self.pending_abort: tuple[Exc, AbortInfo] | None = None
        # cross-thread stop
        self._emu_lock = threading.Lock()
        self._in_emu = False
        self._slice_seq = 0
        self._kick_pending = False
        self._slice_deadline: float | None = None  # host monotonic seconds
        self._alarm_cv = threading.Condition()
        self._alarm: threading.Thread | None = None
        # callbacks
        self.on_park: Callable[[StopReason], None] | None = None
        self.on_exit: Callable[[StopReason], None] | None = None
        self.on_error: Callable[[BaseException], None] | None = None
        self.on_reset: Callable[[], None] | None = None
        self.before_slice: list[Callable[[], None]] = []
        self._posted: list[Callable[[], None]] = []
        # statistics
        self.slices = 0
        self.exceptions_taken = 0
        self.irqs_taken = 0
        self.wfi_sleeps = 0
        self.kicks = 0
        self.idle_ns = 0
        self.strex_completed = 0
        self.replay_steps_retried = 0
        self.outside_stops = 0
        self._entered_in_hook = False
        #: the host time the alarm sleeps until (-inf while it is awake), and whether it waits
        #: for the current slice to end
        self._alarm_until = float("-inf")
        self._alarm_on_slice = False
        self._cpu_clock: int | None = None  # the vCPU thread's CPU-time clock (alarm fallback)
        #: exceptions: SVC entry in C, the rest in _on_intr
        self._svc = SvcHook(self.uc, self._on_intr_guarded, semihosting=semihosting)
        self._hooks = [self.uc.hook_add(UC_HOOK_INSN_INVALID, self._on_invalid)]
        #: instruction counting and the stop where a pending interrupt gets unmasked (C hook)
        self.blocks = BlockHook(self.uc, self._read_code)
        clock.on_new_deadline = self._on_new_deadline
        self._sctlr_reset = self.cp15.read(CP15_SCTLR)
        self.reset_cpu()

    # ------------------------------------------------------------------------------------------
    # reset / setup
    def reset_cpu(self) -> None:
        """Architectural reset state as far as the VM relies on it: SVC mode, IRQ/FIQ masked."""
        for i in range(13):
            self.regs.write(UC_ARM_REG_R0 + i, 0)
        self.regs.write(UC_ARM_REG_CPSR, 0x1D3)
        self.cp15.write(CP15_MIDR, CORTEX_A8_R3P2_MIDR)
        self.cp15.write(CP15_SCR, SCR_NS_FW_AW)
        self.cp15.write(CP15_SCTLR, self._sctlr_reset)
        self.cp15.write(CP15_VBAR, 0)
        self.uc.ctl_flush_tb()
        self.wfi = False
        self.pending_abort = None

    def attach_mmu(self, mmu) -> None:
        self.mmu = mmu
        self._bus = mmu.bus
        mmu.install(self)

    # ------------------------------------------------------------------------------------------
    # guest memory by virtual address (semihosting, debugger helpers)
    def read_virt(self, va: int, size: int) -> bytes | None:
        """Read guest memory by VA as the guest's tables say (a walk per 4 KiB)."""
        return self._read_pieces(va, size, self.mmu.translate, 0x1000)

    def read_code(self, va: int, size: int) -> bytes | None:
        """Read the instructions the CPU runs (or just ran) at ``va``: translated as the CPU
        translates them (:meth:`BaseMmu.translate_code`: under shadow paging the shadow's entry,
        with no walk), for the vCPU's own decoding. The debugger and semihosting use
        :meth:`read_virt`, which walks the guest's tables."""
        return self._read_pieces(va, size, self.mmu.translate_code, UC_PAGE_SIZE)

    def _read_pieces(self, va: int, size: int, translate: Callable[[int], int | None],
                     piece: int) -> bytes | None:
        out = bytearray()
        read_phys = self.mmu.bus.read_phys
        while size > 0:
            n = min(size, piece - (va & (piece - 1)))
            pa = translate(va)
            if pa is None:
                return None
            chunk = read_phys(pa, n)
            if chunk is None:
                return None
            out += chunk
            va += n
            size -= n
        return bytes(out)

    def _read_code(self, va: int, size: int) -> bytes | None:
        return self.read_code(va, size) if self.mmu is not None else None

    def write_virt(self, va: int, data: bytes) -> bool:
        i = 0
        while i < len(data):
            n = min(len(data) - i, 0x1000 - ((va + i) & 0xFFF))
            pa = self.mmu.translate(va + i, write=True)
            if pa is None or not self.mmu.bus.write_phys(pa, data[i:i + n]):
                return False
            i += n
        return True

    def exact_fault_address(self, page: int, access: int) -> int:
        """The exact faulting address of the access that failed in Unicorn page ``page``."""
        pc = self.regs.read(UC_ARM_REG_PC)
        if access == 18:  # instruction fetch: the instruction's own address
            return pc if (pc & UC_PAGE_MASK) == page else page
        acc = self.decode_current_access()
        if acc is None:
            return page
        return first_address_in_page(acc, page, UC_PAGE_SIZE)

    def decode_current_access(self):
        pc = self.regs.read(UC_ARM_REG_PC)
        thumb = bool(self.regs.read(UC_ARM_REG_CPSR) & CPSR_T)
        code = self.read_code(pc, 4)
        if code is None:
            return None
        return decode_access(code, pc, thumb, lambda r: self.regs.read(_CS_TO_UC[r]))

    # ------------------------------------------------------------------------------------------
    # interrupt lines (called on the vCPU thread by the INTC model, or via post())
    def set_irq_lines(self, irq: bool, fiq: bool) -> None:
        raised = (irq and not self.irq_level) or (fiq and not self.fiq_level)
        self.irq_level = irq
        self.fiq_level = fiq
        if raised and self._in_emu and threading.current_thread() is self._thread:
            # a device raised a line during an MMIO access: end the slice so it can be taken, at
            # the next block boundary (a stop here would cut a multi-access instruction in two)
            if not self.blocks.request_stop():
                self._stop_emu()

    # ------------------------------------------------------------------------------------------
    # Unicorn hooks (vCPU thread, inside emu_start)
    @property
    def exceptions(self) -> int:
        """Exceptions taken so far (in Python and by the C SVC hook)."""
        return self.exceptions_taken + self._svc.taken

    def hook_failed(self, exc: BaseException) -> None:
        """A raw (ctypes) callback of hvd's raised, a bug of hvd's: stop this VM, never the
        process. The slice reports ``uc._hook_exception`` as an internal error, as for the
        binding's hooks."""
        if self.uc._hook_exception is None:
            self.uc._hook_exception = exc
        self.uc.emu_stop()

    def _on_intr_guarded(self, intno: int) -> None:
        try:
            self._on_intr(self.uc, intno, None)
        except BaseException as exc:  # never into Unicorn
            self.hook_failed(exc)

    def _on_intr(self, uc: Uc, intno: int, _ud: object) -> None:
        try:
            if intno == EXCP_SWI:
                self._on_svc()
            elif intno == EXCP_BKPT:
                pc = self.regs.read(UC_ARM_REG_PC)
                self._take_in_hook(Exc.PABT, lr_for(Exc.PABT, pc, False), AbortInfo(0x2, pc))
            elif intno in (EXCP_DATA_ABORT, EXCP_PREFETCH_ABORT):
                self.mmu.native_abort(intno == EXCP_PREFETCH_ABORT)
            elif intno == EXCP_SMC:
                # No secure monitor on this GP device model: SMC is undefined here. Unicorn
                # reports it with PC already past the instruction, which is UND's return link.
                self._take_in_hook(Exc.UND, self.regs.read(UC_ARM_REG_PC))
            else:
                self._stop_from_hook(StopReason("error", detail=f"unhandled CPU exception {intno}"))
        except SemihostExit as e:
            self.exit_status = e.status
            self._stop_from_hook(StopReason("exit", status=e.status))

    def _on_svc(self) -> None:
        pc = self.regs.read(UC_ARM_REG_PC)  # already past the SVC
        cpsr = self.regs.read(UC_ARM_REG_CPSR)
        thumb = bool(cpsr & CPSR_T)
        insn_addr = pc - (2 if thumb else 4)
        if self.semihosting is not None and (cpsr & CPSR_M) != MODE_USR:
            raw = self.read_code(insn_addr, 2 if thumb else 4)
            if raw is not None:
                if thumb:
                    imm = struct.unpack("<H", raw)[0]
                    is_semi = (imm & 0xFF00) == 0xDF00 and (imm & 0xFF) == SVC_THUMB
                else:
                    w = struct.unpack("<I", raw)[0]
                    is_semi = (w & 0x0F000000) == 0x0F000000 and (w & 0xFFFFFF) == SVC_ARM
                if is_semi:
                    op = self.regs.read(UC_ARM_REG_R0)
                    arg = self.regs.read(UC_ARM_REG_R1)
                    r0 = self.semihosting.call(op, arg)
                    self.regs.write(UC_ARM_REG_R0, r0)
                    return
        self._take_in_hook(Exc.SVC, pc)

    def _on_invalid(self, uc: Uc, _ud: object) -> bool:
        pc = self.regs.read(UC_ARM_REG_PC)
        thumb = bool(self.regs.read(UC_ARM_REG_CPSR) & CPSR_T)
        if self._after_yield(pc, thumb):
            # Unicorn reports WFE and YIELD (EXCP_YIELD) through the same hook as undefined
            # instructions, with PC already past them. One core, no events to wait for: they
            # are hints, and execution simply goes on.
            return True
        self._take_in_hook(Exc.UND, lr_for(Exc.UND, pc, thumb))
        return True

    def _after_yield(self, pc: int, thumb: bool) -> bool:
        if thumb:
            raw = self.read_code(pc - 4, 4)
            if raw is None:
                return False
            hw1, hw2 = struct.unpack("<HH", raw)
            return hw2 in (0xBF10, 0xBF20) or (hw1 == 0xF3AF and hw2 in (0x8001, 0x8002))
        raw = self.read_code(pc - 4, 4)
        if raw is None:
            return False
        (w,) = struct.unpack("<I", raw)
        return (w & 0x0FFFFFFF) in (0x0320F001, 0x0320F002) and (w >> 28) != 0xF

    def _take(self, kind: Exc, lr: int, abort: AbortInfo | None = None) -> None:
        self.exceptions_taken += 1
        if not self._svc.take(kind, lr, abort):
            enter_exception(self.regs, self.cp15, kind, lr, abort)

    def _take_in_hook(self, kind: Exc, lr: int, abort: AbortInfo | None = None) -> None:
        """Exception entry from inside a Unicorn hook. Writing PC there makes Unicorn leave the
        block and go on at the vector, but it also leaves its 'skip PC sync on exit' flag set
        until the next emu_start: a later stop inside that run would then leave PC at the start
        of a block whose instructions already ran. So end the run here; the next slice starts
        clean at the vector (one emu_start restart, ~25 us, per such exception). The stop is
        exact (no memory access follows a write of PC in a hook), so the slice's end skips the
        checks for a stop inside an instruction and for a WFI."""
        self._take(kind, lr, abort)
        self._entered_in_hook = True
        self.uc.emu_stop()

    def _stop_emu(self) -> None:
        """Ask Unicorn to leave emu_start (see :class:`hvd.boards.bus.Bus` on replays)."""
        self._bus.stop_requested = True
        self.uc.emu_stop()

    def _stop_from_hook(self, reason: StopReason) -> None:
        self._hook_stop = reason
        self._stop_emu()

    def request_stop(self, reason: StopReason) -> None:
        """From a hook on the vCPU thread: end the slice and park with ``reason``."""
        self._hook_stop = reason
        self._stop_emu()

    # ------------------------------------------------------------------------------------------
    # thread control (any thread)
    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._thread_main, name="vcpu", daemon=True)
        self._alarm = threading.Thread(target=self._alarm_main, name="vcpu-alarm", daemon=True)
        self._alarm.start()
        self._thread.start()

    def kick(self) -> None:
        """Ask the run loop to look at its inputs soon (pause, posted work, new interrupt)."""
        self.kicks += 1
        with self._alarm_cv:
            self._kick_pending = True
            self._alarm_cv.notify()
        with self._cv:
            self._cv.notify_all()

    def post(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the vCPU thread between slices (device input from other threads)."""
        with self._cv:
            self._posted.append(fn)
        self.kick()

    def pause(self, timeout: float | None = 10.0) -> bool:
        """Park the vCPU; returns once it is parked (True) or the timeout passed."""
        if self._thread is None:
            self._park_requested = True
            self._parked = True
            return True
        with self._cv:
            self._park_requested = True
        self.kick()
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cv:
            while not self._parked and self._thread.is_alive():
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cv.wait(left)
        return True

    def resume(self) -> None:
        with self._cv:
            self._park_requested = False
            self.stop_reason = None
            self._cv.notify_all()

    @property
    def parked(self) -> bool:
        return self._parked

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def step(self, timeout: float = 10.0) -> StopReason | None:
        """Execute one instruction while parked (taking any exception it causes)."""
        with self._cv:
            if not self._parked:
                return None
            self._step_requested += 1
            self._cv.notify_all()
            deadline = time.monotonic() + timeout
            while self._step_requested and self._thread and self._thread.is_alive():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cv.wait(left)
        return self.stop_reason

    def shutdown(self, timeout: float = 5.0) -> None:
        """End the vCPU thread (and its alarm thread); safe from any thread, idempotent."""
        with self._cv:
            self._quit = True
            self._cv.notify_all()
        with self._alarm_cv:
            self._alarm_cv.notify_all()
        me = threading.current_thread()
        t = self._thread
        if t is not None and t is not me:
            deadline = time.monotonic() + timeout
            while t.is_alive() and time.monotonic() < deadline:
                with self._emu_lock:
                    if self._in_emu:
                        self._stop_emu()
                with self._cv:
                    self._cv.notify_all()
                t.join(0.01)
        a = self._alarm
        if a is not None and a is not me:
            a.join(timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the vCPU thread to end; True when it has."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # ------------------------------------------------------------------------------------------
    # the alarm thread: the only foreign caller of emu_stop
    def _on_new_deadline(self, deadline_ns: int) -> None:
        host = self.clock.host_deadline(deadline_ns)
        with self._alarm_cv:
            if self._slice_deadline is None or host < self._slice_deadline:
                self._slice_deadline = host
                if host < self._alarm_until:
                    self._alarm_cv.notify()

    def _alarm_main(self) -> None:
        cv = self._alarm_cv
        while not self._quit:
            with cv:
                now = time.monotonic()
                due = self._kick_pending or (self._slice_deadline is not None and now >= self._slice_deadline)
                if not due:
                    if self._slice_deadline is None:
                        self._alarm_until = float("inf")
                        cv.wait()
                    else:
                        self._alarm_until = self._slice_deadline
                        cv.wait(self._slice_deadline - now)
                    self._alarm_until = float("-inf")
                    continue
            # Due. With the block hook, ask the vCPU to stop at its next block boundary, where
            # every instruction is whole. Without it (or if no block starts for a long time),
            # ask it to stop itself at its next device access (the bus then knows exactly which
            # access will be replayed); only if it makes none within the grace period, stop it
            # from here: then no device access can be in flight.
            bus = self._bus
            at_block = False
            with self._emu_lock:
                if not self._in_emu:
                    seq = -1
                else:
                    seq = self._slice_seq
                    at_block = self.blocks.request_stop()
                    if not at_block:
                        bus.stop_wanted = True
            if at_block:
                if self._slice_ended(seq, BLOCK_STOP_GRACE_S):
                    seq = -1
                else:
                    with self._emu_lock:
                        if self._in_emu and self._slice_seq == seq:
                            bus.stop_wanted = True
                        else:
                            seq = -1
            if seq >= 0:
                cpu0 = self._vcpu_cpu_ns()
                with cv:
                    cv.wait(STOP_GRACE_S)
                with self._emu_lock:
                    if self._in_emu and self._slice_seq == seq and self._ran_since(cpu0):
                        self.outside_stops += 1
                        self._stop_emu()
            with cv:
                if self._kick_pending or (self._slice_deadline is not None and time.monotonic() >= self._slice_deadline):
                    cv.wait(KICK_RETRY_S)

    def _slice_ended(self, seq: int, timeout: float) -> bool:
        """Wait up to ``timeout`` for slice ``seq`` to end (the vCPU notifies the alarm)."""
        end = time.monotonic() + timeout
        cv = self._alarm_cv
        with cv:
            self._alarm_on_slice = True
            try:
                while not self._quit:
                    if not self._in_emu or self._slice_seq != seq:
                        return True
                    left = end - time.monotonic()
                    if left <= 0:
                        return False
                    cv.wait(left)
            finally:
                self._alarm_on_slice = False
        return True

    def _vcpu_cpu_ns(self) -> int | None:
        clk = self._cpu_clock
        if clk is None:
            return None
        try:
            return time.clock_gettime_ns(clk)
        except OSError:
            return None

    def _ran_since(self, cpu0: int | None) -> bool:
        """Whether the vCPU thread has used ``ACCESS_GAP_NS`` of CPU time since ``cpu0``, read
        just after the alarm set ``bus.stop_wanted``. A device access that starts after that
        stops the vCPU itself (and is recorded for replay). One that ended before it is
        followed by Unicorn's stop check, with no Python code in between: a stop from outside
        that lands in that gap is not recorded, and the access runs again (a character printed
        twice, a FIFO popped twice). A thread the OS takes off the CPU right after the callback
        stays in the gap for as long as it waits, longer than any grace period; once it has
        run on for ``ACCESS_GAP_NS`` it is past the check."""
        now = self._vcpu_cpu_ns()
        return cpu0 is None or now is None or now - cpu0 >= ACCESS_GAP_NS

    # ------------------------------------------------------------------------------------------
    # the run loop (vCPU thread)
    def _thread_main(self) -> None:
        try:
            self._cpu_clock = time.pthread_getcpuclockid(threading.get_ident())
        except (AttributeError, OSError):  # not on this platform: stop without the check
            self._cpu_clock = None
        try:
            self._loop()
        except BaseException as exc:  # noqa: BLE001 - a vCPU must not take the process down
            log.exception("vCPU failed")
            self.stop_reason = StopReason("error", detail=repr(exc))
            if self.on_error is not None:
                self.on_error(exc)
        finally:
            self._quit = True
            with self._alarm_cv:
                self._alarm_cv.notify_all()
            with self._cv:
                self._parked = True
                self._cv.notify_all()

    def _run_posted(self) -> None:
        if self._posted:
            with self._cv:
                work, self._posted = self._posted, []
            for fn in work:
                fn()

    def _park(self) -> None:
        self.clock.freeze()
        with self._cv:
            self._parked = True
            self._cv.notify_all()
            if self.on_park is not None and self.stop_reason is not None:
                cb = self.on_park
                reason = self.stop_reason
            else:
                cb = reason = None
        if cb is not None and reason is not None:
            cb(reason)
        with self._cv:
            while self._park_requested and not self._quit and not self._step_requested:
                self._cv.wait()
                self._run_posted_locked()
            stepping = self._step_requested
            self._parked = False
        self.clock.thaw()
        if stepping:
            self._do_step()

    def _run_posted_locked(self) -> None:
        if self._posted:
            work, self._posted = self._posted, []
            self._cv.release()
            try:
                for fn in work:
                    fn()
            finally:
                self._cv.acquire()

    def _do_step(self) -> None:
        self.clock.run_due()
        if not self._deliver_interrupts():
            self.wfi = False
            # A debugger step must stop after one instruction wherever it goes (a branch never
            # reaches an 'until' address), so it uses Unicorn's instruction count. Unicorn adds
            # its counting hook without retranslating, so drop the translations first.
            self.uc.ctl_flush_tb()
            self._run_slice(count=1)
        with self._cv:
            self._step_requested = 0
            if self.stop_reason is None:
                self.stop_reason = StopReason("step", addr=self.regs.read(UC_ARM_REG_PC))
            self._cv.notify_all()

    def _loop(self) -> None:
        clock = self.clock
        while not self._quit:
            self._run_posted()
            if self._park_requested:
                self._park()
                continue
            clock.run_due()
            self._deliver_interrupts()
            if self.wfi:
                if self.irq_level or self.fiq_level:
                    self.wfi = False
                    self._step_until_unmasked()
                    continue
                self._idle()
                continue
            for fn in self.before_slice:
                fn()
            if self._bus.code_written:
                # the host wrote guest RAM behind Unicorn's back (debugger, semihosting)
                self._bus.code_written = False
                self.uc.ctl_flush_tb()
            self._run_slice()

    def _step_until_unmasked(self, limit: int = WAKE_STEP_LIMIT) -> None:
        """WFI woke on an interrupt the guest still masks (the usual idle loop: mask, check,
        WFI, unmask). Unicorn offers no way to take an interrupt at the moment the guest unmasks
        it, so step the few instructions up to that point instead of running a whole slice, in
        which the short unmasked window would almost never meet a slice boundary."""
        for _ in range(limit):
            cpsr = self.regs.read(UC_ARM_REG_CPSR)
            if (self.fiq_level and not cpsr & CPSR_F) or (self.irq_level and not cpsr & CPSR_I):
                return
            if self._park_requested or self._quit or self.wfi:
                return
            self.step_current_instruction()
            if self.stop_reason is not None and self._park_requested:
                return

    def _idle(self) -> None:
        """WFI with nothing pending: sleep to the next deadline (or warp to it)."""
        self.wfi_sleeps += 1
        deadline = self.clock.next_deadline()
        if self.clock.mode == "warp" and deadline is not None and not self._posted:
            self.clock.warp_to(deadline)
            return
        t0 = time.monotonic_ns()
        with self._cv:
            if self._park_requested or self._quit or self._posted or self.irq_level or self.fiq_level:
                return
            if deadline is None:
                self._cv.wait(0.5)
            else:
                wait = self.clock.host_deadline(deadline) - time.monotonic()
                if wait > 0:
                    self._cv.wait(wait)
        self.idle_ns += time.monotonic_ns() - t0

    def _deliver_interrupts(self) -> bool:
        if not (self.irq_level or self.fiq_level):
            return False
        cpsr = self.regs.read(UC_ARM_REG_CPSR)
        if self.fiq_level and not cpsr & CPSR_F:
            kind = Exc.FIQ
        elif self.irq_level and not cpsr & CPSR_I:
            kind = Exc.IRQ
        else:
            return False
        self.wfi = False
        pc = self.regs.read(UC_ARM_REG_PC)
        self.irqs_taken += 1
        self._take(kind, pc + 4)
        return True

    def _slice_deadline_host(self) -> float | None:
        deadline = self.clock.next_deadline()
        host = None if deadline is None else self.clock.host_deadline(deadline)
        if (self.irq_level or self.fiq_level) and not self.blocks.available:
            # pending but masked and no block hook to watch for the unmask: come back soon to
            # see whether the guest unmasked it
            poll = time.monotonic() + MASKED_POLL_NS / 1e9
            host = poll if host is None else min(host, poll)
        return host

    def _complete_interrupted_strex(self) -> None:
        """A stop request that arrives during a store-exclusive leaves PC on it after its store
        was done (Unicorn checks for stops after every memory access): run again, it would fail
        and the guest would retry its whole LDREX/STREX sequence on the new value (a ticket lock
        taken twice, a counter incremented twice). When the memory already holds what the
        instruction stores, finish it instead: status register 0, PC past it."""
        pc = self.regs.read(UC_ARM_REG_PC)
        thumb = bool(self.regs.read(UC_ARM_REG_CPSR) & CPSR_T)
        raw = self.read_code(pc, 4)
        if raw is None:
            return
        rt2 = -1  # STREXD: the register holding the high word
        if thumb:
            hw1, hw2 = struct.unpack("<HH", raw)
            if (hw1 & 0xFFF0) == 0xE840:  # STREX T1
                rn, rt, rd, size = hw1 & 15, hw2 >> 12, (hw2 >> 8) & 15, 4
                addr_off = (hw2 & 0xFF) << 2
            elif (hw1 & 0xFFF0) == 0xE8C0 and (hw2 & 0xF0) in (0x40, 0x50):  # STREXB/H
                rn, rt, rd = hw1 & 15, hw2 >> 12, hw2 & 15
                size, addr_off = (1 if (hw2 & 0xF0) == 0x40 else 2), 0
            elif (hw1 & 0xFFF0) == 0xE8C0 and (hw2 & 0xF0) == 0x70:  # STREXD T1
                rn, rt, rt2, rd = hw1 & 15, hw2 >> 12, (hw2 >> 8) & 15, hw2 & 15
                size, addr_off = 8, 0
            else:
                return
            length = 4
        else:
            (w,) = struct.unpack("<I", raw)
            if (w >> 28) == 0xF or (w & 0x0F900FF0) != 0x01800F90:
                return
            op = (w >> 21) & 3  # 0 STREX, 1 STREXD, 2 STREXB, 3 STREXH
            rn, rd, rt = (w >> 16) & 15, (w >> 12) & 15, w & 15
            size, addr_off, length = (4, 0, 4) if op == 0 else ((1 if op == 2 else 2), 0, 4)
            if op == 1:  # STREXD: Rt and Rt+1, one 64-bit store (QEMU: a 64-bit cmpxchg)
                rt2, size = rt + 1, 8
        if 15 in (rn, rt, rd, rt2):
            return
        regs = self.regs
        addr = regs.read_r(rn) + addr_off
        value = regs.read_r(rt)
        if rt2 >= 0:
            value |= regs.read_r(rt2) << 32
        mem = self.read_virt(addr & 0xFFFFFFFF, size)
        if mem is None or int.from_bytes(mem, "little") != value & ((1 << (8 * size)) - 1):
            return
        regs.write(CORE_REG_IDS[rd], 0)
        regs.write(UC_ARM_REG_PC, (pc + length) | (1 if thumb else 0))
        self.strex_completed += 1

    def step_current_instruction(self, store: bool = False) -> None:
        """Execute exactly the instruction at PC (Unicorn's 'until' = the address executed next);
        used by the monitor to let a trapped write complete before it protects the page again,
        by the replay of a device access, and to find the moment a guest unmasks interrupts.
        ``store``: the instruction is known to be a store, which never branches, so the next
        address is PC + its size without decoding it."""
        uc = self.uc
        pc = self.regs.read(UC_ARM_REG_PC)
        cpsr = self.regs.read(UC_ARM_REG_CPSR)
        thumb = bool(cpsr & CPSR_T)
        raw = self.read_code(pc, 4)
        if raw is None and thumb:
            raw = self.read_code(pc, 2)  # a 16-bit instruction at the end of a mapped page
        size = 4
        if thumb:
            hw = int.from_bytes(raw[:2], "little") if raw else 0
            size = 4 if (hw >> 11) in (0x1D, 0x1E, 0x1F) else 2
        until = pc + size
        if raw is not None and not store:
            target = next_pc(raw, pc, thumb, cpsr, lambda r: self.regs.read(_CS_TO_UC[r]), self._read_word)
            if target is not None and target != pc:
                until = target
        # Unicorn checks 'until' only when it translates: drop the cached blocks holding PC and
        # the one starting at 'until' (a branch target), so the new translations stop there.
        uc.ctl_remove_cache(pc, pc + size + 4)
        if until != pc + size:
            uc.ctl_remove_cache(until, until + 4)
        self._run_slice(until=until)
        if until != pc + size:
            # a block that starts at 'until' was translated as "stop here"; Unicorn only drops
            # the one ending there, and this one would stop every later run at the target
            uc.ctl_remove_cache(until, until + 4)

    def _read_word(self, va: int) -> int | None:
        raw = self.read_virt(va, 4)
        return None if raw is None else int.from_bytes(raw, "little")

    def _run_slice(self, count: int = 0, until: int = UNTIL) -> None:
        uc = self.uc
        pc = self.regs.read(UC_ARM_REG_PC)
        cpsr = self.regs.read(UC_ARM_REG_CPSR)
        begin = pc | 1 if cpsr & CPSR_T else pc
        self._hook_stop = None
        self.pending_abort = None
        self._entered_in_hook = False
        with self._alarm_cv:
            d = self._slice_deadline = self._slice_deadline_host()
            if d is not None and d < self._alarm_until:
                # wake the alarm only when it sleeps past this deadline (a wake-up per slice
                # costs a thread switch)
                self._alarm_cv.notify()
        bus = self._bus
        with self._emu_lock:
            if self._kick_pending and count == 0 and until == UNTIL:
                self._kick_pending = False
                return
            bus.stop_requested = False
            bus.stop_wanted = False
            bus.replay = None
            self._slice_seq += 1
            self._in_emu = True
        err: UcError | None = None
        blocks = self.blocks
        if count == 0 and until == UNTIL and (self.irq_level or self.fiq_level):
            # a line is pending but masked (else it was taken before this slice): end the run
            # at the first block that starts with it unmasked
            blocks.watch_unmask((CPSR_I if self.irq_level else 0) | (CPSR_F if self.fiq_level else 0))
        try:
            # uc_emu_start itself, not the binding's emu_start, which raises UcError for every
            # guest abort: most slices of a Linux fork+exec loop end in one
            uc._hook_exception = None
            status = _uc_emu_start(uc._uch, begin, until, 0, count)
            if status:
                err = UcError(status)
            elif uc._hook_exception is not None:
                raise uc._hook_exception
        finally:
            with self._emu_lock:
                self._in_emu = False
            blocks.cancel_stop()
            with self._alarm_cv:
                kicked = self._kick_pending
                self._kick_pending = False
                self._slice_deadline = None
                if self._alarm_on_slice:
                    self._alarm_cv.notify_all()
            blocks.watch_unmask(0)
            if blocks.take_stopped():
                kicked = True  # stopped at a block boundary with an interrupt to take
        self.slices += 1
        if bus.stop_requested and err is None:
            self._complete_interrupted_strex()
        if bus.replay is not None and until == UNTIL:
            # the device access that saw the stop request will run again: answer it once from
            # the record, then go on
            replay, bus.replay = bus.replay, None
            if err is None:
                self._finish_replayed(replay)
        serviced = False
        if self.mmu.pending_service:
            self.mmu.service()
            serviced = True
        if err is not None:
            self._on_emu_error(err)
            return
        if self._hook_stop is not None:
            reason, self._hook_stop = self._hook_stop, None
            self._handle_stop(reason)
            return
        if count or kicked or serviced or until != UNTIL or self._entered_in_hook:
            return
        # Unicorn returned by itself: WFI (PC is past it), or an alarm whose kick was consumed.
        if self._previous_is_wfi():
            self.wfi = True

    def _finish_replayed(self, replay: tuple[int, int, bool, int]) -> None:
        """Run the instruction whose device access saw the stop request once more, answering
        that access from the record. The step is a slice of its own: the alarm can cut it short
        too (a deadline that was already due when it began), after the recorded access has
        been answered and with PC still on the instruction; then it is stepped again with the
        same record until PC has moved. A stop reason that the device access itself set
        (poweroff, reset) belongs to the interrupted slice and survives the step."""
        bus = self._bus
        pc = self.regs.read(UC_ARM_REG_PC)
        reason = self._hook_stop
        parked_for = self.stop_reason
        for _ in range(REPLAY_STEP_TRIES):
            bus.filter_replay = replay
            self.step_current_instruction()
            bus.filter_replay = None
            if self.regs.read(UC_ARM_REG_PC) != pc or self.stop_reason is not parked_for:
                break
            self.replay_steps_retried += 1
        if reason is not None and self._hook_stop is None:
            self._hook_stop = reason

    def _previous_is_wfi(self) -> bool:
        pc = self.regs.read(UC_ARM_REG_PC)
        if self.regs.read(UC_ARM_REG_CPSR) & CPSR_T:
            raw = self.read_code(pc - 4, 4)
            if raw is None:
                return False
            hw1, hw2 = struct.unpack("<HH", raw)
            return hw2 == 0xBF30 or (hw1 == 0xF3AF and hw2 == 0x8003)
        raw = self.read_code(pc - 4, 4)
        if raw is None:
            return False
        (w,) = struct.unpack("<I", raw)
        return (w & 0x0FFFFFFF) == 0x0320F003

    def _on_emu_error(self, err: UcError) -> None:
        uc = self.uc
        hook_exc = uc._hook_exception
        if hook_exc is not None:
            # a hook of ours failed: that is hvd's bug, never the guest's; stop this VM only
            uc._hook_exception = None
            log.error("internal error in a CPU hook", exc_info=hook_exc)
            self._handle_stop(StopReason("error", detail=f"internal error: {hook_exc!r}"))
            return
        if err.errno == UC_ERR_EXCEPTION and self.pending_abort is not None:
            kind, info = self.pending_abort
            self.pending_abort = None
            pc = self.regs.read(UC_ARM_REG_PC)
            thumb = bool(self.regs.read(UC_ARM_REG_CPSR) & CPSR_T)
            self._take(kind, lr_for(kind, pc, thumb), info)
            return
        if self._hook_stop is not None:
            reason, self._hook_stop = self._hook_stop, None
            self._handle_stop(reason)
            return
        if err.errno in (UC_ERR_READ_UNMAPPED, UC_ERR_WRITE_UNMAPPED, UC_ERR_FETCH_UNMAPPED,
                         UC_ERR_READ_PROT, UC_ERR_WRITE_PROT, UC_ERR_FETCH_PROT, UC_ERR_EXCEPTION):
            if self.mmu is not None and self.mmu.unmapped_abort(err.errno):
                return
        hook_exc = getattr(uc, "_hook_exception", None)
        detail = f"{err} at pc=0x{self.regs.read(UC_ARM_REG_PC):08x}"
        if hook_exc is not None:
            detail += f" ({hook_exc!r})"
        self._handle_stop(StopReason("error", detail=detail))

    def _handle_stop(self, reason: StopReason) -> None:
        if reason.kind == "reset" and self.on_reset is not None:
            self.on_reset()
            return
        self.stop_reason = reason
        if reason.kind in ("exit", "poweroff", "error"):
            if reason.kind == "error":
                log.error("vCPU stopped: %s", reason.detail)
            with self._cv:
                self._park_requested = True
            if self.on_exit is not None:
                self.on_exit(reason)
        else:
            with self._cv:
                self._park_requested = True
