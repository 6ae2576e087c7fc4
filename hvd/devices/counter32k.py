"""32 kHz synchronized counter, DM3730 TRM chapter 16 (Timers), section 16.3 (32-kHz Sync Timer).

Mapped at 0x4832_0000 (L4-Wakeup).

==========  ======  ===  ==========================================================
register    offset  r/w  model
==========  ======  ===  ==========================================================
REG_32KSYNCNT_REV        0x00  r   0x11 (bits 31:30 = 0: the OMAP3 layout, CR at 0x10)
REG_32KSYNCNT_SYSCONFIG  0x04  rw  stored (the kernel writes 0)
REG_32KSYNCNT_CR         0x10  r   free-running count of 32768 Hz ticks of the virtual
                                   clock since virtual time 0, modulo 2^32
==========  ======  ===  ==========================================================

The count is computed from the virtual clock on every read, so it advances in step with a GP
timer clocked at 32768 Hz (both count on the same tick grid) and stops while the VM is paused.
"""

from __future__ import annotations

from hvd.clock import NS_PER_S, VirtualClock
from hvd.devices.base import Device

REV = 0x00
SYSCONFIG = 0x04
CR = 0x10

REV_VALUE = 0x11
HZ = 32768


class Counter32k(Device):
    """The 32 kHz sync counter: the kernel's clocksource and sched_clock."""

    size = 0x1000

    def __init__(self, name: str, clock: VirtualClock) -> None:
        super().__init__(name)
        self.clock = clock
        self.sysconfig = 0

    def reset(self) -> None:
        self.sysconfig = 0  # the counter itself is free-running and never resets

    def count(self) -> int:
        return (self.clock.now_ns() * HZ // NS_PER_S) & 0xFFFFFFFF

    def read(self, offset: int, size: int) -> int:
        off = offset & ~3
        if off == CR:
            value = self.count()
        elif off == REV:
            value = REV_VALUE
        elif off == SYSCONFIG:
            value = self.sysconfig
        else:
            self.unmodeled("read", off)
            return 0
        return (value >> ((offset & 3) * 8)) & ((1 << (size * 8)) - 1)

    def write(self, offset: int, size: int, value: int) -> None:
        if offset == SYSCONFIG:
            self.sysconfig = value & ((1 << (size * 8)) - 1) & 0xFFFFFFFF
        elif offset & ~3 in (REV, CR):
            return  # read-only
        else:
            self.unmodeled("write", offset, value)
