"""The guest loader: turns ``--kernel`` (and ``--dtb``, ``--initrd``, ``--append``) into a
:class:`BootImage` -- memory segments, entry point and boot registers -- checked against the
VM's memory.

Detection order (first match wins):

1. ELF (``\\x7fELF``): PT_LOAD segments and e_entry (:mod:`hvd.loader.elf`).
2. U-Boot legacy uImage (magic 0x27051956, header and data CRC checked): the payload at the
   header's load address, started at its entry point (:mod:`hvd.loader.uimage`). A kernel-type
   uImage whose payload is a zImage boots as that zImage at the load address; any Linux
   kernel-type uImage gets the Linux boot protocol's registers.
3. Linux zImage (magic 0x016F2818 at offset 0x24): booted per the ARM Linux boot protocol
   (:mod:`hvd.loader.zimage`).
4. Anything else: raw bytes at ``load_addr`` (default: the base of RAM), entry ``entry``
   (default: the load address) (:mod:`hvd.loader.raw`).

``entry`` overrides the image's entry point for every kind; ``load_addr`` overrides the load
address of raw images, zImages and uImages (an ELF's addresses come from its program headers).
With ``dtb`` the device tree is edited (:mod:`hvd.loader.devicetree`) and placed for every kind,
and r0 = 0, r1 = 0xFFFFFFFF, r2 = its address; a zImage without one gets an ATAG list.
Every problem raises :class:`hvd.errors.UsageError` with one line.
"""

from __future__ import annotations

from pathlib import Path

from hvd.errors import UsageError
from hvd.loader import elf, raw, uimage, zimage
from hvd.loader.image import SRAM_REGION, BootImage, GuestMemory, Segment, hexrange, read_file

__all__ = ["BootImage", "Segment", "load_guest", "detect_kind", "SRAM_REGION"]

_DEFAULT_EXTRA = [SRAM_REGION]
_KIND_NAMES = {"elf": "an ELF file", "uimage": "a uImage", "raw": "a raw image"}


def detect_kind(data: bytes) -> str:
    """``"elf"``, ``"uimage"``, ``"zimage"`` or ``"raw"`` for the first bytes of a file."""
    if elf.is_elf(data):
        return "elf"
    if uimage.is_uimage(data):
        return "uimage"
    if zimage.is_zimage(data):
        return "zimage"
    return "raw"


def _check_addr(value: int | None, what: str) -> None:
    if value is not None and not 0 <= value <= 0xFFFF_FFFF:
        raise UsageError(f"{what} 0x{value:x} is not a 32-bit address")


def load_guest(kernel: str | Path, *, ram_base: int, ram_size: int,
               load_addr: int | None = None, entry: int | None = None,
               dtb: str | Path | None = None, initrd: str | Path | None = None,
               append: str | None = None,
               extra_regions: list[tuple[int, int]] | None = None) -> BootImage:
    """Load ``kernel`` for a VM with RAM at [ram_base, ram_base + ram_size).

    ``extra_regions`` lists further writable (base, size) regions ELF segments, raw images and
    uImages may target; default: the DM3730's 64 KiB SRAM at 0x4020_0000.
    """
    _check_addr(load_addr, "load address")
    _check_addr(entry, "entry point")
    mem = GuestMemory(ram_base, ram_size,
                      _DEFAULT_EXTRA if extra_regions is None else extra_regions)
    name = str(kernel)
    data = read_file(kernel, "kernel")
    dtb_path = Path(dtb) if dtb is not None else None
    initrd_path = Path(initrd) if initrd is not None else None
    if load_addr is not None and not mem.contains(load_addr):
        raise UsageError(f"load address 0x{load_addr:08x} is outside the VM's memory "
                         f"({mem.describe_ram()})")

    kind = detect_kind(data)
    if kind == "zimage":
        return zimage.load_zimage(data, name, mem, load_addr=load_addr, entry=entry,
                                  dtb=dtb_path, initrd=initrd_path, append=append)
    if kind == "uimage":
        hdr, payload = uimage.parse_uimage(data, name)
        load = hdr.load if load_addr is None else load_addr
        if entry is None:
            # an entry inside the payload moves with it when --load-addr relocates the payload
            inside = hdr.load <= hdr.ep < hdr.load + len(payload)
            entry = load + (hdr.ep - hdr.load) if inside else hdr.ep
        if hdr.type == uimage.TYPE_KERNEL and zimage.is_zimage(payload):
            return zimage.load_zimage(payload, name, mem, load_addr=load, entry=entry,
                                      dtb=dtb_path, initrd=initrd_path, append=append,
                                      wrapper=uimage.describe(hdr))
        boot = raw.load_raw(payload, name, mem, load_addr=load, entry=entry,
                            what="uImage payload")
        boot.kind = "uimage"
        boot.description = f"{uimage.describe(hdr)}: " + boot.description
        linux = hdr.type == uimage.TYPE_KERNEL and hdr.os == uimage.OS_LINUX
    elif kind == "elf":
        boot = elf.load_elf(data, name, mem, load_addr=load_addr, entry=entry)
        linux = False
    else:
        boot = raw.load_raw(data, name, mem, load_addr=load_addr, entry=entry)
        linux = False

    segs, regs, dtb_addr, initrd_range, parts = zimage.attach(
        mem, linux=linux, dtb=dtb_path, initrd=initrd_path, append=append,
        kernel_desc=_KIND_NAMES[kind])
    boot.segments.extend(segs)
    boot.regs.update(regs)
    boot.dtb_addr = dtb_addr
    boot.initrd_range = initrd_range
    if parts:
        boot.description = "; ".join([boot.description, *parts])
    return boot


def summary(boot: BootImage) -> str:
    """A multi-line listing of a boot image (for ``--verbose`` output and logs)."""
    lines = [f"{boot.kind}: {boot.description}"]
    for seg in boot.segments:
        lines.append(f"  {hexrange(seg.addr, len(seg.data))}  {len(seg.data)} bytes")
    return "\n".join(lines)
