"""The debug target the GDB commands drive.

:class:`Target` is the interface (a :class:`typing.Protocol`); the command layer knows nothing
else about the machine. Registers are addressed by the target description's numbers
(:mod:`.tdesc`), memory by guest virtual address unless ``phys`` is set.

Threading contract: the server calls every method from a worker thread (never the trio thread),
one call at a time, and only while the target is stopped, except :meth:`Target.interrupt`, which
is called while it runs. :meth:`Target.resume` returns at once (or after a single step); the
``on_stop`` callback it is given is called exactly once per resume, from any thread, when the
target stops for any reason (breakpoint, watchpoint, step done, interrupt, guest exit).

:class:`VmTarget`, the implementation over an hvd VM, lives in :mod:`.vmtarget` and is
re-exported here.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass
from enum import IntEnum
from typing import Callable, Protocol

SIGINT = int(signal.SIGINT)     # 2: gdb's GDB_SIGNAL_INT
SIGILL = int(signal.SIGILL)     # 4
SIGTRAP = int(signal.SIGTRAP)   # 5
SIGSEGV = int(signal.SIGSEGV)   # 11


class BpType(IntEnum):
    """The Z/z packet types."""

    SOFTWARE = 0
    HARDWARE = 1
    WRITE = 2
    READ = 3
    ACCESS = 4


@dataclass(frozen=True, slots=True)
class StopEvent:
    """Why the target stopped.

    ``kind`` is one of ``signal`` (plain stop with ``signal``: step done, attach, interrupt),
    ``swbreak``, ``hwbreak``, ``watch``, ``rwatch``, ``awatch`` (``addr`` is the data address),
    ``exited`` (``status`` is the guest's exit status) or ``terminated`` (the VM stopped for good
    with ``signal``). ``message`` is shown to the user (``O`` packet) before the stop reply.
    """

    kind: str = "signal"
    signal: int = SIGTRAP
    addr: int = 0
    status: int = 0
    message: str = ""

    @property
    def finished(self) -> bool:
        """The program is over: nothing can be resumed."""
        return self.kind in ("exited", "terminated")


StopCallback = Callable[[StopEvent], None]


class Target(Protocol):
    """What the command layer needs from a machine."""

    def attach(self) -> StopEvent:
        """Stop the target if it runs (a debugger just connected); return its stop state."""
        ...

    def read_register(self, regnum: int) -> int | None:
        """A register by target-description number; None when it is unknown/unavailable."""
        ...

    def write_register(self, regnum: int, value: int) -> bool:
        ...

    def read_memory(self, addr: int, length: int, *, phys: bool = False) -> bytes:
        """Up to ``length`` bytes; shorter (possibly empty) where the memory ends being readable."""
        ...

    def write_memory(self, addr: int, data: bytes, *, phys: bool = False) -> bool:
        ...

    def resume(self, *, step: bool, on_stop: StopCallback) -> None:
        """Let the target run (or execute one instruction); ``on_stop`` reports the stop."""
        ...

    def interrupt(self) -> None:
        """Stop a running target as soon as possible (Ctrl-C)."""
        ...

    def insert_breakpoint(self, kind: BpType, addr: int, length: int, *,
                          phys: bool = False) -> bool:
        """Breakpoints are at virtual addresses; watchpoints at physical ones with ``phys``."""
        ...

    def remove_breakpoint(self, kind: BpType, addr: int, length: int) -> bool:
        ...

    def detach(self) -> None:
        """The debugger leaves: remove breakpoints and watchpoints, let the target run."""
        ...

    def disconnect(self) -> None:
        """The debugger vanished: remove breakpoints and watchpoints, keep the run state."""
        ...

    def kill(self) -> None:
        """The debugger asked to end the program (``k``)."""
        ...

    # --- monitor commands ---------------------------------------------------------------
    def banked_registers(self) -> dict[str, int]:
        """Every mode's banked registers and SPSRs, by name (``r13_svc``, ``spsr_irq``, ...)."""
        ...

    def cp15_registers(self) -> dict[str, int]:
        """The CP15 state the guest sees (SCTLR, TTBR0/1, TTBCR, DACR, ...)."""
        ...

    def shadow_stats(self) -> dict[str, object]:
        """The memory monitor's statistics (empty when it has none)."""
        ...

    def info_tlb(self) -> str:
        """The guest's current virtual mappings (its own tables, walked), as text."""
        ...


def __getattr__(name: str):  # VmTarget is imported lazily: it pulls in Unicorn
    if name == "VmTarget":
        from .vmtarget import VmTarget

        return VmTarget
    raise AttributeError(name)
