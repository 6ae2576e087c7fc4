"""One VM: its board, vCPU, monitor and backends, and its lifecycle state machine.

States (QMP ``RunState`` names): ``prelaunch`` (built, not started) -> ``running`` <-> ``paused``
(``stop``/``cont``) or ``debug`` (stopped by the debugger); ``shutdown`` once the guest exited,
powered off or the VM was destroyed; ``internal-error`` when a device model or the monitor failed
(the other VMs of the daemon run on).

Threads: the vCPU runs on its own thread; every public method here is safe to call from any
thread. Device state is only touched on the vCPU thread: input from other threads goes through
:meth:`VCpu.post`. Listeners are called from the vCPU thread (console output) or the caller's
thread (state events); a daemon bridges them into its event loop itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Any, Callable

from unicorn.arm_const import UC_ARM_REG_CPSR, UC_ARM_REG_PC, UC_ARM_REG_R0

from hvd.boards.beagleboard_xm import BeagleBoardXM
from hvd.clock import VirtualClock
from hvd.config import VmConfig
from hvd.cpu.vcpu import StopReason, VCpu
from hvd.errors import UsageError
from hvd.loader import BootImage, load_guest
from hvd.monitor.mmu import NativeMmu, ShadowMmu

log = logging.getLogger("hvd.vm")

EventListener = Callable[[str, dict], None]
ConsoleListener = Callable[[bytes], None]


class VM:
    def __init__(self, config: VmConfig, *, semihost_sink: ConsoleListener | None = None) -> None:
        self.config = config
        self.name = config.name
        self.status = "prelaunch"
        self.exit_status: int | None = None
        self.error: str | None = None
        self._lock = threading.RLock()
        self._events: list[EventListener] = []
        self._console: list[ConsoleListener] = []
        self._semihost_sink = semihost_sink
        self._stdin_queue: deque[int] = deque(maxlen=4096)
        self._done = threading.Event()
        self.started_at: float | None = None

        self.clock = VirtualClock(config.clock)
        self.board = BeagleBoardXM(self.clock, config.memory)
        self.vcpu = VCpu(self.clock, semihosting=config.semihosting,
                         semihost_write=self._semihost_write, semihost_read=self._semihost_read)
        self.board.bus.map_into(self.vcpu.uc)
        if config.mmu == "shadow":
            self.mmu = ShadowMmu(self.board.bus, config.shadow_sync)
        else:
            self.mmu = NativeMmu(self.board.bus)
        self.vcpu.attach_mmu(self.mmu)
        self.board.on_irq_output = self.vcpu.set_irq_lines
        self.board.on_poweroff = lambda: self.vcpu.request_stop(StopReason("poweroff"))
        self.board.on_reset = lambda: self.vcpu.request_stop(StopReason("reset"))
        self.board.bus.on_device_error = self._device_error
        self.board.console_uart.tx_sink = self._console_out
        self.vcpu.on_exit = self._on_vcpu_exit
        self.vcpu.on_park = self._on_vcpu_park
        self.vcpu.on_error = lambda exc: self._internal_error(repr(exc))
        self.vcpu.on_reset = self._guest_reset
        self.boot: BootImage = load_guest(
            config.kernel, ram_base=self.board.ram_base, ram_size=self.board.ram_size,
            load_addr=config.load_addr, entry=config.entry, dtb=config.dtb,
            initrd=config.initrd, append=config.append)
        self._load_boot_image()

    # ------------------------------------------------------------------------------------------
    def _load_boot_image(self) -> None:
        bus = self.board.bus
        for seg in self.boot.segments:
            if not bus.write_phys(seg.addr, seg.data):
                raise UsageError(f"{self.config.kernel}: segment at 0x{seg.addr:08x} is outside memory")
        uc = self.vcpu.uc
        self.vcpu.reset_cpu()
        for n, v in self.boot.regs.items():
            if n < 15:
                uc.reg_write(UC_ARM_REG_R0 + n, v & 0xFFFFFFFF)
        cpsr = 0x1D3 | (0x20 if self.boot.thumb else 0)
        uc.reg_write(UC_ARM_REG_CPSR, cpsr)
        uc.reg_write(UC_ARM_REG_PC, self.boot.entry & ~1)

    # ------------------------------------------------------------------------------------------
    # listeners
    def add_event_listener(self, cb: EventListener) -> None:
        self._events.append(cb)

    def remove_event_listener(self, cb: EventListener) -> None:
        if cb in self._events:
            self._events.remove(cb)

    def add_console_listener(self, cb: ConsoleListener) -> None:
        self._console.append(cb)

    def remove_console_listener(self, cb: ConsoleListener) -> None:
        if cb in self._console:
            self._console.remove(cb)

    def _emit(self, event: str, data: dict | None = None) -> None:
        payload = {"vm": self.name, **(data or {})}
        for cb in list(self._events):
            try:
                cb(event, payload)
            except Exception:  # a listener must not break the VM
                log.exception("event listener failed")

    def _console_out(self, data: bytes) -> None:
        for cb in list(self._console):
            try:
                cb(data)
            except Exception:
                log.exception("console listener failed")

    def _semihost_write(self, data: bytes) -> None:
        if self._semihost_sink is not None:
            self._semihost_sink(data)
        else:
            self._console_out(data)

    def _semihost_read(self) -> int:
        # SYS_READC blocks in a real debugger host; here it returns what input has arrived.
        deadline = time.monotonic() + 30
        while not self._stdin_queue and time.monotonic() < deadline and self.status == "running":
            time.sleep(0.01)
        return self._stdin_queue.popleft() if self._stdin_queue else -1

    # ------------------------------------------------------------------------------------------
    # lifecycle
    def start(self) -> None:
        with self._lock:
            if self.status != "prelaunch":
                return
            self.status = "running"
            self.started_at = time.monotonic()
        self.vcpu.start()
        self._emit("RESUME")

    def pause(self) -> bool:
        with self._lock:
            if self.status != "running":
                return self.status in ("paused", "debug")
            ok = self.vcpu.pause()
            if ok and self.status == "running":
                self.status = "paused"
        if ok:
            self._emit("STOP")
        return ok

    def resume(self) -> None:
        with self._lock:
            if self.status == "prelaunch":
                self.start()
                return
            if self.status not in ("paused", "debug"):
                return
            self.status = "running"
            self.vcpu.resume()
        self._emit("RESUME")

    def reset(self) -> None:
        """Board reset (QMP system_reset): devices, CPU and the boot image, like power-on."""
        was = self.status
        if was == "running":
            self.vcpu.pause()
        self._do_reset()
        if was == "running":
            self.vcpu.resume()
        self._emit("RESET", {"guest": False, "reason": "host-qmp-system-reset"})

    def _do_reset(self) -> None:
        self.board.reset_devices()
        self.mmu.reset()
        self._load_boot_image()
        self.vcpu.uc.ctl_flush_tb()

    def _guest_reset(self) -> None:
        """The guest reset the board through the PRM (vCPU thread)."""
        self._do_reset()
        self._emit("RESET", {"guest": True, "reason": "guest-reset"})

    def powerdown(self) -> None:
        """QMP system_powerdown: ask the guest to power off (the TWL4030 power button)."""
        self._emit("POWERDOWN")
        press = getattr(self.board, "press_power_button", None)
        if press is not None:
            self.vcpu.post(press)

    def shutdown(self, reason: str = "host-qmp-quit") -> None:
        with self._lock:
            if self.status == "shutdown":
                return
            prev = self.status
            self.status = "shutdown"
        self.vcpu.shutdown()
        self._done.set()
        if prev != "prelaunch" or reason != "host-qmp-quit":
            self._emit("SHUTDOWN", {"guest": False, "reason": reason})

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the guest exits or the VM is shut down."""
        return self._done.wait(timeout)

    # vCPU callbacks (vCPU thread)
    def _on_vcpu_exit(self, reason: StopReason) -> None:
        if reason.kind == "error":
            self._internal_error(reason.detail)
            return
        self.exit_status = reason.status if reason.kind == "exit" else 0
        with self._lock:
            self.status = "shutdown"
        self._emit("SHUTDOWN", {"guest": True,
                                "reason": "guest-shutdown" if reason.kind == "poweroff" else "guest-exit",
                                "status": self.exit_status})
        self.vcpu._quit = True
        self._done.set()

    def _on_vcpu_park(self, reason: StopReason) -> None:
        if reason.kind in ("breakpoint", "watchpoint", "step", "debug"):
            with self._lock:
                if self.status == "running":
                    self.status = "debug"
            self._emit("STOP", {"reason": reason.kind})

    def _device_error(self, dev, exc: BaseException) -> None:
        self._internal_error(f"device {dev.name}: {exc!r}")
        self.vcpu.request_stop(StopReason("error", detail=f"device {dev.name}: {exc!r}"))

    def _internal_error(self, detail: str) -> None:
        with self._lock:
            if self.status == "internal-error":
                return
            self.status = "internal-error"
            self.error = detail
        log.error("VM %s: internal error: %s", self.name, detail)
        self._emit("STOP", {"reason": "internal-error", "detail": detail})
        self._done.set()

    # ------------------------------------------------------------------------------------------
    # console and queries
    def console_input(self, data: bytes) -> None:
        """Host -> guest UART3 RX (any thread)."""
        if self.config.semihosting:
            self._stdin_queue.extend(data)
        uart = self.board.console_uart
        self.vcpu.post(lambda: uart.push_rx(data))

    def translate(self, va: int, write: bool = False) -> int | None:
        return self.mmu.translate(va, write)

    def stats(self) -> dict[str, Any]:
        cpu = {
            "slices": self.vcpu.slices,
            "exceptions": self.vcpu.exceptions,
            "irqs": self.vcpu.irqs_taken,
            "wfi_sleeps": self.vcpu.wfi_sleeps,
            "idle_ns": self.vcpu.idle_ns,
            "kicks": self.vcpu.kicks,
            "instructions": self.vcpu.blocks.instructions,
            "blocks": self.vcpu.blocks.blocks,
            "unmask_stops": self.vcpu.blocks.unmask_stops,
            "block_stops": self.vcpu.blocks.requested_stops,
            "outside_stops": self.vcpu.outside_stops,
            "mmio_reads": self.board.bus.mmio_reads + self.board.bus.fast_mmio_reads,
            "mmio_writes": self.board.bus.mmio_writes,
            "guest_time_ns": self.clock.now_ns(),
        }
        return {"vm": self.name, "status": self.status, "mmu": self.mmu.mode,
                "shadow_sync": getattr(self.mmu, "sync", None),
                "shadow": self.mmu.stats_dict(), "cpu": cpu}

    def hmp(self, cmd: str) -> str:
        from hvd.hmp import run_hmp

        return run_hmp(self, cmd)
