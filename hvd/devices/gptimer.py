"""General-purpose timers GPTIMER1-11, DM3730 TRM chapter 16 (Timers), section 16.2 (GP timers).

The OMAP3 ("v1") register layout; GPTIMER1, 2 and 10 also have the 1 ms tick registers.

=========  ======  ===  ================================================================
register   offset  r/w  model
=========  ======  ===  ================================================================
TIDR       0x00    r    0x13 (bits 31:16 = 0: legacy layout)
TIOCP_CFG  0x10    rw   AUTOIDLE 0, SOFTRESET 1 (self-clears, resets the timer), ENAWAKEUP 2,
                        IDLEMODE 4:3, EMUFREE 5, CLOCKACTIVITY 9:8
TISTAT     0x14    r    bit 0 RESETDONE = 1
TISR       0x18    rw   MAT_IT_FLAG 0, OVF_IT_FLAG 1, TCAR_IT_FLAG 2; write 1 to clear
TIER       0x1C    rw   MAT_IT_ENA 0, OVF_IT_ENA 1, TCAR_IT_ENA 2
TWER       0x20    rw   wake-up enables (stored)
TCLR       0x24    rw   ST 0, AR 1, PTV 4:2, PRE 5, CE 6, SCPWM 7, TCM 9:8, TRG 11:10, PT 12,
                        CAPT_MODE 13, GPO_CFG 14 (pins and capture are not connected)
TCRR       0x28    rw   the counter, computed from the virtual clock when read
TLDR       0x2C    rw   reload value (autoreload, TTGR)
TTGR       0x30    rw   any write loads TCRR from TLDR; reads 0xFFFFFFFF
TWPS       0x34    r    0: posted writes commit at once
TMAR       0x38    rw   compare value (CE)
TCAR1      0x3C    r    0 (no capture input)
TSICR      0x40    rw   SFT 1 (soft reset, self-clears), POSTED 2 (reset 1)
TCAR2      0x44    r    0
TPIR       0x48    rw   1 ms tick registers: stored, the tick correction is not modeled
TNIR       0x4C    rw
TCVR       0x50    rw
TOCR       0x54    rw
TOWR       0x58    rw
=========  ======  ===  ================================================================

Counting (TRM 16.2.4): TCRR advances by one per functional clock tick divided by 2^(PTV+1) when
PRE is set. Going from 0xFFFFFFFF to the next tick is an overflow: TISR.OVF is set and TCRR
reloads TLDR (AR = 1) or becomes 0 and ST clears (one-shot). With CE set, TCRR reaching TMAR sets
TISR.MAT. The IRQ line is ``TISR & TIER != 0``.

The counter is never stepped. Ticks are counted on a grid anchored at virtual time 0 (so a
32768 Hz timer ticks in step with the 32 kHz sync counter); the counter value is computed from the
tick index when read, and at most one :class:`hvd.clock.Timer` is armed, for the next event that
would raise an enabled flag that is not already set. Any number of elapsed periods is accounted in
one step, so a short autoreload period can neither fall behind nor flood the vCPU with callbacks.
"""

from __future__ import annotations

from hvd.clock import NS_PER_S, VirtualClock
from hvd.devices.base import Device, IrqLine

TIDR_VALUE = 0x13

TIDR = 0x00
TIOCP_CFG = 0x10
TISTAT = 0x14
TISR = 0x18
TIER = 0x1C
TWER = 0x20
TCLR = 0x24
TCRR = 0x28
TLDR = 0x2C
TTGR = 0x30
TWPS = 0x34
TMAR = 0x38
TCAR1 = 0x3C
TSICR = 0x40
TCAR2 = 0x44
TPIR = 0x48
TNIR = 0x4C
TCVR = 0x50
TOCR = 0x54
TOWR = 0x58

MAT = 0x1
OVF = 0x2
TCAR = 0x4

TCLR_ST = 0x01
TCLR_AR = 0x02
TCLR_PRE = 0x20
TCLR_CE = 0x40
TCLR_MASK = 0x7FFF

TSICR_SFT = 0x2
TSICR_POSTED = 0x4

WRAP = 1 << 32
MASK32 = WRAP - 1

# stored-only registers and their writable bits
_STORED = {TWER: 0x7, TPIR: MASK32, TNIR: MASK32, TCVR: MASK32, TOCR: 0xFFFFFF, TOWR: 0xFFFFFF}


class GpTimer(Device):
    """One GPTIMER module counting on the VM's virtual clock."""

    size = 0x1000

    def __init__(self, name: str, clock: VirtualClock, irq: IrqLine, clock_hz: int = 32768) -> None:
        super().__init__(name)
        if clock_hz <= 0:
            raise ValueError("timer clock must be positive")
        self.clock = clock
        self.irq = irq
        self.source_hz = clock_hz
        self._timer = clock.timer(self._on_timer)
        self.reset()

    # -- state ------------------------------------------------------------------------------
    def reset(self) -> None:
        self._timer.cancel()
        self.tiocp_cfg = 0
        self.tisr = 0
        self.tier = 0
        self.tclr = 0
        self.tldr = 0
        self.tmar = 0
        self.tsicr = TSICR_POSTED
        self.stored = {off: 0 for off in _STORED}
        # counter: value ``_value`` at tick index ``_tick`` of the current grid
        self._value = 0
        self._tick = 0
        self._div = 1
        self.irq.set(False)

    def set_source_hz(self, hz: int) -> None:
        """Switch the functional clock (32 kHz or the system clock), keeping the count."""
        if hz <= 0:
            raise ValueError("timer clock must be positive")
        self._sync()
        self.source_hz = hz
        self._regrid()
        self._rearm()

    @property
    def running(self) -> bool:
        return bool(self.tclr & TCLR_ST)

    # -- time arithmetic --------------------------------------------------------------------
    def _tick_at(self, now_ns: int) -> int:
        """Index of the last prescaled tick at or before ``now_ns``."""
        return (now_ns * self.source_hz) // (self._div * NS_PER_S)

    def _tick_time(self, tick: int) -> int:
        """First virtual nanosecond at which tick ``tick`` has happened."""
        return -((-tick * self._div * NS_PER_S) // self.source_hz)

    def _regrid(self) -> None:
        """Start counting on the grid of the current clock and prescaler from the value now."""
        tclr = self.tclr
        self._div = (2 << ((tclr >> 2) & 7)) if tclr & TCLR_PRE else 1
        self._tick = self._tick_at(self.clock.now_ns())

    def _sync(self) -> None:
        """Bring the counter, ST and the flags up to the current virtual time."""
        if not self.tclr & TCLR_ST:
            return
        now_tick = self._tick_at(self.clock.now_ns())
        elapsed = now_tick - self._tick
        if elapsed <= 0:
            return
        self._tick = now_tick
        value = self._value
        ce = self.tclr & TCLR_CE
        tmar = self.tmar
        to_wrap = WRAP - value
        if elapsed < to_wrap:
            if ce and value < tmar <= value + elapsed:
                self.tisr |= MAT
            self._value = value + elapsed
            return
        # at least one overflow
        flags = OVF
        if ce and value < tmar:
            flags |= MAT
        if not self.tclr & TCLR_AR:
            self.tclr &= ~TCLR_ST
            self._value = 0
        else:
            tldr = self.tldr
            period = WRAP - tldr
            extra_periods, rest = divmod(elapsed - to_wrap, period)
            self._value = tldr + rest
            if ce and tldr <= tmar and (extra_periods or tmar <= tldr + rest):
                flags |= MAT
        self.tisr |= flags

    def _next_event_tick(self) -> int | None:
        """Tick of the next overflow or match whose enabled flag is not yet set."""
        if not self.tclr & TCLR_ST:
            return None
        want = self.tier & ~self.tisr
        value = self._value
        best: int | None = None
        if want & OVF:
            best = self._tick + (WRAP - value)
        if want & MAT and self.tclr & TCLR_CE:
            tmar = self.tmar
            match: int | None = None
            if tmar > value:
                match = self._tick + (tmar - value)
            elif self.tclr & TCLR_AR and tmar >= self.tldr:
                match = self._tick + (WRAP - value) + (tmar - self.tldr)
            if match is not None and (best is None or match < best):
                best = match
        return best

    def _rearm(self) -> None:
        self.irq.set(self.tisr & self.tier)
        tick = self._next_event_tick()
        if tick is None:
            self._timer.cancel()
        else:
            deadline = self._tick_time(tick)
            if self._timer.deadline != deadline:
                self._timer.arm(deadline)

    def _on_timer(self) -> None:
        self._sync()
        self._rearm()

    def counter(self) -> int:
        """TCRR now (what the guest would read)."""
        self._sync()
        self._rearm()
        return self._value

    # -- bus --------------------------------------------------------------------------------
    def read(self, offset: int, size: int) -> int:
        shift = (offset & 3) * 8
        value = self._read_reg(offset & ~3)
        return (value >> shift) & ((1 << (size * 8)) - 1)

    def _read_reg(self, off: int) -> int:
        if off == TCRR:
            return self.counter()
        if off in (TISR, TCLR):
            self._sync()
            self._rearm()
            return self.tisr if off == TISR else self.tclr
        if off == TIDR:
            return TIDR_VALUE
        if off == TIOCP_CFG:
            return self.tiocp_cfg
        if off == TISTAT:
            return 1
        if off == TIER:
            return self.tier
        if off == TLDR:
            return self.tldr
        if off == TTGR:
            return MASK32
        if off == TMAR:
            return self.tmar
        if off == TSICR:
            return self.tsicr
        if off in (TWPS, TCAR1, TCAR2):
            return 0
        if off in _STORED:
            return self.stored[off]
        self.unmodeled("read", off)
        return 0

    def write(self, offset: int, size: int, value: int) -> None:
        shift = (offset & 3) * 8
        wmask = (((1 << (size * 8)) - 1) << shift) & MASK32
        self._write_reg(offset & ~3, (value << shift) & wmask, wmask)

    def _write_reg(self, off: int, value: int, wmask: int) -> None:
        if off == TISR:
            self._sync()
            self.tisr &= ~value
            self._rearm()
            return
        if off == TTGR:
            self._sync()
            self._value = self.tldr
            self._tick = self._tick_at(self.clock.now_ns())
            self._rearm()
            return
        full = wmask == MASK32
        if off == TCLR:
            self._sync()
            new = (value if full else (self.tclr & ~wmask) | value) & TCLR_MASK
            old = self.tclr
            self.tclr = new
            if (new ^ old) & (TCLR_ST | TCLR_PRE | 0x1C):
                self._regrid()
            self._rearm()
            return
        if off == TCRR:
            self._sync()
            self._value = value if full else (self._value & ~wmask) | value
            self._tick = self._tick_at(self.clock.now_ns())
            self._rearm()
            return
        if off in (TLDR, TMAR, TIER):
            self._sync()
            old = getattr(self, _ATTR[off])
            new = value if full else (old & ~wmask) | value
            setattr(self, _ATTR[off], new & (0x7 if off == TIER else MASK32))
            self._rearm()
            return
        if off == TIOCP_CFG:
            new = value if full else (self.tiocp_cfg & ~wmask) | value
            if new & 0x2:
                self.reset()  # SOFTRESET self-clears; TIOCP_CFG itself returns to 0
            else:
                self.tiocp_cfg = new & 0x33D
            return
        if off == TSICR:
            new = value if full else (self.tsicr & ~wmask) | value
            if new & TSICR_SFT:
                cfg = self.tiocp_cfg
                self.reset()  # the functional part, TSICR included (POSTED back to 1)
                self.tiocp_cfg = cfg
            else:
                self.tsicr = new & TSICR_POSTED
            return
        if off in _STORED:
            old = self.stored[off]
            self.stored[off] = (value if full else (old & ~wmask) | value) & _STORED[off]
            return
        if off in (TIDR, TISTAT, TWPS, TCAR1, TCAR2):
            return  # read-only
        self.unmodeled("write", off, value)


_ATTR = {TLDR: "tldr", TMAR: "tmar", TIER: "tier"}
