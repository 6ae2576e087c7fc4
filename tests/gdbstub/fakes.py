"""An in-memory Target for the protocol tests: registers, two pages of memory, and a "CPU" thread
that advances the PC by 4 every tick through a small loop, stopping at breakpoints, at a
watchpoint (on a configured PC that "stores"), on interrupt, or at an exit address."""

from __future__ import annotations

import threading
import time

from hvd.gdbstub import tdesc
from hvd.gdbstub.target import SIGINT, SIGTRAP, BpType, StopCallback, StopEvent

LOOP_START = 0x1000
LOOP_END = 0x1040     # the PC wraps from here to LOOP_START
MEM_BASE = 0x1000
MEM_SIZE = 0x2000     # 0x1000-0x2fff readable; 0x3000 and up faults
STORE_PC = 0x1020     # the "instruction" here writes to WATCH_ADDR
WATCH_ADDR = 0x2000


class FakeTarget:
    def __init__(self, tick_s: float = 0.0005) -> None:
        self.regs = {r.regnum: 0 for r in tdesc.REGISTERS}
        self.regs[15] = LOOP_START
        self.regs[tdesc.CPSR_REGNUM] = 0x1D3
        self.mem = bytearray(MEM_SIZE)
        self.tick_s = tick_s
        self.breakpoints: set[tuple[BpType, int, int]] = set()
        self.exit_pc: int | None = None
        self.exit_status = 0
        self.running = False
        self.attached = 0
        self.detached = 0
        self.disconnects = 0
        self.killed = False
        self.resumes: list[bool] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._on_stop: StopCallback | None = None

    # -- Target ------------------------------------------------------------------------
    def attach(self) -> StopEvent:
        self.attached += 1
        if self.running:
            self._halt()
        return StopEvent("signal", SIGTRAP)

    def read_register(self, regnum: int) -> int | None:
        return self.regs.get(regnum)

    def write_register(self, regnum: int, value: int) -> bool:
        if regnum not in self.regs:
            return False
        self.regs[regnum] = value
        return True

    def read_memory(self, addr: int, length: int, *, phys: bool = False) -> bytes:
        start = addr - MEM_BASE
        if start < 0 or start >= MEM_SIZE:
            return b""
        return bytes(self.mem[start:min(start + length, MEM_SIZE)])

    def write_memory(self, addr: int, data: bytes, *, phys: bool = False) -> bool:
        start = addr - MEM_BASE
        if start < 0 or start + len(data) > MEM_SIZE:
            return False
        self.mem[start:start + len(data)] = data
        return True

    def resume(self, *, step: bool, on_stop: StopCallback) -> None:
        self.resumes.append(step)
        if step:
            self.regs[15] = self._next(self.regs[15])
            on_stop(StopEvent("signal", SIGTRAP))
            return
        with self._lock:
            self._on_stop = on_stop
            self.running = True
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()

    def interrupt(self) -> None:
        self._halt(StopEvent("signal", SIGINT))

    def insert_breakpoint(self, kind: BpType, addr: int, length: int, *,
                          phys: bool = False) -> bool:
        self.breakpoints.add((kind, addr, length))
        return True

    def remove_breakpoint(self, kind: BpType, addr: int, length: int) -> bool:
        self.breakpoints.discard((kind, addr, length))
        return True

    def detach(self) -> None:
        self.detached += 1
        self.breakpoints.clear()

    def disconnect(self) -> None:
        self.disconnects += 1
        with self._lock:
            self._on_stop = None
        self.breakpoints.clear()

    def kill(self) -> None:
        self.killed = True
        self._halt()

    def banked_registers(self) -> dict[str, int]:
        return {"r13_svc": 0x80001000, "r14_svc": 0x80000010, "spsr_svc": 0x1D3,
                "r13_irq": 0x80002000, "r8_fiq": 8}

    def cp15_registers(self) -> dict[str, int]:
        return {"SCTLR": 0x00C50078, "TTBR0": 0x80004000, "DACR": 0x55555555}

    def shadow_stats(self) -> dict[str, object]:
        return {"fills": 12, "hidden_faults": 3, "tlb_ops": 7}

    def info_tlb(self) -> str:
        return "c0000000-c00fffff -> 080000000 section rwx/--- G dom0\n"

    # -- the "CPU" ----------------------------------------------------------------------
    @staticmethod
    def _next(pc: int) -> int:
        pc += 4
        return LOOP_START if pc >= LOOP_END else pc

    def _hit(self, pc: int) -> StopEvent | None:
        for kind, addr, length in self.breakpoints:
            if kind in (BpType.SOFTWARE, BpType.HARDWARE) and addr == pc:
                return StopEvent("swbreak" if kind == BpType.SOFTWARE else "hwbreak", SIGTRAP)
            if kind == BpType.WRITE and pc == STORE_PC and addr <= WATCH_ADDR < addr + length:
                return StopEvent("watch", SIGTRAP, addr=WATCH_ADDR)
        if self.exit_pc is not None and pc == self.exit_pc:
            return StopEvent("exited", status=self.exit_status)
        return None

    def _run(self) -> None:
        first = True
        while not self._stop.is_set():
            pc = self.regs[15]
            if not first:
                ev = self._hit(pc)
                if ev is not None:
                    self._halt(ev)
                    return
            first = False
            self.regs[15] = self._next(pc)
            time.sleep(self.tick_s)

    def _halt(self, ev: StopEvent | None = None) -> None:
        with self._lock:
            was = self.running
            self.running = False
            self._stop.set()
            cb, self._on_stop = self._on_stop, None
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        if was and cb is not None and ev is not None:
            cb(ev)
