"""U-Boot legacy uImages built with mkimage (u-boot-tools) and with hvd's own builder."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from hvd.errors import UsageError
from hvd.loader import load_guest
from hvd.loader import uimage as ui

from .util import BEAGLE_DTS, RAM_BASE, RAM_SIZE, fake_zimage, need, run

PAYLOAD = bytes(range(256)) * 16 + b"tail"


def load(path: Path, **kw):
    kw.setdefault("ram_base", RAM_BASE)
    kw.setdefault("ram_size", RAM_SIZE)
    return load_guest(path, **kw)


def mkimage(tmp_path: Path, payload: bytes, *args: str, name: str = "img") -> Path:
    need("mkimage")
    src = tmp_path / f"{name}.payload"
    src.write_bytes(payload)
    out = tmp_path / f"{name}.uimg"
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
    run("mkimage", *args, "-d", src, out, env=env)
    return out


def test_mkimage_standalone(tmp_path: Path) -> None:
    img = mkimage(tmp_path, PAYLOAD, "-A", "arm", "-O", "u-boot", "-T", "standalone", "-C", "none",
                  "-a", "0x80100000", "-e", "0x80100010", "-n", "hello")
    boot = load(img)
    assert boot.kind == "uimage"
    assert [(s.addr, s.data) for s in boot.segments] == [(0x8010_0000, PAYLOAD)]
    assert boot.entry == 0x8010_0010 and not boot.thumb and boot.regs == {}
    assert "uImage 'hello'" in boot.description


def test_own_builder_matches_mkimage(tmp_path: Path) -> None:
    img = mkimage(tmp_path, PAYLOAD, "-A", "arm", "-O", "linux", "-T", "kernel", "-C", "none",
                  "-a", "0x80008000", "-e", "0x80008000", "-n", "Linux-test")
    ours = ui.build_uimage(PAYLOAD, load=0x8000_8000, entry=0x8000_8000, name="Linux-test",
                           timestamp=1700000000)
    assert ours == img.read_bytes()


def test_own_builder_roundtrip_and_load_addr_override(tmp_path: Path) -> None:
    img = tmp_path / "k.uimg"
    img.write_bytes(ui.build_uimage(PAYLOAD, load=0x8000_8000, entry=0x8000_8040,
                                    image_type=ui.TYPE_STANDALONE, os=ui.OS_U_BOOT))
    boot = load(img, load_addr=0x8100_0000)
    assert boot.segments[0].addr == 0x8100_0000 and boot.entry == 0x8100_0040
    boot = load(img, entry=0x8000_8001)
    assert boot.entry == 0x8000_8000 and boot.thumb


def test_linux_kernel_uimage_with_zimage_payload(tmp_path: Path, dtc) -> None:
    z = fake_zimage(96 << 10)
    img = mkimage(tmp_path, z, "-A", "arm", "-O", "linux", "-T", "kernel", "-C", "none",
                  "-a", "0x80008000", "-e", "0x80008000", "-n", "Linux")
    dtb = dtc(BEAGLE_DTS)
    boot = load(img, dtb=dtb, append="console=ttyO2,115200n8")
    assert boot.kind == "uimage"
    assert boot.segments[0].addr == 0x8000_8000 and boot.segments[0].data == z
    assert boot.entry == 0x8000_8000
    assert boot.regs == {0: 0, 1: 0xFFFF_FFFF, 2: RAM_BASE + 0x0800_0000}
    assert boot.dtb_addr == RAM_BASE + 0x0800_0000
    assert "zImage 0x80008000" in boot.description


def test_linux_kernel_uimage_without_zimage_gets_linux_registers(tmp_path: Path, dtc) -> None:
    img = tmp_path / "Image.uimg"
    img.write_bytes(ui.build_uimage(PAYLOAD, load=0x8000_8000, entry=0x8000_8000))
    boot = load(img)  # no device tree: an ATAG list, machine type BeagleBoard
    assert boot.regs[0] == 0 and boot.regs[1] == 1546 and boot.regs[2] == RAM_BASE + 0x100
    boot = load(img, dtb=dtc(BEAGLE_DTS))
    assert boot.regs == {0: 0, 1: 0xFFFF_FFFF, 2: boot.dtb_addr}


def _corrupt(tmp_path: Path, offset: int) -> Path:
    data = bytearray(ui.build_uimage(PAYLOAD, load=0x8000_8000, entry=0x8000_8000))
    data[offset] ^= 0x40
    out = tmp_path / f"bad{offset}.uimg"
    out.write_bytes(bytes(data))
    return out


def test_bad_header_crc(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="bad uImage header CRC"):
        load(_corrupt(tmp_path, 0x20))  # a letter of the name
    with pytest.raises(UsageError, match="bad uImage header CRC"):
        load(_corrupt(tmp_path, 0x05))  # the stored CRC itself


def test_bad_data_crc(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="bad uImage data CRC"):
        load(_corrupt(tmp_path, 64 + 100))


def test_bad_data_crc_from_mkimage(tmp_path: Path) -> None:
    img = mkimage(tmp_path, PAYLOAD, "-A", "arm", "-O", "linux", "-T", "kernel", "-C", "none",
                  "-a", "0x80008000", "-e", "0x80008000")
    data = bytearray(img.read_bytes())
    data[-1] ^= 1
    img.write_bytes(bytes(data))
    with pytest.raises(UsageError, match="bad uImage data CRC"):
        load(img)


def test_truncated(tmp_path: Path) -> None:
    data = ui.build_uimage(PAYLOAD, load=0x8000_8000, entry=0x8000_8000)
    short = tmp_path / "short.uimg"
    short.write_bytes(data[:-10])
    with pytest.raises(UsageError, match="truncated uImage"):
        load(short)
    short.write_bytes(data[:40])
    with pytest.raises(UsageError, match="truncated uImage header"):
        load(short)


@pytest.mark.parametrize("arch,name", [("arm64", "ARM64"), ("x86", "x86"), ("mips", "MIPS"),
                                       ("riscv", "RISC-V")])
def test_other_architectures_refused(tmp_path: Path, arch: str, name: str) -> None:
    img = mkimage(tmp_path, PAYLOAD, "-A", arch, "-O", "linux", "-T", "kernel", "-C", "none",
                  "-a", "0x80008000", "-e", "0x80008000")
    with pytest.raises(UsageError, match=f"uImage for {name} "):
        load(img)


@pytest.mark.parametrize("comp", ["gzip", "bzip2", "lzma", "lzo", "lz4"])
def test_compressed_refused(tmp_path: Path, comp: str) -> None:
    img = mkimage(tmp_path, PAYLOAD, "-A", "arm", "-O", "linux", "-T", "kernel", "-C", comp,
                  "-a", "0x80008000", "-e", "0x80008000")
    with pytest.raises(UsageError, match=f"{comp}-compressed uImage; hvd loads uncompressed"):
        load(img)


@pytest.mark.parametrize("kind,name", [("ramdisk", "ramdisk"), ("multi", "multi-file"),
                                       ("script", "script")])
def test_other_types_refused(tmp_path: Path, kind: str, name: str) -> None:
    img = mkimage(tmp_path, PAYLOAD, "-A", "arm", "-O", "linux", "-T", kind, "-C", "none",
                  "-a", "0x80008000", "-e", "0x80008000")
    with pytest.raises(UsageError, match=f"uImage of type {name}"):
        load(img)


def test_load_address_outside_ram(tmp_path: Path) -> None:
    img = mkimage(tmp_path, PAYLOAD, "-A", "arm", "-O", "u-boot", "-T", "firmware", "-C", "none",
                  "-a", "0x10000000", "-e", "0x10000000")
    with pytest.raises(UsageError, match="uImage payload 0x10000000-.* is outside the VM's memory"):
        load(img)


def test_payload_larger_than_ram(tmp_path: Path) -> None:
    img = tmp_path / "huge.uimg"
    img.write_bytes(ui.build_uimage(bytes(3 << 20), load=0x8000_0000, entry=0x8000_0000,
                                    image_type=ui.TYPE_STANDALONE))
    with pytest.raises(UsageError, match="larger than the VM's 2 MiB of RAM"):
        load(img, ram_size=2 << 20)


def test_header_fields_parse() -> None:
    data = ui.build_uimage(b"x" * 10, load=0x1234, entry=0x5678, name="n", timestamp=42)
    hdr = ui.UImageHeader.parse(data[:64])
    assert (hdr.magic, hdr.size, hdr.load, hdr.ep, hdr.time, hdr.name) == (
        0x27051956, 10, 0x1234, 0x5678, 42, "n")
    assert struct.unpack(">I", data[4:8])[0] == ui.header_crc(data)
