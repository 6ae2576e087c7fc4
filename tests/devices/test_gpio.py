"""GPIO banks: what gpio-omap's probe touches (omap3-notes §5.9) and the interrupt logic."""

from __future__ import annotations

from hvd.devices.base import IrqLine
from hvd.devices.gpio import Gpio


def make() -> tuple[Gpio, list[bool]]:
    levels: list[bool] = []
    line = IrqLine(29, lambda n, lvl: levels.append(lvl))
    return Gpio("gpio1", line), levels


def test_probe_registers() -> None:
    g, _ = make()
    assert g.read(0x00, 2) == 0x25
    assert g.read(0x14, 4) & 1
    g.write(0x1C, 4, 0)  # IRQENABLE1
    g.write(0x18, 4, 0xFFFFFFFF)  # IRQSTATUS1
    g.write(0x50, 4, 0)  # DEBOUNCENABLE
    assert g.read(0x34, 4) == 0xFFFFFFFF  # OE: all inputs
    g.write(0x30, 4, 0)
    assert g.read(0x30, 4) == 0


def test_outputs_set_clear_datain() -> None:
    g, _ = make()
    g.write(0x34, 4, ~0x3 & 0xFFFFFFFF)  # pins 0,1 outputs
    g.write(0x94, 4, 0x3)  # SETDATAOUT
    assert g.read(0x3C, 4) == 0x3 and g.read(0x38, 4) & 3 == 3
    g.write(0x90, 4, 0x1)  # CLEARDATAOUT
    assert g.read(0x38, 4) & 3 == 2
    g.set_input(5, True)
    assert g.read(0x38, 4) & (1 << 5)
    g.write(0x96, 2, 0x0001)  # 16-bit SETDATAOUT of the upper half: pin 16
    assert g.read(0x3C, 4) == (1 << 16) | 2


def test_rising_edge_interrupt_and_ack() -> None:
    g, levels = make()
    g.write(0x48, 4, 1 << 7)  # RISINGDETECT pin 7
    g.write(0x64, 4, 1 << 7)  # SETIRQENABLE1
    g.set_input(7, True)
    assert g.read(0x18, 4) == 1 << 7 and levels[-1] is True
    g.write(0x18, 4, 1 << 7)
    assert g.read(0x18, 4) == 0 and levels[-1] is False
    g.set_input(7, False)  # falling: not enabled
    assert g.read(0x18, 4) == 0


def test_level_interrupt_persists_until_level_changes() -> None:
    g, levels = make()
    g.write(0x44, 4, 1 << 3)  # LEVELDETECT1
    g.write(0x1C, 4, 1 << 3)
    g.set_input(3, True)
    g.write(0x18, 4, 1 << 3)
    assert g.read(0x18, 4) == 1 << 3  # still high: reasserted
    g.set_input(3, False)
    g.write(0x18, 4, 1 << 3)
    assert g.read(0x18, 4) == 0 and levels[-1] is False


def test_softreset() -> None:
    g, _ = make()
    g.write(0x34, 4, 0)
    g.write(0x10, 4, 2)
    assert g.read(0x34, 4) == 0xFFFFFFFF and g.read(0x10, 4) == 0
