"""What a loader produces (:class:`BootImage`) and the guest memory it is checked against.

:class:`GuestMemory` knows where the VM has writable memory (DDR, and extra regions such as the
DM3730's 64 KiB on-chip SRAM) and which ranges the image already occupies; every segment goes
through :meth:`GuestMemory.claim`, which refuses anything outside memory or overlapping, and
:meth:`GuestMemory.place` finds room for the device tree and initrd.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from hvd.errors import UsageError
from hvd.sizes import format_size

#: The DM3730's on-chip SRAM (TRM 2.2, "L3 memory space mapping": OCM_RAM 0x4020_0000, 64 KiB).
SRAM_REGION: tuple[int, int] = (0x4020_0000, 0x1_0000)

#: CPSR for entering a guest per the ARM Linux boot protocol: SVC mode (0x13) with IRQ, FIQ
#: and asynchronous aborts masked (I, F, A); T is added for a Thumb entry point.
BOOT_CPSR = 0x1D3


@dataclass(frozen=True)
class Segment:
    """Bytes to copy into guest physical memory at ``addr`` before the vCPU starts."""

    addr: int
    data: bytes

    @property
    def end(self) -> int:
        return self.addr + len(self.data)

    def __repr__(self) -> str:
        return f"Segment(0x{self.addr:08x}..0x{self.end:08x}, {len(self.data)} bytes)"


@dataclass
class BootImage:
    """A loaded guest: memory contents and the CPU state to start it in.

    The VM copies ``segments`` into physical memory, sets ``regs`` (r0..r14 by number; absent
    registers are 0) and starts at ``entry`` (bit 0 already cleared; ``thumb`` says whether to
    start in Thumb state). The CPU state required by the ARM Linux boot protocol, which the VM
    establishes for every kind of image: SVC mode, IRQ and FIQ (and asynchronous aborts)
    masked -- ``cpsr``, with T set when ``thumb`` -- MMU off, data cache off, no DMA running.
    For a zImage (and a device tree with any image) ``regs`` is r0 = 0, r1 = machine type
    (0xFFFFFFFF with a device tree), r2 = physical address of the device tree or ATAG list.
    """

    segments: list[Segment]
    entry: int
    regs: dict[int, int] = field(default_factory=dict)
    thumb: bool = False
    kind: str = "raw"  # "elf" | "uimage" | "zimage" | "raw"
    dtb_addr: int | None = None
    initrd_range: tuple[int, int] | None = None  # [start, end) physical
    description: str = ""

    @property
    def cpsr(self) -> int:
        """The CPSR to start with (SVC, I/F/A masked, T per ``thumb``)."""
        return BOOT_CPSR | (0x20 if self.thumb else 0)

    @property
    def size(self) -> int:
        return sum(len(s.data) for s in self.segments)


def hexrange(addr: int, size: int) -> str:
    return f"0x{addr:08x}-0x{addr + size - 1:08x}" if size else f"0x{addr:08x} (empty)"


def align_up(x: int, a: int) -> int:
    return (x + a - 1) & ~(a - 1)


def align_down(x: int, a: int) -> int:
    return x & ~(a - 1)


class GuestMemory:
    """The VM's writable memory and the parts of it the boot image occupies."""

    def __init__(self, ram_base: int, ram_size: int,
                 extra_regions: list[tuple[int, int]] | None = None) -> None:
        if ram_size <= 0 or ram_base < 0 or ram_base + ram_size > 1 << 32:
            raise UsageError(f"bad RAM range base 0x{ram_base:x} size 0x{ram_size:x}")
        self.ram_base = ram_base
        self.ram_size = ram_size
        self.ram_end = ram_base + ram_size
        self.regions: list[tuple[int, int]] = [(ram_base, self.ram_end)]
        for base, size in (extra_regions or []):
            self.regions.append((base, base + size))
        self.used: list[tuple[int, int, str]] = []  # [start, end) and what

    # -- queries ----------------------------------------------------------------------------
    def describe_ram(self) -> str:
        text = f"RAM {hexrange(self.ram_base, self.ram_size)} ({format_size(self.ram_size)})"
        for start, end in self.regions[1:]:
            text += f" or {hexrange(start, end - start)}"
        return text

    def contains(self, addr: int, size: int = 1) -> bool:
        """Whether [addr, addr+size) lies inside one writable region."""
        size = max(size, 1)
        return any(lo <= addr and addr + size <= hi for lo, hi in self.regions)

    def in_ram(self, addr: int, size: int = 1) -> bool:
        size = max(size, 1)
        return self.ram_base <= addr and addr + size <= self.ram_end

    def overlap(self, addr: int, size: int) -> tuple[int, int, str] | None:
        end = addr + size
        for used in self.used:
            if addr < used[1] and used[0] < end:
                return used
        return None

    # -- claiming ---------------------------------------------------------------------------
    def check_fits(self, size: int, what: str) -> None:
        if size > self.ram_size:
            raise UsageError(f"{what} is {format_size(size)} ({size} bytes), larger than "
                             f"the VM's {format_size(self.ram_size)} of RAM")

    def claim(self, addr: int, size: int, what: str) -> None:
        """Reserve [addr, addr+size) for ``what``; refuse it outside memory or overlapping."""
        if size == 0:
            return
        if addr < 0 or addr + size > 1 << 32:
            raise UsageError(f"{what} at 0x{addr & 0xFFFFFFFF:08x} ({size} bytes) does not fit "
                             f"the 32-bit address space")
        if not self.contains(addr, size):
            raise UsageError(f"{what} {hexrange(addr, size)} is outside the VM's memory "
                             f"({self.describe_ram()})")
        clash = self.overlap(addr, size)
        if clash is not None:
            raise UsageError(f"{what} {hexrange(addr, size)} overlaps {clash[2]} "
                             f"{hexrange(clash[0], clash[1] - clash[0])}")
        self.used.append((addr, addr + size, what))

    def place(self, size: int, what: str, *, align: int, preferred: int | None = None,
              lo: int | None = None, hi: int | None = None) -> int:
        """Find room for ``size`` bytes in RAM and claim it.

        ``preferred`` is used when it is inside [lo, hi) and free; otherwise the highest free,
        aligned spot below ``hi`` (default: the top of RAM) and at or above ``lo`` (default: the
        base of RAM) is taken.
        """
        lo = self.ram_base if lo is None else max(lo, self.ram_base)
        hi = self.ram_end if hi is None else min(hi, self.ram_end)
        self.check_fits(size, what)
        if (preferred is not None and preferred % align == 0 and lo <= preferred
                and preferred + size <= hi and self.overlap(preferred, size) is None):
            self.claim(preferred, size, what)
            return preferred
        cand = align_down(hi - size, align)
        while cand >= lo:
            clash = self.overlap(cand, size)
            if clash is None:
                self.claim(cand, size, what)
                return cand
            cand = align_down(clash[0] - size, align)
        raise UsageError(f"no room for {what} ({format_size(size)}) in "
                         f"{hexrange(lo, max(hi - lo, 0))} next to the rest of the boot image; "
                         f"give the VM more memory")


#: Files larger than this are refused before reading (nothing bigger fits a 32-bit guest).
MAX_FILE = 1 << 32


def read_file(path: str | Path, what: str) -> bytes:
    """Read a regular file whole; every failure becomes one UsageError line naming the file."""
    try:
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            raise UsageError(f"{what} '{path}' is a directory, not a file")
        if not stat.S_ISREG(st.st_mode):
            raise UsageError(f"{what} '{path}' is not a regular file")
        if st.st_size > MAX_FILE:
            raise UsageError(f"{what} '{path}' is {format_size(st.st_size)}, more than a "
                             f"32-bit guest can address")
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise UsageError(f"{what} '{path}' does not exist") from None
    except PermissionError:
        raise UsageError(f"{what} '{path}' cannot be read (permission denied)") from None
    except OSError as exc:
        raise UsageError(f"{what} '{path}' cannot be read ({exc.strerror or exc})") from None
    if not data:
        raise UsageError(f"{what} '{path}' is empty")
    return data
