"""zImages booted per the ARM Linux boot protocol: placement, registers, ATAGs, small RAM."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from hvd.errors import UsageError
from hvd.loader import load_guest
from hvd.loader.devicetree import read_chosen

from .util import BEAGLE_DTS, RAM_BASE, RAM_SIZE, fake_zimage


def load(path: Path, **kw):
    kw.setdefault("ram_base", RAM_BASE)
    kw.setdefault("ram_size", RAM_SIZE)
    return load_guest(path, **kw)


@pytest.fixture
def zimg(tmp_path: Path) -> Path:
    p = tmp_path / "zImage"
    p.write_bytes(fake_zimage(256 << 10))
    return p


@pytest.fixture
def initrd(tmp_path: Path) -> Path:
    p = tmp_path / "initrd.cpio"
    p.write_bytes(b"070701" + bytes(range(256)) * 400)
    return p


def non_overlapping(boot) -> None:
    spans = sorted((s.addr, s.addr + len(s.data)) for s in boot.segments)
    for (a0, a1), (b0, _) in zip(spans, spans[1:]):
        assert a1 <= b0, f"overlap {a0:#x}-{a1:#x} / {b0:#x}"


def test_protocol_addresses(zimg: Path, initrd: Path, dtc) -> None:
    boot = load(zimg, dtb=dtc(BEAGLE_DTS), initrd=initrd, append="console=ttyO2,115200n8")
    assert boot.kind == "zimage" and not boot.thumb
    assert boot.entry == 0x8200_0000 and boot.segments[0].addr == 0x8200_0000
    assert boot.segments[0].data == zimg.read_bytes()
    assert boot.dtb_addr == 0x8800_0000
    size = initrd.stat().st_size
    assert boot.initrd_range == (0x8808_0000, 0x8808_0000 + size)
    assert boot.regs == {0: 0, 1: 0xFFFF_FFFF, 2: 0x8800_0000}
    assert boot.cpsr == 0x1D3  # SVC, IRQ/FIQ masked
    non_overlapping(boot)
    blob = next(s.data for s in boot.segments if s.addr == boot.dtb_addr)
    chosen = read_chosen(blob)
    assert chosen["linux,initrd-start"] == 0x8808_0000
    assert chosen["linux,initrd-end"] == 0x8808_0000 + size
    assert chosen["bootargs"] == "console=ttyO2,115200n8"
    assert chosen["memory"] == (RAM_BASE, RAM_SIZE)
    assert "SVC mode" in boot.description


@pytest.mark.parametrize("ram_mib", [40, 64, 100, 130])
def test_small_ram_places_dtb_and_initrd_below_the_top(zimg: Path, initrd: Path, dtc,
                                                       ram_mib: int) -> None:
    ram = ram_mib << 20
    boot = load(zimg, dtb=dtc(BEAGLE_DTS), initrd=initrd, ram_size=ram)
    non_overlapping(boot)
    end = RAM_BASE + ram
    assert all(RAM_BASE <= s.addr and s.addr + len(s.data) <= end for s in boot.segments)
    kernel = boot.segments[0].addr
    assert kernel == RAM_BASE + 0x0200_0000  # 32 MiB is free in all of these
    assert boot.dtb_addr % 8 == 0 and boot.initrd_range[0] % 4096 == 0
    assert boot.dtb_addr > kernel and boot.initrd_range[0] > kernel
    blob = next(s.data for s in boot.segments if s.addr == boot.dtb_addr)
    assert read_chosen(blob)["memory"] == (RAM_BASE, ram)
    assert read_chosen(blob)["linux,initrd-start"] == boot.initrd_range[0]


def test_tiny_ram_moves_the_kernel_down(tmp_path: Path, dtc) -> None:
    z = tmp_path / "zImage"
    z.write_bytes(fake_zimage(1 << 20))
    boot = load(z, dtb=dtc(BEAGLE_DTS), ram_size=16 << 20)
    non_overlapping(boot)
    assert RAM_BASE + 0x8000 <= boot.segments[0].addr < RAM_BASE + (16 << 20)
    assert boot.dtb_addr > boot.segments[0].addr


def test_no_room(tmp_path: Path, initrd: Path) -> None:
    z = tmp_path / "zImage"
    z.write_bytes(fake_zimage(3 << 20))
    big = tmp_path / "big.initrd"
    big.write_bytes(bytes(3 << 20))
    with pytest.raises(UsageError, match="no room for zImage"):
        load(z, initrd=big, ram_size=5 << 20)


def test_without_dtb_uses_atags(zimg: Path, initrd: Path) -> None:
    boot = load(zimg, initrd=initrd, append="console=ttyO2 root=/dev/ram0")
    assert boot.regs == {0: 0, 1: 1546, 2: RAM_BASE + 0x100} and boot.dtb_addr is None
    atags = next(s.data for s in boot.segments if s.addr == RAM_BASE + 0x100)
    tags, off = {}, 0
    while True:
        size, tag = struct.unpack_from("<II", atags, off)
        if tag == 0:
            break
        tags[tag] = atags[off + 8:off + 4 * size]
        off += 4 * size
    assert struct.unpack("<II", tags[0x54410002]) == (RAM_SIZE, RAM_BASE)  # ATAG_MEM
    start, size = struct.unpack("<II", tags[0x54420005])  # ATAG_INITRD2
    assert (start, start + size) == boot.initrd_range
    assert tags[0x54410009].rstrip(b"\0") == b"console=ttyO2 root=/dev/ram0"  # ATAG_CMDLINE
    assert 0x54410001 in tags  # ATAG_CORE


def test_load_addr_and_entry(zimg: Path) -> None:
    boot = load(zimg, load_addr=0x8100_0000)
    assert boot.segments[0].addr == 0x8100_0000 and boot.entry == 0x8100_0000
    boot = load(zimg, entry=0x8200_0040)
    assert boot.entry == 0x8200_0040


def test_load_addr_beyond_first_128mib(zimg: Path) -> None:
    with pytest.raises(UsageError, match="first 128 MiB of RAM"):
        load(zimg, load_addr=0x8900_0000)


def test_linked_start_address_is_honoured(tmp_path: Path) -> None:
    z = tmp_path / "zImage"
    z.write_bytes(fake_zimage(64 << 10, start=0x8000_8000))
    assert load(z).segments[0].addr == 0x8000_8000


def test_bad_headers(tmp_path: Path) -> None:
    z = tmp_path / "zImage"
    z.write_bytes(fake_zimage(64 << 10, endian=0x01020304))
    with pytest.raises(UsageError, match="big-endian zImage"):
        load(z)
    z.write_bytes(fake_zimage(64 << 10, declared=128 << 10))
    with pytest.raises(UsageError, match="truncated zImage"):
        load(z)
    z.write_bytes(fake_zimage(64 << 10, declared=0))
    with pytest.raises(UsageError, match="bad zImage header"):
        load(z)


def test_zimage_larger_than_ram(tmp_path: Path) -> None:
    z = tmp_path / "zImage"
    z.write_bytes(fake_zimage(3 << 20))
    with pytest.raises(UsageError, match="larger than the VM's 2 MiB of RAM"):
        load(z, ram_size=2 << 20)
