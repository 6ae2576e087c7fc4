"""Device tree editing with libfdt: /chosen, the memory node, placement with every kind."""

from __future__ import annotations

from pathlib import Path

import libfdt
import pytest

from hvd.errors import UsageError
from hvd.loader import load_guest
from hvd.loader.devicetree import prepare_dtb, read_chosen

from .util import BEAGLE_DTS, RAM_BASE, RAM_SIZE, fake_zimage


def load(path: Path, **kw):
    kw.setdefault("ram_base", RAM_BASE)
    kw.setdefault("ram_size", RAM_SIZE)
    return load_guest(path, **kw)


def edit(dtb: Path, **kw) -> bytes:
    kw.setdefault("ram_base", RAM_BASE)
    kw.setdefault("ram_size", RAM_SIZE)
    return prepare_dtb(dtb.read_bytes(), str(dtb), **kw)


def test_chosen_and_memory_read_back_with_libfdt(dtc) -> None:
    out = edit(dtc(BEAGLE_DTS), append="console=ttyO2,115200n8 earlycon",
               initrd_range=(0x8808_0000, 0x8810_0000))
    fdt = libfdt.Fdt(out)
    chosen = fdt.path_offset("/chosen")
    assert fdt.getprop(chosen, "bootargs").as_str() == "console=ttyO2,115200n8 earlycon"
    assert fdt.getprop(chosen, "linux,initrd-start").as_uint32() == 0x8808_0000
    assert fdt.getprop(chosen, "linux,initrd-end").as_uint32() == 0x8810_0000
    assert fdt.getprop(chosen, "stdout-path").as_str() == "serial2:115200n8"
    mem = fdt.path_offset("/memory@80000000")
    assert fdt.getprop(mem, "reg").as_uint32_list() == [RAM_BASE, RAM_SIZE]
    assert fdt.getprop(0, "model").as_str() == "TI OMAP3 BeagleBoard xM"  # rest untouched
    assert len(out) == fdt.totalsize()


def test_creates_chosen_and_memory(dtc) -> None:
    dtb = dtc("""\
        /dts-v1/;
        / { #address-cells = <1>; #size-cells = <1>; compatible = "x"; };
    """)
    out = read_chosen(edit(dtb, append="quiet", ram_size=64 << 20))
    assert out["bootargs"] == "quiet"
    assert "stdout-path" not in out  # no serial2 alias
    assert out["memory"] == (RAM_BASE, 64 << 20)
    assert out["memory_nodes"] == ["/memory@80000000"]


def test_keeps_existing_bootargs_and_stdout_path_removes_stale_initrd(dtc) -> None:
    dtb = dtc(BEAGLE_DTS.replace("chosen { };", """chosen {
        bootargs = "from-dtb";
        stdout-path = "serial0:115200n8";
        linux,initrd-start = <0x81000000>;
        linux,initrd-end = <0x81100000>;
    };"""))
    out = read_chosen(edit(dtb))
    assert out["bootargs"] == "from-dtb" and out["stdout-path"] == "serial0:115200n8"
    assert "linux,initrd-start" not in out and "linux,initrd-end" not in out


def test_two_cell_addresses_and_extra_memory_nodes(dtc) -> None:
    dtb = dtc("""\
        /dts-v1/;
        / {
            #address-cells = <2>; #size-cells = <2>;
            memory@80000000 { device_type = "memory"; reg = <0 0x80000000 0 0x10000000>; };
            memory@90000000 { device_type = "memory"; reg = <0 0x90000000 0 0x10000000>; };
            dram { device_type = "memory"; reg = <0 0xa0000000 0 0x100000>; };
        };
    """)
    out = edit(dtb)
    fdt = libfdt.Fdt(out)
    assert fdt.getprop(fdt.path_offset("/memory@80000000"), "reg").as_uint32_list() == [
        0, RAM_BASE, 0, RAM_SIZE]
    assert read_chosen(out)["memory_nodes"] == ["/memory@80000000"]


def test_plain_memory_node(dtc) -> None:
    dtb = dtc("""\
        /dts-v1/;
        / { #address-cells = <1>; #size-cells = <1>;
            memory { device_type = "memory"; reg = <0 0>; }; };
    """)
    assert read_chosen(edit(dtb))["memory"] == (RAM_BASE, RAM_SIZE)


def test_long_bootargs(dtc) -> None:
    text = "x=" + "y" * 3000
    assert read_chosen(edit(dtc(BEAGLE_DTS), append=text))["bootargs"] == text


def test_unparsable_dtbs(tmp_path: Path, dtc) -> None:
    raw = tmp_path / "x.bin"
    raw.write_bytes(b"\x01" * 64)
    bad = tmp_path / "bad.dtb"
    bad.write_bytes(b"\xd0\x0d\xfe\xed" + b"\xff" * 60)
    good = dtc(BEAGLE_DTS).read_bytes()
    trunc = tmp_path / "trunc.dtb"
    trunc.write_bytes(good[:len(good) // 2])
    broken = bytearray(good)
    struct_off = int.from_bytes(good[8:12], "big")
    broken[struct_off:struct_off + 4] = b"\x00\x00\x00\x09"  # FDT_END where the root begins
    brk = tmp_path / "broken.dtb"
    brk.write_bytes(bytes(broken))
    middle = bytearray(good)
    at = good.index(b"chosen") - 4  # the FDT_BEGIN_NODE tag of /chosen
    middle[at:at + 4] = b"\x00\x00\x00\x07"  # no such tag
    mid = tmp_path / "middle.dtb"
    mid.write_bytes(bytes(middle))
    for path, match in ((raw, "not a device tree blob"), (bad, "unparsable device tree"),
                        (trunc, "truncated device tree blob"), (brk, "unparsable device tree"),
                        (mid, "unparsable device tree")):
        with pytest.raises(UsageError, match=match) as info:
            load(raw, dtb=path)
        assert "\n" not in str(info.value)


def test_dtb_with_elf_and_raw_sets_registers(tmp_path: Path, dtc, build_elf) -> None:
    dtb = dtc(BEAGLE_DTS)
    img = tmp_path / "prog.bin"
    img.write_bytes(b"\x01" * 64)
    boot = load(img, dtb=dtb, append="hello")
    assert boot.regs == {0: 0, 1: 0xFFFF_FFFF, 2: RAM_BASE + 0x0800_0000}
    assert boot.dtb_addr == RAM_BASE + 0x0800_0000
    blob = next(s.data for s in boot.segments if s.addr == boot.dtb_addr)
    assert read_chosen(blob)["bootargs"] == "hello"
    elf = build_elf("    .global _start\n_start: b _start\n")
    boot = load(elf, dtb=dtb)
    assert boot.kind == "elf" and boot.regs[2] == boot.dtb_addr


def test_dtb_avoids_the_image(tmp_path: Path, dtc) -> None:
    img = tmp_path / "prog.bin"
    img.write_bytes(b"\x01" * 0x10000)
    boot = load(img, dtb=dtc(BEAGLE_DTS), load_addr=RAM_BASE + 0x0800_0000,
                initrd=img, ram_size=256 << 20)
    spans = sorted((s.addr, s.addr + len(s.data)) for s in boot.segments)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
    assert boot.dtb_addr != RAM_BASE + 0x0800_0000


def test_dtb_larger_than_ram(tmp_path: Path, dtc) -> None:
    big = "\n".join(f"    n{i} {{ p = [{'00 ' * 1000}]; }};" for i in range(80))
    dtb = dtc(f"/dts-v1/;\n/ {{\n{big}\n}};\n")
    z = tmp_path / "zImage"
    z.write_bytes(fake_zimage(4096))
    with pytest.raises(UsageError, match="device tree is .*larger than the VM's 64 KiB of RAM"):
        load(z, dtb=dtb, ram_size=64 << 10)
