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

CR reads are answered in C (``_counter32k.c``, mapped through :meth:`Counter32k.fast_mmio`):
Linux reads CR thousands of times a second (clocksource and sched_clock). The C code computes
the same value as :meth:`Counter32k.count` from the clock's time base, which it is told of
whenever it changes; every other register goes through :meth:`Counter32k.read`.
"""

from __future__ import annotations

import ctypes

from hvd.clock import NS_PER_S, VirtualClock
from hvd.devices.base import Device, FastMmio
from hvd.native import load_library

REV = 0x00
SYSCONFIG = 0x04
CR = 0x10

REV_VALUE = 0x11
HZ = 32768


class _CState(ctypes.Structure):
    """struct hvd_counter32k in _counter32k.c"""

    _fields_ = [("offset_ns", ctypes.c_int64), ("frozen_ns", ctypes.c_int64),
                ("frozen", ctypes.c_int32), ("pad", ctypes.c_uint32), ("reads", ctypes.c_uint64),
                ("fallback", ctypes.c_void_p)]


class Counter32k(Device):
    """The 32 kHz sync counter: the kernel's clocksource and sched_clock."""

    size = 0x1000

    def __init__(self, name: str, clock: VirtualClock) -> None:
        super().__init__(name)
        self.clock = clock
        self.sysconfig = 0

    def reset(self) -> None:
        self.sysconfig = 0  # the counter itself is free-running and never resets

    def fast_mmio(self) -> FastMmio | None:
        lib = load_library("hvd.devices", "_counter32k")
        if lib is None:
            return None
        st = self._cstate = _CState()

        def time_base(offset: int, frozen_at: int | None) -> None:
            if frozen_at is None:
                st.offset_ns = offset
                st.frozen = 0
            else:
                st.frozen_ns = frozen_at
                st.frozen = 1

        self.clock.observe_time_base(time_base)

        def set_fallback(cfunc: object) -> None:
            self._fallback = cfunc  # kept alive with the device
            st.fallback = ctypes.cast(cfunc, ctypes.c_void_p).value

        return FastMmio(ctypes.cast(lib.hvd_counter32k_read, ctypes.c_void_p).value,
                        ctypes.addressof(st), set_fallback, lambda: st.reads)

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
