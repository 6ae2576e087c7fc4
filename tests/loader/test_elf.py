"""ELF executables assembled and linked with arm-none-eabi-as/ld, and ELFs for other machines."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import pytest

from hvd.errors import UsageError
from hvd.loader import load_guest

from .util import RAM_BASE, RAM_SIZE

PROG = """\
    .syntax unified
    .arm
    .global _start
    .text
_start:
    ldr r0, =value
    ldr r1, [r0]
    b .
    .data
value:
    .word 0x12345678
    .bss
    .space 0x3000
"""

THUMB_PROG = """\
    .syntax unified
    .thumb
    .global _start
    .text
    .thumb_func
_start:
    movs r0, #1
    b .
"""

TWO_PLACES = """\
    .syntax unified
    .arm
    .global _start
    .section .text
_start:
    b .
    .section .sram, "ax"
sram_code:
    .word 0xe1a00000, 0xeafffffe
"""

TWO_PLACES_LD = """\
ENTRY(_start)
SECTIONS {
    .text 0x80008000 : { *(.text) }
    .sram 0x40200000 : { *(.sram) }
}
"""

VIRT_LD = """\
ENTRY(_start)
SECTIONS {
    .text 0xC0008000 : AT(0x80008000) { *(.text) }
    .data : AT(0x80009000) { *(.data) }
}
"""


def load(path: Path, **kw):
    kw.setdefault("ram_base", RAM_BASE)
    kw.setdefault("ram_size", RAM_SIZE)
    return load_guest(path, **kw)


def test_arm_elf_segments_entry_and_bss(build_elf) -> None:
    elf = build_elf(PROG, ld_flags=("-Tdata", "0x80010000"))
    boot = load(elf)
    assert boot.kind == "elf" and boot.entry == RAM_BASE and not boot.thumb
    by_addr = {s.addr: s.data for s in boot.segments}
    assert RAM_BASE in by_addr
    # ldr r0, =value; ldr r1, [r0]; b . -- the first instruction is a PC-relative LDR
    assert struct.unpack_from("<I", by_addr[RAM_BASE])[0] & 0xFFFF0000 == 0xE59F0000
    data = by_addr[0x8001_0000]
    assert data[:4] == struct.pack("<I", 0x12345678)
    assert len(data) >= 4 + 0x3000 and data[4:] == bytes(len(data) - 4)  # zero-filled .bss
    assert "ELF, 2 segment(s)" in boot.description
    assert boot.regs == {} and boot.dtb_addr is None


def test_thumb_entry(build_elf) -> None:
    boot = load(build_elf(THUMB_PROG))
    assert boot.thumb and boot.entry == RAM_BASE and boot.cpsr & 0x20


def test_entry_override(build_elf) -> None:
    boot = load(build_elf(PROG), entry=RAM_BASE + 4)
    assert boot.entry == RAM_BASE + 4 and not boot.thumb


def test_segment_in_sram(build_elf) -> None:
    elf = build_elf(TWO_PLACES, script=TWO_PLACES_LD)
    boot = load(elf)
    addrs = sorted(s.addr for s in boot.segments)
    assert addrs == [0x4020_0000, 0x8000_8000] and boot.entry == 0x8000_8000
    with pytest.raises(UsageError, match="ELF segment . 0x40200000-0x40200007 is outside the VM's"):
        load(elf, extra_regions=[])


def test_paddr_used_and_virtual_entry_translated(build_elf) -> None:
    elf = build_elf(PROG, script=VIRT_LD)
    boot = load(elf)
    assert {s.addr for s in boot.segments} >= {0x8000_8000, 0x8000_9000}
    assert boot.entry == 0x8000_8000  # e_entry 0xC0008000 is inside .text, loaded at 0x80008000


def test_zero_paddr_falls_back_to_vaddr(build_elf, tmp_path: Path) -> None:
    elf = build_elf(THUMB_PROG)
    data = bytearray(elf.read_bytes())
    phoff, = struct.unpack_from("<I", data, 28)
    phentsize, phnum = struct.unpack_from("<HH", data, 42)
    for i in range(phnum):
        off = phoff + i * phentsize
        if struct.unpack_from("<I", data, off)[0] == 1:
            struct.pack_into("<I", data, off + 12, 0)  # p_paddr = 0
    patched = tmp_path / "nopaddr.elf"
    patched.write_bytes(bytes(data))
    boot = load(patched)
    assert boot.segments[0].addr == RAM_BASE and boot.thumb


def test_segment_outside_ram(build_elf) -> None:
    elf = build_elf(PROG, text=0x1000_0000)
    with pytest.raises(UsageError, match=r"ELF segment 0 0x10000000-.* is outside the VM's memory"):
        load(elf)


def test_segment_larger_than_ram(build_elf) -> None:
    big = PROG.replace(".space 0x3000", ".space 0x200000")
    elf = build_elf(big, ld_flags=("-Tdata", "0x80010000"))
    with pytest.raises(UsageError, match="larger than the VM's 1 MiB of RAM"):
        load(elf, ram_size=1 << 20)


def test_load_addr_refused_for_elf(build_elf) -> None:
    with pytest.raises(UsageError, match="--load-addr does not apply to an ELF"):
        load(build_elf(PROG), load_addr=RAM_BASE)


def test_relocatable_object_refused(build_elf) -> None:
    obj = build_elf(PROG, link=False)
    with pytest.raises(UsageError, match="relocatable object, not an executable"):
        load(obj)


def test_big_endian_arm_refused(build_elf) -> None:
    elf = build_elf(PROG, as_flags=("-EB",), ld_flags=("-EB",))
    with pytest.raises(UsageError, match="big-endian ELF"):
        load(elf)


def test_host_elf_refused() -> None:
    host = shutil.which("true") or "/bin/true"
    if Path(host).read_bytes()[:4] != b"\x7fELF":
        pytest.skip("the host's true is not an ELF file")
    with pytest.raises(UsageError) as info:
        load(Path(host))
    text = str(info.value)
    assert "ELF" in text and "32-bit ARM" in text and "\n" not in text


def test_other_machine_refused(build_elf, tmp_path: Path) -> None:
    data = bytearray(build_elf(PROG).read_bytes())
    struct.pack_into("<H", data, 18, 3)  # EM_386
    x86 = tmp_path / "x86.elf"
    x86.write_bytes(bytes(data))
    with pytest.raises(UsageError, match=r"ELF for x86 \(i386\) \(e_machine 3\)"):
        load(x86)


def test_truncated_elf_refused(build_elf, tmp_path: Path) -> None:
    data = build_elf(PROG).read_bytes()
    for cut, match in ((10, "truncated ELF file"), (40, "truncated ELF header"),
                       (60, "truncated ELF")):
        short = tmp_path / f"cut{cut}.elf"
        short.write_bytes(data[:cut])
        with pytest.raises(UsageError, match=match):
            load(short)
