"""A test double of hvd.vm.VM for the daemon's unit tests (the contract in issue 5's brief).

Its "guest" is a thread that prints a banner when started and echoes console input; typing
``flood`` + Enter makes it print 4 MiB at once, ``crash`` puts it in ``internal-error`` (as a
failing device model does) and ``poweroff`` shuts it down as the guest would.
"""

from __future__ import annotations

import queue
import threading
from typing import Any, Callable


class FakeVM:
    instances: list["FakeVM"] = []

    def __init__(self, config: Any) -> None:
        if str(config.kernel).endswith(".bad"):
            raise ValueError("not an image this board can run")
        self.config = config
        self.status = "prelaunch"
        self.exit_status: int | None = None
        self._events: list[Callable[[str, dict[str, Any]], None]] = []
        self._console: list[Callable[[bytes], None]] = []
        self._input: queue.Queue[bytes | None] = queue.Queue(maxsize=256)
        self._thread: threading.Thread | None = None
        self.instructions = 0
        self.inputs = bytearray()
        self.calls: list[str] = []
        FakeVM.instances.append(self)

    # -- contract --------------------------------------------------------------------------
    def add_event_listener(self, cb: Callable[[str, dict[str, Any]], None]) -> None:
        self._events.append(cb)

    def add_console_listener(self, cb: Callable[[bytes], None]) -> None:
        self._console.append(cb)

    def _emit(self, ev: str, data: dict[str, Any]) -> None:
        for cb in self._events:
            cb(ev, data)

    def _out(self, data: bytes) -> None:
        for cb in self._console:
            cb(data)

    def start(self) -> None:
        self.calls.append("start")
        if self.status != "prelaunch":
            raise RuntimeError(f"cannot start from {self.status}")
        self.status = "running"
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._emit("RESUME", {})

    def _run(self) -> None:
        self._out(f"hello from {self.config.name}\r\n".encode())
        line = bytearray()
        while True:
            data = self._input.get()
            if data is None:
                return
            self.instructions += 1000
            self.inputs += data
            self._out(data)
            for b in data:
                if b in (13, 10):
                    if bytes(line) == b"crash":
                        self.status = "internal-error"
                        self._emit("STOP", {"reason": "internal-error", "detail": "boom"})
                        return
                    if bytes(line) == b"poweroff":
                        self.status = "shutdown"
                        self.exit_status = 0
                        self._emit("SHUTDOWN", {"guest": True, "reason": "guest-shutdown"})
                        return
                    if bytes(line) == b"flood":
                        for _ in range(4096):
                            self._out(b"x" * 1023 + b"\n")
                    line.clear()
                else:
                    line.append(b)

    def pause(self) -> None:
        self.calls.append("pause")
        if self.status == "running":
            self.status = "paused"
            self._emit("STOP", {})

    def resume(self) -> None:
        self.calls.append("resume")
        if self.status == "paused":
            self.status = "running"
            self._emit("RESUME", {})

    def reset(self) -> None:
        self.calls.append("reset")
        self._emit("RESET", {"guest": False, "reason": "host-qmp-system-reset"})

    def powerdown(self) -> None:
        self.calls.append("powerdown")
        self._emit("POWERDOWN", {})

    def shutdown(self) -> None:
        self.calls.append("shutdown")
        if self.status == "shutdown":
            return
        self.status = "shutdown"
        try:
            self._input.put_nowait(None)
        except queue.Full:
            pass
        self._emit("SHUTDOWN", {"guest": False, "reason": "host-qmp-quit"})

    def console_input(self, data: bytes) -> None:
        try:
            self._input.put_nowait(bytes(data))
        except queue.Full:
            pass  # bounded: excess input is dropped

    def stats(self) -> dict[str, Any]:
        return {
            "cpu": {"instructions": self.instructions},
            "shadow": {"fills": self.instructions // 10, "tlb_ops": 3, "guest_faults": 1},
        }

    def hmp(self, cmd: str) -> str:
        if cmd == "info registers":
            return "R00=00000000 R01=00000000\r\nPC=80000000 CPSR=400001d3\r\n"
        if cmd == "info shadow":
            return "shadow: mode tlb, 12 entries\r\n"
        if cmd == "info tlb":
            return "80000000-80100000 -> 80000000 rwx\r\n"
        raise ValueError(cmd)


def factory(cfg: Any) -> FakeVM:
    return FakeVM(cfg)
