"""Watchdog timer WDT2 (MPU watchdog), 0x4831_4000, DM3730 TRM chapter 16.4 ("Watchdog Timers"),
section 16.4.4 (registers).

The board starts with the watchdog stopped, as U-Boot leaves it. The kernel's hwmod reset
disables it again with the WSPR sequence 0xAAAA, 0x5555 and polls WWPS after each write. If a
guest starts it (WSPR 0xBBBB then 0x4444) the counter runs from the 32768 Hz clock and an
overflow resets the board.

==================  ======  ===  ===========================================================
register            offset  r/w  model
==================  ======  ===  ===========================================================
WIDR                0x000   r    0x31
WD_SYSCONFIG        0x010   rw   SOFTRESET (bit 1) self-clears and stops the watchdog
WD_SYSSTATUS        0x014   r    bit 0 RESETDONE = 1
WISR                0x018   r/w1c bit 0 overflow (set on expiry)
WIER                0x01C   rw   storage
WCLR                0x024   rw   PRE (bit 5), PTV (4:2): counts at 32768 / 2^PTV when PRE=1
WCRR                0x028   rw   the counter, computed from the virtual clock
WLDR                0x02C   rw   reload value, reset 0xFFFB0000
WTGR                0x030   rw   a write with a new value reloads WCRR from WLDR
WWPS                0x034   r    0: posted writes commit at once
WSPR                0x048   rw   start/stop sequence: 0xBBBB,0x4444 starts; 0xAAAA,0x5555 stops
==================  ======  ===  ===========================================================
"""

from __future__ import annotations

import logging
from typing import Callable

from hvd.clock import NS_PER_S, VirtualClock
from hvd.devices.base import Device

log = logging.getLogger("hvd.devices.wdt")

WIDR, WD_SYSCONFIG, WD_SYSSTATUS, WISR, WIER = 0x00, 0x10, 0x14, 0x18, 0x1C
WCLR, WCRR, WLDR, WTGR, WWPS, WSPR = 0x24, 0x28, 0x2C, 0x30, 0x34, 0x48
WIDR_VALUE = 0x31
WLDR_RESET = 0xFFFB0000
FCLK_HZ = 32768


class Watchdog(Device):
    """WDT2: stopped at power-on, resets the board when it is started and expires."""

    size = 0x1000

    def __init__(self, name: str, clock: VirtualClock,
                 reset_board: Callable[[], None] | None = None) -> None:
        super().__init__(name)
        self.clock = clock
        self._reset_board = reset_board
        self._timer = clock.timer(self._expired)
        self.reset()

    def reset(self) -> None:
        self._timer.cancel()
        self.sysconfig = 0
        self.wisr = 0
        self.wier = 0
        self.wclr = 0x20
        self.wldr = WLDR_RESET
        self.wtgr = 0
        self.wspr = 0
        self.running = False
        self._count_at_start = WLDR_RESET  # WCRR value at _t0 (when running)
        self._t0 = 0
        self._stopped_count = WLDR_RESET

    # -- counting ---------------------------------------------------------------------------------
    def _tick_ns(self) -> int:
        div = 1 << ((self.wclr >> 2) & 7) if self.wclr & 0x20 else 1
        return NS_PER_S * div // FCLK_HZ

    def counter(self) -> int:
        if not self.running:
            return self._stopped_count
        ticks = (self.clock.now_ns() - self._t0) // self._tick_ns()
        return min(self._count_at_start + ticks, 0xFFFFFFFF)

    def _load(self, value: int) -> None:
        self._stopped_count = value
        if self.running:
            self._start_from(value)

    def _start_from(self, value: int) -> None:
        self._count_at_start = value
        self._t0 = self.clock.now_ns()
        remaining = 0x1_0000_0000 - value
        self._timer.arm(self._t0 + remaining * self._tick_ns())

    def _expired(self) -> None:
        if not self.running:
            return
        self.wisr |= 1
        log.warning("%s: watchdog expired: resetting the board", self.name)
        self._start_from(self.wldr)
        if self._reset_board is not None:
            self._reset_board()

    # -- registers -------------------------------------------------------------------------------
    def read(self, offset: int, size: int) -> int:
        off = offset & ~3
        if off == WIDR:
            v = WIDR_VALUE
        elif off == WD_SYSCONFIG:
            v = self.sysconfig
        elif off == WD_SYSSTATUS:
            v = 1
        elif off == WISR:
            v = self.wisr
        elif off == WIER:
            v = self.wier
        elif off == WCLR:
            v = self.wclr
        elif off == WCRR:
            v = self.counter()
        elif off == WLDR:
            v = self.wldr
        elif off == WTGR:
            v = self.wtgr
        elif off == WWPS:
            v = 0
        elif off == WSPR:
            v = self.wspr
        else:
            self.unmodeled("read", offset)
            v = 0
        return (v >> ((offset & 3) * 8)) & ((1 << (size * 8)) - 1)

    def write(self, offset: int, size: int, value: int) -> None:
        off = offset & ~3
        value = (value << ((offset & 3) * 8)) & 0xFFFFFFFF  # sub-word writes: field position
        if off == WD_SYSCONFIG:
            if value & 2:
                self.reset()
            else:
                self.sysconfig = value & 0x3FD
        elif off == WISR:
            self.wisr &= ~value
        elif off == WIER:
            self.wier = value & 1
        elif off == WCLR:
            count = self.counter()
            self.wclr = value & 0x3C
            if self.running:
                self._start_from(count)
        elif off == WCRR:
            self._load(value & 0xFFFFFFFF)
        elif off == WLDR:
            self.wldr = value & 0xFFFFFFFF
        elif off == WTGR:
            if value != self.wtgr:
                self.wtgr = value
                self._load(self.wldr)
        elif off == WSPR:
            self._spr(value & 0xFFFF)
        else:
            self.unmodeled("write", offset, value)

    def _spr(self, value: int) -> None:
        prev = self.wspr & 0xFFFF
        self.wspr = value
        if prev == 0xAAAA and value == 0x5555 and self.running:
            self._stopped_count = self.counter()
            self.running = False
            self._timer.cancel()
        elif prev == 0xBBBB and value == 0x4444 and not self.running:
            self.running = True
            self._start_from(self._stopped_count)
