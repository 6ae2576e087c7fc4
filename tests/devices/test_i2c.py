"""The I2C controller, driven the way Linux's i2c-omap drives it (omap3-notes §5.9)."""

from __future__ import annotations

import pytest

from hvd.devices.i2c import I2cController
from hvd.devices.twl4030 import Twl4030

from .i2c_omap_driver import ARDY, BB, BF, NACK, OmapI2cDriver


class Recorder:
    """A slave that records the bus events and serves bytes from a counter."""

    def __init__(self, nack_after: int | None = None) -> None:
        self.events: list[tuple] = []
        self.next = 0x10
        self.nack_after = nack_after
        self.written = 0

    def start(self, read: bool) -> bool:
        self.events.append(("start", read))
        return True

    def write_byte(self, b: int) -> bool:
        self.events.append(("w", b))
        self.written += 1
        return self.nack_after is None or self.written <= self.nack_after

    def read_byte(self) -> int:
        self.next += 1
        self.events.append(("r", self.next))
        return self.next

    def stop(self) -> None:
        self.events.append(("stop",))


@pytest.fixture
def drv() -> OmapI2cDriver:
    d = OmapI2cDriver()
    d.probe()
    return d


def test_probe_values() -> None:
    c = I2cController("i2c1")
    assert c.read(0x00, 2) == 0x40
    assert c.read(0x04, 2) & 0xC000 == 0
    assert (c.read(0x40, 2) >> 14) & 3 == 0
    c.write(0x20, 2, 2)
    c.write(0x24, 2, 0x8000)
    assert c.read(0x10, 2) & 1
    assert c.read(0x08, 2) & BF  # bus free reported after enable
    assert c.read(0x3C, 2) & ((1 << 8) | (1 << 6)) == (1 << 8) | (1 << 6)


def test_reset_then_first_transfer_sees_bf(drv: OmapI2cDriver) -> None:
    drv.reset()
    drv.init()
    assert not drv.bb_valid
    slave = Recorder()
    drv.dev.attach(0x50, slave)
    assert drv.write_regs(0x50, 0x01, b"\x02") == 1
    assert drv.bb_valid


def test_absent_slave_nack_with_ardy(drv: OmapI2cDriver) -> None:
    assert drv.write_regs(0x42, 0x00, b"\x00") == -121
    assert drv.irq_count == 1  # one interrupt completes it: no 1 s timeout
    assert not drv.r(0x08) & BB
    assert drv.read_regs(0x42, 0x00, 2) == -121


def test_write_goes_through_fifo_threshold(drv: OmapI2cDriver) -> None:
    slave = Recorder()
    drv.dev.attach(0x50, slave)
    payload = bytes(range(1, 11))  # 11 bytes with the register: XRDY x2, then XDR
    assert drv.write_regs(0x50, 0x20, payload) == 1
    assert slave.events == [("start", False), ("w", 0x20)] + [("w", b) for b in payload] + [
        ("stop",)]
    assert not drv.r(0x08) & BB


@pytest.mark.parametrize("n", [1, 2, 4, 5, 9, 17])
def test_read_with_repeated_start(drv: OmapI2cDriver, n: int) -> None:
    slave = Recorder()
    drv.dev.attach(0x51, slave)
    data = drv.read_regs(0x51, 0x07, n)
    assert data == bytes(range(0x11, 0x11 + n))
    assert slave.events[:3] == [("start", False), ("w", 0x07), ("start", True)]
    assert slave.events[-1] == ("stop",)
    assert sum(1 for e in slave.events if e[0] == "stop") == 1
    assert not drv.r(0x08) & (BB | ARDY)


def test_data_nack_ends_transfer(drv: OmapI2cDriver) -> None:
    slave = Recorder(nack_after=1)
    drv.dev.attach(0x52, slave)
    assert drv.write_regs(0x52, 0x00, b"\x01\x02\x03") == -121
    assert slave.events[-1] == ("stop",)
    assert not drv.r(0x08) & BB


def test_irq_line_follows_stat_and_ie() -> None:
    d = OmapI2cDriver()
    d.probe()
    d.w(0x2C, 0x33)
    d.w(0x18, 1)
    d.w(0x24, 0x8000 | 0x400 | 0x200 | 0x2 | 0x1)  # write to absent slave
    assert d.irq_level
    assert d.r(0x08) & (NACK | ARDY) == NACK | ARDY
    d.w(0x08, NACK | ARDY)
    assert not d.irq_level


def test_twl_idcode_through_the_controller(drv: OmapI2cDriver) -> None:
    """twl_read_idcode_register(): unlock, read 4 bytes of INTBR IDCODE, relock."""
    twl = Twl4030()
    twl.attach_to(drv.dev)
    assert drv.write_regs(0x49, 0x85 + 0x12, b"\x49") == 1
    idcode = drv.read_regs(0x49, 0x85, 4)
    assert isinstance(idcode, bytes)
    assert int.from_bytes(idcode, "little") == 0x3009002F
    assert drv.write_regs(0x49, 0x97, b"\x00") == 1
    assert drv.read_regs(0x49, 0x85, 4) == b"\0\0\0\0"  # locked again


def test_softreset_clears_state(drv: OmapI2cDriver) -> None:
    drv.w(0x18, 5)
    drv.w(0x20, 2)
    assert drv.r(0x24) == 0 and drv.r(0x18) == 0 and drv.r(0x04) == 0
