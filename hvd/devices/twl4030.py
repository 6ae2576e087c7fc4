"""TWL4030 / TPS65950 power-management companion on I2C1 (BeagleBoard-xM), following the
TPS65950 TRM (SWCU050) register map: four I2C slave addresses, each a 256-byte register file.

=======  ========================================================================================
slave    register groups (base offsets inside the slave, as Linux's twl-core maps them)
=======  ========================================================================================
0x48     USB 0x00
0x49     AUDIO_VOICE 0x00, TEST 0x4C, PIH 0x80, INTBR 0x85, GPIO 0x98
0x4A     MADC 0x00, MAIN_CHARGE 0x74, PRECHARGE 0xAA, INTERRUPTS 0xB9, KEYPAD 0xD2, LED 0xEE,
         PWM 0xF8
0x4B     SECURED_REG 0x00, BACKUP 0x14, RTC 0x1C, INT (PWR_INT) 0x2E, PM_MASTER 0x36,
         PM_RECEIVER 0x5B
=======  ========================================================================================

Registers with behaviour (everything else is read-as-written storage, reset 0, so the
regulator, GPIO, power-script and audio drivers of the kernel probe against it):

======================  ===========  ====  ==================================================
register                slave:reg    r/w   model
======================  ===========  ====  ==================================================
IDCODE_7_0..31_24       0x49:0x85-88 r     0x3009002F (TPS65950/TWL5030 class, rev 0x30) when
                                           UNLOCK_TEST_REG holds 0x49, else 0
UNLOCK_TEST_REG         0x49:0x97    rw    0x49 unlocks the IDCODE bytes
PIH_ISR_P1/P2           0x49:0x81/82 r     0: no interrupt is ever pending (INTC 7 stays low)
RTC SECONDS..WEEKS      0x4B:0x1C-22 rw    BCD time, latched from the wall clock when
                                           RTC_CTRL.GET_TIME is written; written values set
                                           the clock when the RTC is (re)started
RTC_CTRL_REG            0x4B:0x29    rw    STOP_RTC (bit 0, 1 = running), GET_TIME (bit 6)
RTC_STATUS_REG          0x4B:0x2A    r/w1c RUN (bit 1) = running; event bits 7:2 w1c
P1_SW_EVENTS            0x4B:0x46    rw    DEVOFF (bit 0): the board powers off (the
                                           ``poweroff`` callback); the bit self-clears
======================  ===========  ====  ==================================================

Register pointer protocol: the first byte written after a (repeated) start selects the register;
further bytes written or read go to consecutive registers (wrapping at 0xFF).
"""

from __future__ import annotations

import calendar
import logging
import time
from typing import Callable

log = logging.getLogger("hvd.devices.twl4030")

ADDR_USB, ADDR_AUDIO, ADDR_AUX, ADDR_POWER = 0x48, 0x49, 0x4A, 0x4B
ADDRESSES = (ADDR_USB, ADDR_AUDIO, ADDR_AUX, ADDR_POWER)

INTBR = 0x85
IDCODE_REGS = range(INTBR, INTBR + 4)
UNLOCK_TEST_REG = INTBR + 0x12
EEPROM_R_UNLOCK = 0x49
PIH_ISR_P1, PIH_ISR_P2 = 0x81, 0x82
IDCODE_VALUE = 0x3009002F

RTC = 0x1C
RTC_TIME = range(RTC, RTC + 7)  # seconds, minutes, hours, days, months, years, weeks
RTC_CTRL = RTC + 0x0D
RTC_STATUS = RTC + 0x0E
STOP_RTC, GET_TIME = 1 << 0, 1 << 6
RTC_RUN = 1 << 1
PM_MASTER = 0x36
P1_SW_EVENTS = PM_MASTER + 0x10
DEVOFF = 1 << 0


def _bcd(n: int) -> int:
    return ((n // 10) << 4) | (n % 10)


def _unbcd(b: int) -> int:
    return (b >> 4) * 10 + (b & 0xF)


class TwlSlave:
    """One of the four I2C addresses: a 256-byte register file with a register pointer."""

    def __init__(self, chip: "Twl4030", addr: int) -> None:
        self.chip = chip
        self.addr = addr
        self.regs = bytearray(256)
        self._ptr = 0
        self._expect_ptr = False

    # I2cSlave protocol
    def start(self, read: bool) -> bool:
        self._expect_ptr = not read
        return True

    def write_byte(self, b: int) -> bool:
        if self._expect_ptr:
            self._ptr = b & 0xFF
            self._expect_ptr = False
        else:
            self.chip.write_reg(self.addr, self._ptr, b & 0xFF)
            self._ptr = (self._ptr + 1) & 0xFF
        return True

    def read_byte(self) -> int:
        v = self.chip.read_reg(self.addr, self._ptr)
        self._ptr = (self._ptr + 1) & 0xFF
        return v

    def stop(self) -> None:
        self._expect_ptr = False


class Twl4030:
    """The companion chip: four slaves, a battery-backed RTC and the power-off switch."""

    def __init__(
        self,
        poweroff: Callable[[], None] | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._poweroff = poweroff
        self._wall = wall_clock
        self.slaves = {a: TwlSlave(self, a) for a in ADDRESSES}
        self.rtc_offset = 0.0  # guest-set time minus wall-clock time, seconds
        self._time_written = False
        self.powered_off = False
        self.reset()

    def reset(self) -> None:
        for s in self.slaves.values():
            s.regs[:] = bytes(256)
            s._ptr = 0
        power = self.slaves[ADDR_POWER].regs
        power[RTC_CTRL] = STOP_RTC  # running, 24-hour mode
        power[RTC_STATUS] = RTC_RUN
        self._time_written = False
        self.powered_off = False

    def attach_to(self, bus: object) -> None:
        """Attach the four slaves to an :class:`hvd.devices.i2c.I2cController`."""
        for a, s in self.slaves.items():
            bus.attach(a, s)  # type: ignore[attr-defined]

    # -- registers ----------------------------------------------------------------------------
    def read_reg(self, addr: int, reg: int) -> int:
        regs = self.slaves[addr].regs
        if addr == ADDR_AUDIO:
            if reg in IDCODE_REGS:
                if regs[UNLOCK_TEST_REG] != EEPROM_R_UNLOCK:
                    return 0
                return (IDCODE_VALUE >> (8 * (reg - INTBR))) & 0xFF
            if reg in (PIH_ISR_P1, PIH_ISR_P2):
                return 0
        elif addr == ADDR_POWER and reg == RTC_STATUS:
            running = regs[RTC_CTRL] & STOP_RTC
            return (regs[RTC_STATUS] & ~RTC_RUN) | (RTC_RUN if running else 0)
        return regs[reg]

    def write_reg(self, addr: int, reg: int, value: int) -> None:
        regs = self.slaves[addr].regs
        if addr == ADDR_AUDIO and (reg in IDCODE_REGS or reg in (PIH_ISR_P1, PIH_ISR_P2)):
            return
        if addr == ADDR_POWER:
            if reg == P1_SW_EVENTS:
                regs[reg] = value & ~DEVOFF
                if value & DEVOFF:
                    self._devoff()
                return
            if reg == RTC_STATUS:
                regs[reg] &= ~(value & 0xFC)  # event bits are write-1-to-clear
                return
            if reg in RTC_TIME:
                regs[reg] = value
                self._time_written = True
                return
            if reg == RTC_CTRL:
                self._rtc_ctrl(regs, value)
                return
        regs[reg] = value

    # -- power --------------------------------------------------------------------------------
    def _devoff(self) -> None:
        log.info("TWL4030: P1_SW_EVENTS.DEVOFF: powering the board off")
        self.powered_off = True
        if self._poweroff is not None:
            self._poweroff()

    # -- RTC ----------------------------------------------------------------------------------
    def _rtc_ctrl(self, regs: bytearray, value: int) -> None:
        if value & STOP_RTC and self._time_written:  # (re)started after a time was written
            self._set_time_from_regs(regs)
        regs[RTC_CTRL] = value & ~GET_TIME
        if value & GET_TIME:
            self._latch_time(regs)

    def _latch_time(self, regs: bytearray) -> None:
        t = time.gmtime(self._wall() + self.rtc_offset)
        year = t.tm_year % 100
        vals = (t.tm_sec % 60, t.tm_min, t.tm_hour, t.tm_mday, t.tm_mon, year, t.tm_wday)
        for i, v in enumerate(vals):
            regs[RTC + i] = _bcd(v)

    def _set_time_from_regs(self, regs: bytearray) -> None:
        self._time_written = False
        try:
            sec, mins, hours, day, mon, year = (_unbcd(regs[RTC + i]) for i in range(6))
            guest = calendar.timegm((2000 + year, mon, day, hours & 0x3F, mins, sec, 0, 0, 0))
        except (ValueError, OverflowError):
            return
        self.rtc_offset = guest - self._wall()
