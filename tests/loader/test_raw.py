"""Raw images, file errors and addresses outside RAM."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hvd.errors import UsageError
from hvd.loader import BootImage, load_guest

from .util import RAM_BASE, RAM_SIZE


def load(path: Path | str, **kw) -> BootImage:
    kw.setdefault("ram_base", RAM_BASE)
    kw.setdefault("ram_size", RAM_SIZE)
    return load_guest(path, **kw)


def refused(path: Path | str, match: str, **kw) -> str:
    with pytest.raises(UsageError, match=match) as info:
        load(path, **kw)
    text = str(info.value)
    assert "\n" not in text and info.value.status == 2
    return text


def test_raw_defaults_to_base_of_ram(tmp_path: Path) -> None:
    img = tmp_path / "prog.bin"
    img.write_bytes(bytes(range(256)) * 4)
    boot = load(img)
    assert boot.kind == "raw" and boot.entry == RAM_BASE and not boot.thumb
    assert [(s.addr, s.data) for s in boot.segments] == [(RAM_BASE, img.read_bytes())]
    assert boot.regs == {} and boot.dtb_addr is None and boot.initrd_range is None
    assert boot.cpsr == 0x1D3
    assert "raw image 0x80000000-0x800003ff" in boot.description


def test_raw_load_addr_and_thumb_entry(tmp_path: Path) -> None:
    img = tmp_path / "prog.bin"
    img.write_bytes(b"\x00\xbf" * 64)
    boot = load(img, load_addr=0x8010_0000, entry=0x8010_0011)
    assert boot.segments[0].addr == 0x8010_0000
    assert boot.entry == 0x8010_0010 and boot.thumb and boot.cpsr == 0x1F3


def test_raw_in_sram_and_custom_regions(tmp_path: Path) -> None:
    img = tmp_path / "prog.bin"
    img.write_bytes(b"\x01" * 0x1000)
    assert load(img, load_addr=0x4020_0000).segments[0].addr == 0x4020_0000
    refused(img, "outside the VM's memory", load_addr=0x4020_F800)  # runs off the SRAM's end
    refused(img, "load address 0x40200000 is outside", load_addr=0x4020_0000, extra_regions=[])


@pytest.mark.parametrize("addr", [0x0, 0x7FFF_F000, 0xA000_0000, 0xFFFF_FFF0])
def test_load_addr_outside_ram(tmp_path: Path, addr: int) -> None:
    img = tmp_path / "prog.bin"
    img.write_bytes(b"\x01" * 64)
    refused(img, "outside the VM's memory", load_addr=addr)


def test_image_running_off_the_end_of_ram(tmp_path: Path) -> None:
    img = tmp_path / "prog.bin"
    img.write_bytes(b"\x01" * 0x2000)
    text = refused(img, "outside", load_addr=RAM_BASE + RAM_SIZE - 0x1000)
    assert "0x9ffff000-0xa0000fff" in text


def test_image_larger_than_ram(tmp_path: Path) -> None:
    img = tmp_path / "big.bin"
    with open(img, "wb") as f:
        f.truncate((1 << 20) + 1)  # sparse
    text = refused(img, "larger than the VM's 1 MiB of RAM", ram_size=1 << 20)
    assert "1048577 bytes" in text


def test_entry_outside_ram(tmp_path: Path) -> None:
    img = tmp_path / "prog.bin"
    img.write_bytes(b"\x01" * 64)
    refused(img, "entry point 0x00001000 is outside", entry=0x1000)
    refused(img, "not a 32-bit address", entry=1 << 32)
    refused(img, "not a 32-bit address", load_addr=-4)


def test_file_errors(tmp_path: Path) -> None:
    refused(tmp_path / "missing.bin", r"kernel '.*missing.bin' does not exist")
    refused(tmp_path, "is a directory")
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    refused(empty, "is empty")
    refused("/dev/null", "not a regular file")
    img = tmp_path / "prog.bin"
    img.write_bytes(b"\x01" * 64)
    refused(img, r"initrd '.*nope' does not exist", initrd=tmp_path / "nope")
    refused(img, r"device tree '.*nope.dtb' does not exist", dtb=tmp_path / "nope.dtb")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path: Path) -> None:
    img = tmp_path / "secret.bin"
    img.write_bytes(b"\x01" * 64)
    img.chmod(0)
    refused(img, "permission denied")


def test_append_without_dtb_is_refused_for_bare_metal(tmp_path: Path) -> None:
    img = tmp_path / "prog.bin"
    img.write_bytes(b"\x01" * 64)
    refused(img, "--append needs --dtb", append="console=ttyO2")


def test_initrd_without_dtb_is_placed(tmp_path: Path) -> None:
    img = tmp_path / "prog.bin"
    img.write_bytes(b"\x01" * 64)
    rd = tmp_path / "initrd"
    rd.write_bytes(b"\x07" * 5000)
    boot = load(img, initrd=rd)
    assert boot.initrd_range == (RAM_BASE + 0x0808_0000, RAM_BASE + 0x0808_0000 + 5000)
    assert boot.regs == {}
