"""The physical address space of a board: RAM regions and MMIO windows dispatching to devices.

Every MMIO window of the SoC is mapped whole. Inside a window, an access goes to the device whose
register range covers it; where no model claims the address the access reads as zero, writes are
ignored and the first access to each such register is logged (``hvd.bus`` at DEBUG). An address
outside every region is not mapped in Unicorn at all: the monitor (shadow mode) or the vCPU
(native mode) turns an access there into a synchronous external abort in the guest.
"""

from __future__ import annotations

import ctypes
import logging
import mmap
from dataclasses import dataclass, field
from typing import Callable

from unicorn import UC_PROT_ALL, UC_PROT_EXEC, UC_PROT_READ, Uc
from unicorn.unicorn_py3.unicorn import MMIO_READ_CFUNC, MMIO_WRITE_CFUNC, uclib

from hvd.devices.base import Device, FastMmio

log = logging.getLogger("hvd.bus")

PAGE_SHIFT = 12


@dataclass
class RamRegion:
    name: str
    base: int
    size: int
    readonly: bool = False
    #: host memory backing the region (shared with Unicorn through mem_map_ptr)
    mem: mmap.mmap | None = None

    @property
    def end(self) -> int:
        return self.base + self.size


@dataclass
class MmioWindow:
    name: str
    base: int
    size: int
    #: page number -> list of (start, end, device) with absolute physical addresses
    pages: dict[int, list[tuple[int, int, Device]]] = field(default_factory=dict)
    unclaimed_seen: set[int] = field(default_factory=set)

    @property
    def end(self) -> int:
        return self.base + self.size


class Bus:
    """RAM regions plus MMIO windows; maps itself into a Unicorn instance."""

    def __init__(self) -> None:
        self.ram: list[RamRegion] = []
        self.windows: list[MmioWindow] = []
        self.devices: list[tuple[int, Device]] = []
        self._uc: Uc | None = None
        #: set by the VM: called with the exception when a device model raises
        self.on_device_error: Callable[[Device, BaseException], None] | None = None
        self.mmio_reads = 0
        self.mmio_writes = 0
        #: devices whose reads are (partly) answered in C: see :meth:`map_into`
        self._fast: list[tuple[FastMmio, object, object]] = []  # with the ctypes callbacks
        # Replay guard. Unicorn checks for a stop request after every load/store and, when it
        # finds one, leaves with PC still at that instruction: the instruction runs again on
        # resume. For RAM that is harmless; for a device register it would read or write twice
        # (a UART character printed twice or lost). The vCPU sets ``stop_requested`` before it
        # asks Unicorn to stop; an MMIO access that sees it is recorded in ``replay`` and, when
        # the instruction runs again, that one access is answered from the record instead.
        self.stop_requested = False
        #: set by the vCPU's alarm: stop at the next device access (see VCpu._alarm_main)
        self.stop_wanted = False
        self.replay: tuple[int, int, bool, int] | None = None
        self.filter_replay: tuple[int, int, bool, int] | None = None
        self.replays_filtered = 0
        #: set by write_phys: host-side writes bypass Unicorn's self-modifying-code tracking, so
        #: whoever wrote (debugger, loader) must drop translated blocks before the guest runs on
        self.code_written = False

    # -- building -----------------------------------------------------------------------------
    def add_ram(self, name: str, base: int, size: int, readonly: bool = False) -> RamRegion:
        r = RamRegion(name, base, size, readonly)
        self.ram.append(r)
        return r

    def add_window(self, name: str, base: int, size: int) -> MmioWindow:
        w = MmioWindow(name, base, size)
        self.windows.append(w)
        return w

    def window_of(self, pa: int) -> MmioWindow | None:
        for w in self.windows:
            if w.base <= pa < w.end:
                return w
        return None

    def attach(self, base: int, device: Device, size: int | None = None) -> Device:
        size = device.size if size is None else size
        w = self.window_of(base)
        if w is None or base + size > w.end:
            raise ValueError(f"{device.name} at 0x{base:08x} is outside every MMIO window")
        for page in range(base >> PAGE_SHIFT, (base + size - 1 >> PAGE_SHIFT) + 1):
            entries = w.pages.setdefault(page, [])
            for s, e, other in entries:
                if s < base + size and base < e:
                    raise ValueError(f"{device.name} overlaps {other.name} at 0x{base:08x}")
            entries.append((base, base + size, device))
        self.devices.append((base, device))
        return device

    # -- queries ------------------------------------------------------------------------------
    def region_kind(self, pa: int) -> str | None:
        """'ram', 'rom', 'mmio' or None (nothing there: external abort)."""
        for r in self.ram:
            if r.base <= pa < r.end:
                return "rom" if r.readonly else "ram"
        if self.window_of(pa) is not None:
            return "mmio"
        return None

    def ram_word_reader(self):
        """A fast ``read32(pa) -> int | None`` over the RAM regions (None outside RAM)."""
        import struct

        unpack = struct.Struct("<I").unpack_from
        regions = [(r.base, r.end - 4, r) for r in self.ram]

        def read32(pa: int) -> int | None:
            for base, last, r in regions:
                if base <= pa <= last:
                    return unpack(r.mem, pa - base)[0]
            return None

        return read32

    def ram_region(self, pa: int) -> RamRegion | None:
        for r in self.ram:
            if r.base <= pa < r.end:
                return r
        return None

    # -- Unicorn ------------------------------------------------------------------------------
    def map_into(self, uc: Uc) -> None:
        self._uc = uc
        for r in self.ram:
            # Host memory owned here and lent to Unicorn: the monitor reads guest tables
            # straight from it (struct.unpack_from) instead of calling uc.mem_read.
            r.mem = mmap.mmap(-1, r.size)
            ptr = ctypes.addressof(ctypes.c_char.from_buffer(r.mem))
            uc.mem_map_ptr(r.base, r.size, (UC_PROT_READ | UC_PROT_EXEC) if r.readonly else UC_PROT_ALL, ptr)
        for w in self.windows:
            # A device with a C read callback gets its own Unicorn region; the rest of the
            # window stays one region dispatched in Python.
            fast = sorted((base, dev, fm) for base, dev in self.devices
                          if w.base <= base < w.end and (fm := dev.fast_mmio()) is not None)
            start = w.base
            for base, dev, fm in fast:
                if base > start:
                    uc.mmio_map(start, base - start, self._make_read(w, start), None,
                                self._make_write(w, start), None)
                self._map_fast(uc, w, base, dev, fm)
                start = base + dev.size
            if start < w.end:
                uc.mmio_map(start, w.end - start, self._make_read(w, start), None,
                            self._make_write(w, start), None)

    def _map_fast(self, uc: Uc, w: MmioWindow, base: int, dev: Device, fm: FastMmio) -> None:
        read = self._make_read(w, base)
        write = self._make_write(w, base)
        read_cb = MMIO_READ_CFUNC(lambda _uch, off, size, _ud: read(uc, off, size, None))
        write_cb = MMIO_WRITE_CFUNC(lambda _uch, off, size, value, _ud:
                                    write(uc, off, size, value, None))
        fm.set_fallback(read_cb)
        err = uclib.uc_mmio_map(uc._uch, base, dev.size, fm.read_fn, fm.user_data, write_cb, 0)
        if err:
            raise RuntimeError(f"uc_mmio_map({dev.name}) failed: {err}")
        self._fast.append((fm, read_cb, write_cb))

    @property
    def fast_mmio_reads(self) -> int:
        """Device reads answered in C (not counted in :attr:`mmio_reads`)."""
        return sum(fm.reads() for fm, _r, _w in self._fast)

    def _find(self, w: MmioWindow, pa: int) -> Device | None:
        entries = w.pages.get(pa >> PAGE_SHIFT)
        if entries:
            for s, e, dev in entries:
                if s <= pa < e:
                    return dev
        return None

    def _make_read(self, w: MmioWindow, base: int):
        pages = w.pages

        def read(uc: Uc, offset: int, size: int, _ud: object) -> int:
            pa = base + offset
            f = self.filter_replay
            if f is not None:
                self.filter_replay = None
                if f[0] == pa and f[1] == size and not f[2]:
                    self.replays_filtered += 1
                    return f[3]
            self.mmio_reads += 1
            value = 0
            entries = pages.get(pa >> PAGE_SHIFT)
            if entries:
                for s, e, dev in entries:
                    if s <= pa < e:
                        try:
                            value = dev.read(pa - s, size) & ((1 << (size * 8)) - 1)
                        except Exception as exc:  # a model bug must not kill the daemon
                            self._device_error(dev, exc)
                        break
                else:
                    self._unclaimed(w, pa, "read", None)
            else:
                self._unclaimed(w, pa, "read", None)
            if self.stop_requested:
                self.replay = (pa, size, False, value)
            elif self.stop_wanted:
                self.replay = (pa, size, False, value)
                self.stop_requested = True
                uc.emu_stop()
            return value

        return read

    def _make_write(self, w: MmioWindow, base: int):
        pages = w.pages

        def write(uc: Uc, offset: int, size: int, value: int, _ud: object) -> None:
            pa = base + offset
            value &= (1 << (size * 8)) - 1
            f = self.filter_replay
            if f is not None:
                self.filter_replay = None
                if f[0] == pa and f[1] == size and f[2] and f[3] == value:
                    self.replays_filtered += 1
                    return
            self.mmio_writes += 1
            entries = pages.get(pa >> PAGE_SHIFT)
            done = False
            if entries:
                for s, e, dev in entries:
                    if s <= pa < e:
                        try:
                            dev.write(pa - s, size, value)
                        except Exception as exc:
                            self._device_error(dev, exc)
                        done = True
                        break
            if not done:
                self._unclaimed(w, pa, "write", value)
            if self.stop_requested:
                self.replay = (pa, size, True, value)
            elif self.stop_wanted:
                self.replay = (pa, size, True, value)
                self.stop_requested = True
                uc.emu_stop()

        return write

    def _unclaimed(self, w: MmioWindow, pa: int, kind: str, value: int | None) -> None:
        key = pa if kind == "read" else pa | (1 << 40)
        if key not in w.unclaimed_seen:
            w.unclaimed_seen.add(key)
            if value is None:
                log.debug("%s: unmodeled read at 0x%08x (reads 0)", w.name, pa)
            else:
                log.debug("%s: unmodeled write at 0x%08x value 0x%x (ignored)", w.name, pa, value)

    def _device_error(self, dev: Device, exc: BaseException) -> None:
        log.error("device %s raised %r", dev.name, exc)
        if self.on_device_error is not None:
            self.on_device_error(dev, exc)

    # -- physical access for the debugger, loader and semihosting ------------------------------
    def read_phys(self, pa: int, size: int) -> bytes | None:
        """Read ``size`` bytes of physical memory (RAM or MMIO); None where nothing is mapped."""
        out = bytearray()
        while size > 0:
            r = self.ram_region(pa)
            if r is not None:
                # straight from the host memory behind the region: uc.mem_read would take the
                # address as virtual once the guest's MMU is on (UC_TLB_CPU)
                n = min(size, r.end - pa)
                off = pa - r.base
                out += r.mem[off:off + n]
            else:
                w = self.window_of(pa)
                if w is None:
                    return None
                n = min(size, 4 - (pa & 3))
                dev = self._find(w, pa)
                if dev is None:
                    out += bytes(n)
                else:
                    try:
                        v = dev.read((pa - self._dev_base(w, pa)), 1) if n else 0
                    except Exception:
                        v = 0
                    out.append(v & 0xFF)
                    n = 1
            pa += n
            size -= n
        return bytes(out)

    def _dev_base(self, w: MmioWindow, pa: int) -> int:
        for s, e, dev in w.pages.get(pa >> PAGE_SHIFT, ()):
            if s <= pa < e:
                return s
        return pa

    def write_phys(self, pa: int, data: bytes) -> bool:
        """Write physical memory (RAM, or device registers byte by byte); False if unmapped."""
        assert self._uc is not None
        i = 0
        while i < len(data):
            r = self.ram_region(pa + i)
            if r is not None:
                n = min(len(data) - i, r.end - (pa + i))
                off = pa + i - r.base
                r.mem[off:off + n] = bytes(data[i:i + n])
                self.code_written = True
                i += n
                continue
            w = self.window_of(pa + i)
            if w is None:
                return False
            dev = self._find(w, pa + i)
            if dev is not None:
                try:
                    dev.write(pa + i - self._dev_base(w, pa + i), 1, data[i])
                except Exception as exc:
                    self._device_error(dev, exc)
            i += 1
        return True
