"""The TWL4030 companion: register files, IDCODE, RTC and power off (omap3-notes §5.9)."""

from __future__ import annotations

import calendar

import pytest

from hvd.devices.twl4030 import Twl4030

from .i2c_omap_driver import OmapI2cDriver

WALL = calendar.timegm((2026, 11, 29, 8, 30, 15, 0, 0, 0))  # a Sunday


@pytest.fixture
def bus() -> tuple[OmapI2cDriver, Twl4030, list[int]]:
    offs: list[int] = []
    drv = OmapI2cDriver()
    drv.probe()
    twl = Twl4030(poweroff=lambda: offs.append(1), wall_clock=lambda: WALL)
    twl.attach_to(drv.dev)
    return drv, twl, offs


def test_four_register_files(bus) -> None:
    drv, twl, _ = bus
    for addr in (0x48, 0x49, 0x4A, 0x4B):
        assert drv.write_regs(addr, 0x10, bytes([addr, addr + 1])) == 1
    for addr in (0x48, 0x49, 0x4A, 0x4B):
        assert drv.read_regs(addr, 0x10, 2) == bytes([addr, addr + 1])
    assert drv.read_regs(0x4C, 0, 1) == -121  # nothing at 0x4C


def test_pointer_auto_increment_wraps(bus) -> None:
    drv, twl, _ = bus
    drv.write_regs(0x4A, 0xFE, b"\x01\x02\x03")
    assert twl.slaves[0x4A].regs[0xFE] == 1 and twl.slaves[0x4A].regs[0xFF] == 2
    assert twl.slaves[0x4A].regs[0x00] == 3


def test_poweroff_sequence_of_twl4030_power_off(bus) -> None:
    drv, twl, offs = bus
    # probe: unlock PM_MASTER, set P1 LVL_WAKEUP (bit 3): no power off
    drv.write_regs(0x4B, 0x36 + 0x0E, b"\xC0")
    drv.write_regs(0x4B, 0x36 + 0x0E, b"\x0C")
    v = drv.read_regs(0x4B, 0x46, 1)
    drv.write_regs(0x4B, 0x46, bytes([v[0] | 0x08]))
    assert offs == []
    # twl4030_power_off(): write DEVOFF to P1_SW_EVENTS
    assert drv.write_regs(0x4B, 0x46, b"\x01") == 1
    assert offs == [1] and twl.powered_off
    assert drv.read_regs(0x4B, 0x46, 1) == b"\x00"  # DEVOFF self-clears


def test_interrupt_status_reads_zero(bus) -> None:
    drv, twl, _ = bus
    assert drv.read_regs(0x49, 0x81, 1) == b"\x00"  # PIH_ISR_P1
    drv.write_regs(0x4B, 0x2E, b"\xFF\xFF")  # PWR_ISR1: storage, never asserted on INTC 7
    assert drv.read_regs(0x4A, 0xB9, 1) == b"\x00"


def test_rtc_probe_and_read_time(bus) -> None:
    drv, twl, _ = bus
    status = drv.read_regs(0x4B, 0x1C + 0x0E, 1)[0]
    assert status & 0x02  # running
    drv.write_regs(0x4B, 0x1C + 0x0E, bytes([status]))
    drv.write_regs(0x4B, 0x1C + 0x0D, b"\x01")  # STOP_RTC = run
    ctrl = drv.read_regs(0x4B, 0x1C + 0x0D, 1)[0]
    drv.write_regs(0x4B, 0x1C + 0x0D, bytes([ctrl | 0x40]))  # GET_TIME
    t = drv.read_regs(0x4B, 0x1C, 7)
    assert t == bytes([0x15, 0x30, 0x08, 0x29, 0x11, 0x26, 0x06])


def test_rtc_set_time(bus) -> None:
    drv, twl, _ = bus
    drv.write_regs(0x4B, 0x1C + 0x0D, b"\x00")  # stop
    drv.write_regs(0x4B, 0x1C, bytes([0x00, 0x00, 0x12, 0x01, 0x01, 0x30]))  # 2030-01-01 12:00
    drv.write_regs(0x4B, 0x1C + 0x0D, b"\x01")  # run
    drv.write_regs(0x4B, 0x1C + 0x0D, b"\x41")
    t = drv.read_regs(0x4B, 0x1C, 6)
    assert t == bytes([0x00, 0x00, 0x12, 0x01, 0x01, 0x30])
    assert twl.rtc_offset == calendar.timegm((2030, 1, 1, 12, 0, 0, 0, 0, 0)) - WALL


def test_reset_clears_files(bus) -> None:
    drv, twl, _ = bus
    drv.write_regs(0x48, 0x04, b"\x55")
    twl.reset()
    assert drv.read_regs(0x48, 0x04, 1) == b"\x00"
