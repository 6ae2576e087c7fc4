"""What every device model is made of.

A device is a pure register model: it knows offsets, values and interrupt lines, never sockets,
files or threads. The board maps it at a physical base address; the bus calls :meth:`Device.read`
and :meth:`Device.write` with the offset inside the device's window and the access size in bytes
(1, 2 or 4). Everything runs on the VM's vCPU thread. Time comes from the VM's
:class:`hvd.clock.VirtualClock`; interrupts leave through :class:`IrqLine` objects that the board
connects to the interrupt controller.
"""

from __future__ import annotations

import logging
from typing import Callable

log = logging.getLogger("hvd.devices")


class IrqLine:
    """One level-sensitive interrupt line. The sink is told every level change."""

    __slots__ = ("number", "level", "_sink")

    def __init__(self, number: int = -1, sink: Callable[[int, bool], None] | None = None) -> None:
        self.number = number
        self.level = False
        self._sink = sink

    def connect(self, number: int, sink: Callable[[int, bool], None]) -> None:
        self.number = number
        self._sink = sink

    def set(self, level: bool) -> None:
        level = bool(level)
        if level != self.level:
            self.level = level
            if self._sink is not None:
                self._sink(self.number, level)

    def raise_(self) -> None:
        self.set(True)

    def lower(self) -> None:
        self.set(False)


class FastMmio:
    """A device's MMIO read callback written in C: Unicorn calls ``read_fn(uc, offset, size,
    user_data)`` directly. The C code answers what it can and hands the rest to the Python read
    path, which the bus gives it with ``set_fallback`` (a ctypes function of the same type).
    Writes always go through Python. ``reads()`` counts the reads answered in C."""

    __slots__ = ("read_fn", "user_data", "set_fallback", "reads")

    def __init__(self, read_fn: int, user_data: int, set_fallback: Callable[[object], None],
                 reads: Callable[[], int]) -> None:
        self.read_fn = read_fn
        self.user_data = user_data
        self.set_fallback = set_fallback
        self.reads = reads


class Device:
    """Base class of a memory-mapped device model."""

    #: size of the register window in bytes (the board maps this much)
    size: int = 0x1000

    def __init__(self, name: str) -> None:
        self.name = name
        self._unmodeled_seen: set[tuple[str, int]] = set()

    def fast_mmio(self) -> "FastMmio | None":
        """A C read callback for this device's page(s), or None (all accesses go through
        :meth:`read` and :meth:`write` in Python). See :class:`FastMmio`."""
        return None

    def read(self, offset: int, size: int) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def write(self, offset: int, size: int, value: int) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def reset(self) -> None:
        """Put every register back to its reset value."""

    def unmodeled(self, kind: str, offset: int, value: int | None = None) -> None:
        """Log (once per register and direction) an access to a register the model ignores."""
        key = (kind, offset)
        if key not in self._unmodeled_seen:
            self._unmodeled_seen.add(key)
            if value is None:
                log.debug("%s: unmodeled %s at +0x%03x", self.name, kind, offset)
            else:
                log.debug("%s: unmodeled %s at +0x%03x value 0x%x", self.name, kind, offset, value)


class RamDevice(Device):
    """Plain read/write storage, for register files that simply keep what is written."""

    def __init__(self, name: str, size: int, reset_values: dict[int, int] | None = None) -> None:
        super().__init__(name)
        self.size = size
        self._reset_values = dict(reset_values or {})
        self.regs: dict[int, int] = {}
        self.reset()

    def reset(self) -> None:
        self.regs = dict(self._reset_values)

    def read(self, offset: int, size: int) -> int:
        aligned = offset & ~3
        word = self.regs.get(aligned, 0)
        shift = (offset & 3) * 8
        return (word >> shift) & ((1 << (size * 8)) - 1)

    def write(self, offset: int, size: int, value: int) -> None:
        aligned = offset & ~3
        shift = (offset & 3) * 8
        mask = ((1 << (size * 8)) - 1) << shift
        old = self.regs.get(aligned, 0)
        self.regs[aligned] = (old & ~mask) | ((value << shift) & mask)
