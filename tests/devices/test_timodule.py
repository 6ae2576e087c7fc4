"""The generic TI module and the per-class offsets of omap3-notes §5.7/§5.8."""

from __future__ import annotations

import pytest

from hvd.boards.dm3730_map import SOC_DEVICES, device_by_name
from hvd.devices.timodule import CLASSES, Port, TiModule


@pytest.mark.parametrize("cls", [c for c, p in CLASSES.items() if p.sysc is not None])
def test_softreset_self_clears_and_resets(cls: str) -> None:
    p = CLASSES[cls]
    m = TiModule("m", 0x10000, cls)
    m.write(0x80, 4, 0x1234)
    m.write(p.sysc, 4, 0x0000_0308)
    assert m.read(p.sysc, 4) == 0x308
    m.write(p.sysc, 4, 0x2)  # SOFTRESET
    assert m.read(p.sysc, 4) & 2 == 0
    assert m.read(0x80, 4) == 0
    if p.syss is not None:
        assert m.read(p.syss, 4) & 1 == 1
    if p.rev is not None:
        assert m.read(p.rev, 4) == p.rev_value and p.rev_value >> 16 == 0 or cls == "sgx"


def test_offsets_from_the_notes() -> None:
    assert (CLASSES["std"].sysc, CLASSES["std"].syss) == (0x10, 0x14)
    assert (CLASSES["hdq"].sysc, CLASSES["hdq"].syss) == (0x14, 0x18)
    assert (CLASSES["otg"].sysc, CLASSES["otg"].syss) == (0x404, 0x408)
    assert (CLASSES["sha"].sysc, CLASSES["sha"].syss) == (0x60, 0x64)
    assert (CLASSES["mcbsp"].sysc, CLASSES["mcbsp"].syss) == (0x8C, None)
    assert CLASSES["smartreflex"].sysc == 0x38
    assert (CLASSES["sdma"].sysc, CLASSES["sdma"].syss) == (0x2C, 0x28)
    assert (CLASSES["aes"].rev, CLASSES["aes"].sysc, CLASSES["aes"].syss) == (0x44, 0x48, 0x4C)
    assert (CLASSES["rng"].rev, CLASSES["rng"].sysc, CLASSES["rng"].syss) == (0x3C, 0x40, 0x44)
    assert (CLASSES["sgx"].rev, CLASSES["sgx"].sysc) == (0xFE00, 0xFE10)


def test_multi_port_window_dss() -> None:
    dss = device_by_name("dss").factory(None)  # type: ignore[arg-type]
    for sysc, syss in ((0x10, 0x14), (0x410, 0x414), (0x810, 0x814)):
        assert dss.read(syss, 4) & 1
        dss.write(sysc, 4, 2)
        assert dss.read(sysc, 4) & 2 == 0
    assert dss.read(0x440, 4) & 3 == 0  # DISPC_CONTROL: LCD/TV off, no FRAMEDONE wait


def test_read_as_written_subword() -> None:
    m = TiModule("m", 0x1000, Port(None, None, None))
    m.write(0x40, 1, 0xAB)
    m.write(0x42, 2, 0x1234)
    assert m.read(0x40, 4) == 0x123400AB
    assert m.read(0x43, 1) == 0x12


def test_map_has_no_overlaps_and_names_are_unique() -> None:
    spans = sorted((s.base, s.base + s.size, s.name) for s in SOC_DEVICES)
    for (a0, a1, an), (b0, b1, bn) in zip(spans, spans[1:]):
        assert a1 <= b0, (an, bn)
    assert len({s.name for s in SOC_DEVICES}) == len(SOC_DEVICES)
    for s in SOC_DEVICES:
        assert s.base % 0x1000 == 0 and s.size % 0x1000 == 0, s.name


def test_firewall_and_sgx_windows() -> None:
    l3 = device_by_name("l3")
    assert l3.base <= 0x68012880 < l3.base + l3.size
    sgx = device_by_name("sgx").factory(None)  # type: ignore[arg-type]
    assert sgx.read(0xFE00, 4) != 0
    sgx.write(0xFE10, 4, 2)
    assert sgx.read(0xFE10, 4) == 0
