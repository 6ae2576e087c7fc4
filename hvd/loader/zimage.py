"""Linux ARM zImages and the ARM Linux boot protocol (``Documentation/arch/arm/booting.rst``).

zImage header (little endian, in the first instructions' padding):

======  ==============================================================================
0x24    magic 0x016F2818
0x28    start: the address the zImage is linked at (0 for a position-independent one)
0x2C    end: start + size of the zImage proper (an appended DTB may follow)
0x30    0x04030201 for a little-endian kernel, 0x01020304 for a big-endian one
======  ==============================================================================

Boot protocol facts used here:

- The zImage must lie in the first 128 MiB of RAM (the decompressor derives the RAM base from
  its own address); above 32 MiB avoids relocating it before decompression. hvd uses
  ``ram_base + 0x0200_0000`` (U-Boot's ``kernel_addr_r`` 0x8200_0000 on this board).
- The device tree goes 8-byte (hvd: 4 KiB) aligned where the decompressor will not overwrite it and inside
  lowmem, "just above the 128 MiB boundary": ``ram_base + 0x0800_0000`` (``fdt_addr_r``), and the
  initrd after it at ``ram_base + 0x0808_0000`` (``ramdisk_addr_r``). When RAM is too small,
  both go top-down from the end of RAM, and the zImage at +32 MiB if that is free, else as high
  as possible below them; nothing may overlap.
- Registers: r0 = 0, r1 = machine type, r2 = physical address of the device tree (r1 =
  0xFFFFFFFF then) or of an ATAG list. Without a device tree hvd builds an ATAG list (CORE,
  MEM, INITRD2, CMDLINE, NONE) at ``ram_base + 0x100`` and passes machine type 1546
  (``MACH_TYPE_OMAP3_BEAGLE``).
- CPU: SVC mode, IRQ and FIQ masked, MMU and data cache off (``BootImage.cpsr``, the VM's job).
"""

from __future__ import annotations

import struct
from pathlib import Path

from construct import Const, Int32ul, Padding, Struct

from hvd.errors import UsageError
from hvd.loader import devicetree
from hvd.loader.image import BootImage, GuestMemory, Segment, align_up, hexrange, read_file
from hvd.sizes import format_size

ZIMAGE_MAGIC = 0x016F_2818
ZIMAGE_LE = 0x0403_0201
ZIMAGE_BE = 0x0102_0304

KERNEL_OFFSET = 0x0200_0000  # kernel_addr_r - ram_base
DTB_OFFSET = 0x0800_0000  # fdt_addr_r - ram_base
INITRD_OFFSET = 0x0808_0000  # ramdisk_addr_r - ram_base
ZIMAGE_WINDOW = 0x0800_0000  # the zImage must lie in the first 128 MiB of RAM
ATAGS_OFFSET = 0x100
MACH_TYPE_OMAP3_BEAGLE = 1546
DT_MACHINE = 0xFFFF_FFFF

ZImageHeader = Struct(
    Padding(0x24),
    "magic" / Const(ZIMAGE_MAGIC, Int32ul),
    "start" / Int32ul,
    "end" / Int32ul,
)

ATAG_NONE, ATAG_CORE, ATAG_MEM = 0, 0x5441_0001, 0x5441_0002
ATAG_INITRD2, ATAG_CMDLINE = 0x5442_0005, 0x5441_0009


def is_zimage(data: bytes) -> bool:
    return len(data) >= 0x30 and struct.unpack_from("<I", data, 0x24)[0] == ZIMAGE_MAGIC


def check_zimage(data: bytes, name: str) -> int:
    """Validate the header; return the address the zImage asks to be loaded at (0: anywhere)."""
    hdr = ZImageHeader.parse(data)
    if len(data) >= 0x34:
        endian = struct.unpack_from("<I", data, 0x30)[0]
        if endian == ZIMAGE_BE:
            raise UsageError(f"{name}: big-endian zImage; hvd runs little-endian kernels")
    if hdr.end <= hdr.start:
        raise UsageError(f"{name}: bad zImage header (end 0x{hdr.end:x} <= start "
                         f"0x{hdr.start:x})")
    size = hdr.end - hdr.start
    if size > len(data):
        raise UsageError(f"{name}: truncated zImage (header says {size} bytes, file has "
                         f"{len(data)})")
    return hdr.start


def build_atags(*, ram_base: int, ram_size: int, initrd_range: tuple[int, int] | None,
                cmdline: str | None) -> bytes:
    """An ATAG list (booting.rst "Setup the kernel tagged list"): sizes count 32-bit words."""
    out = struct.pack("<5I", 5, ATAG_CORE, 0, 4096, 0)  # flags, page size, root device
    out += struct.pack("<4I", 4, ATAG_MEM, ram_size, ram_base)
    if initrd_range is not None:
        start, end = initrd_range
        out += struct.pack("<4I", 4, ATAG_INITRD2, start, end - start)
    if cmdline:
        text = cmdline.encode() + b"\0"
        text += bytes(-len(text) % 4)
        out += struct.pack("<2I", 2 + len(text) // 4, ATAG_CMDLINE) + text
    return out + struct.pack("<2I", 0, ATAG_NONE)


def attach(mem: GuestMemory, *, linux: bool, dtb: Path | None, initrd: Path | None,
           append: str | None, kernel_desc: str) -> tuple[list[Segment], dict[int, int],
                                                          int | None, tuple[int, int] | None,
                                                          list[str]]:
    """Place the device tree (edited), initrd or ATAG list next to an already-claimed kernel.

    Returns (segments, regs, dtb_addr, initrd_range, description parts).
    """
    base = mem.ram_base
    segs: list[Segment] = []
    parts: list[str] = []
    regs: dict[int, int] = {}
    initrd_data = read_file(initrd, "initrd") if initrd is not None else None
    if dtb is None and append is not None and not linux:
        raise UsageError(f"--append needs --dtb for {kernel_desc} (the command line goes into "
                         f"the device tree's /chosen node)")

    dtb_blob = None
    dtb_addr = None
    if dtb is not None:
        raw = read_file(dtb, "device tree")
        placeholder = (0, 0) if initrd_data is not None else None
        dtb_blob = devicetree.prepare_dtb(raw, str(dtb), ram_base=base, ram_size=mem.ram_size,
                                          append=append, initrd_range=placeholder)
        dtb_addr = mem.place(len(dtb_blob), "device tree", align=0x1000,
                             preferred=base + DTB_OFFSET)

    initrd_range = None
    if initrd_data is not None:
        pref = base + INITRD_OFFSET
        if dtb_addr is not None:
            pref = max(pref, align_up(dtb_addr + len(dtb_blob), 0x1000))
        start = mem.place(len(initrd_data), "initrd", align=0x1000, preferred=pref)
        initrd_range = (start, start + len(initrd_data))
        segs.append(Segment(start, initrd_data))
        parts.append(f"initrd {hexrange(start, len(initrd_data))} "
                     f"({format_size(len(initrd_data))})")

    if dtb_blob is not None:
        final = devicetree.prepare_dtb(raw, str(dtb), ram_base=base, ram_size=mem.ram_size,
                                       append=append, initrd_range=initrd_range)
        assert len(final) == len(dtb_blob)
        segs.append(Segment(dtb_addr, final))
        regs = {0: 0, 1: DT_MACHINE, 2: dtb_addr}
        parts.append(f"device tree at 0x{dtb_addr:08x} ({format_size(len(final))})")
    elif linux:
        atags = build_atags(ram_base=base, ram_size=mem.ram_size, initrd_range=initrd_range,
                            cmdline=append)
        addr = base + ATAGS_OFFSET
        mem.claim(addr, len(atags), "ATAG list")
        segs.append(Segment(addr, atags))
        regs = {0: 0, 1: MACH_TYPE_OMAP3_BEAGLE, 2: addr}
        parts.append(f"no device tree: ATAG list at 0x{addr:08x}, machine type "
                     f"{MACH_TYPE_OMAP3_BEAGLE}")
    if regs:
        parts.append(f"r0=0x{regs[0]:x} r1=0x{regs[1]:x} r2=0x{regs[2]:08x}")
    return segs, regs, dtb_addr, initrd_range, parts


def place_kernel(data: bytes, name: str, mem: GuestMemory, *, fixed: int | None) -> int:
    """Claim room for a zImage: at ``fixed`` or per the protocol; return its address."""
    base = mem.ram_base
    mem.check_fits(len(data), f"{name}: zImage")
    window_end = base + ZIMAGE_WINDOW
    if fixed is not None:
        if not mem.in_ram(fixed, len(data)):
            raise UsageError(f"{name}: zImage {hexrange(fixed, len(data))} is outside the "
                             f"VM's memory ({mem.describe_ram()})")
        if fixed >= window_end:
            raise UsageError(f"{name}: a zImage must be loaded in the first 128 MiB of RAM "
                             f"(below 0x{window_end:08x}), not at 0x{fixed:08x}")
        try:
            mem.claim(fixed, len(data), "zImage")
        except UsageError as exc:
            raise UsageError(f"{name}: {exc}") from None
        return fixed
    # highest free spot (at most the preferred +32 MiB) whose start is in the first 128 MiB
    return mem.place(len(data), "zImage", align=0x1000, preferred=base + KERNEL_OFFSET,
                     lo=base + 0x8000, hi=min(mem.ram_end, window_end + len(data)))


def load_zimage(data: bytes, name: str, mem: GuestMemory, *, load_addr: int | None,
                entry: int | None, dtb: Path | None, initrd: Path | None, append: str | None,
                wrapper: str = "") -> BootImage:
    """A zImage, or (``wrapper`` set, ``load_addr`` given) a uImage's zImage payload."""
    start = check_zimage(data, name)
    fixed = load_addr if load_addr is not None else (start or None)
    if fixed is not None:
        kaddr = place_kernel(data, name, mem, fixed=fixed)
        segs, regs, dtb_addr, initrd_range, parts = attach(
            mem, linux=True, dtb=dtb, initrd=initrd, append=append, kernel_desc="a zImage")
    else:
        # device tree and initrd first (protocol addresses, or the top of a small RAM), then
        # the zImage as high as possible below them within the first 128 MiB
        segs, regs, dtb_addr, initrd_range, parts = attach(
            mem, linux=True, dtb=dtb, initrd=initrd, append=append, kernel_desc="a zImage")
        kaddr = place_kernel(data, name, mem, fixed=None)
    thumb = False
    if entry is None:
        entry = kaddr
    else:
        thumb = bool(entry & 1)
        entry &= ~1
        if not mem.contains(entry, 2):
            raise UsageError(f"entry point 0x{entry:08x} is outside the VM's memory "
                             f"({mem.describe_ram()})")
    head = wrapper or "zImage"
    desc = "; ".join([f"{head}: zImage {hexrange(kaddr, len(data))} "
                      f"({format_size(len(data))}), entry 0x{entry:08x}", *parts,
                      "start in SVC mode, IRQ/FIQ masked, MMU and caches off"])
    return BootImage(segments=[Segment(kaddr, data), *segs], entry=entry, regs=regs, thumb=thumb,
                     kind="uimage" if wrapper else "zimage", dtb_addr=dtb_addr,
                     initrd_range=initrd_range, description=desc)
