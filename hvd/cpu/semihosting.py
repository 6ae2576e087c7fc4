"""ARM semihosting (A-profile), as QEMU implements it for ``-semihosting``.

A privileged ``SVC 0x123456`` (ARM state) or ``SVC 0xAB`` (Thumb state) with the operation number
in r0 and the parameter (usually a pointer to an argument block) in r1. The result goes to r0.
The guest's SVC vector is never entered and LR/SPSR are untouched. Only the console is offered as
a file (``:tt``); the host file system is not exposed to guests.

Operations (ARM "Semihosting for AArch32 and AArch64", chapter 5): SYS_OPEN 0x01, SYS_CLOSE 0x02,
SYS_WRITEC 0x03, SYS_WRITE0 0x04, SYS_WRITE 0x05, SYS_READ 0x06, SYS_READC 0x07, SYS_ISERROR 0x08,
SYS_ISTTY 0x09, SYS_SEEK 0x0A, SYS_FLEN 0x0C, SYS_CLOCK 0x10, SYS_TIME 0x11, SYS_ERRNO 0x13,
SYS_GET_CMDLINE 0x15, SYS_HEAPINFO 0x16, SYS_EXIT 0x18, SYS_EXIT_EXTENDED 0x20, SYS_ELAPSED 0x30,
SYS_TICKFREQ 0x31.
"""

from __future__ import annotations

import struct
import time
from typing import Callable, Protocol

ADP_STOPPED_APPLICATION_EXIT = 0x20026
EBADF = 9
ENOENT = 2

SVC_ARM = 0x123456
SVC_THUMB = 0xAB


class GuestMemory(Protocol):
    def read_virt(self, va: int, size: int) -> bytes | None: ...
    def write_virt(self, va: int, data: bytes) -> bool: ...


class SemihostExit(Exception):
    """Raised when the guest asks to exit; carries the exit status."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class Semihosting:
    def __init__(self, mem: GuestMemory, write: Callable[[bytes], None],
                 read_byte: Callable[[], int] | None = None, cmdline: str = "",
                 heap: tuple[int, int, int, int] = (0, 0, 0, 0),
                 now_ns: Callable[[], int] | None = None) -> None:
        self.mem = mem
        self.write = write
        self.read_byte = read_byte or (lambda: -1)
        self.cmdline = cmdline
        self.heap = heap
        self.errno = 0
        self._now_ns = now_ns or time.monotonic_ns
        self._t0 = self._now_ns()
        self._files: dict[int, str] = {}
        self._next_fd = 1
        self.calls = 0

    def _words(self, addr: int, n: int) -> tuple[int, ...] | None:
        raw = self.mem.read_virt(addr, 4 * n)
        if raw is None or len(raw) != 4 * n:
            return None
        return struct.unpack(f"<{n}I", raw)

    def _cstring(self, addr: int, limit: int = 1 << 16) -> bytes | None:
        out = bytearray()
        while len(out) < limit:
            chunk = self.mem.read_virt(addr + len(out), 64 - ((addr + len(out)) & 63))
            if chunk is None:
                return None if not out else bytes(out)
            nul = chunk.find(b"\0")
            if nul >= 0:
                out += chunk[:nul]
                return bytes(out)
            out += chunk
        return bytes(out)

    def call(self, op: int, arg: int) -> int:
        """Perform operation ``op`` with parameter ``arg``; returns the value for r0."""
        self.calls += 1
        handler = self._OPS.get(op)
        if handler is None:
            self.errno = 38  # ENOSYS
            return 0xFFFFFFFF
        return handler(self, arg) & 0xFFFFFFFF

    # -- console output ---------------------------------------------------------------------
    def _writec(self, arg: int) -> int:
        b = self.mem.read_virt(arg, 1)
        if b:
            self.write(b)
        return 0

    def _write0(self, arg: int) -> int:
        s = self._cstring(arg)
        if s:
            self.write(s)
        return 0

    def _open(self, arg: int) -> int:
        w = self._words(arg, 3)
        if w is None:
            return 0xFFFFFFFF
        raw = self.mem.read_virt(w[0], w[2])
        if raw == b":tt":
            fd = self._next_fd
            self._next_fd += 1
            self._files[fd] = "tt"
            return fd
        self.errno = ENOENT
        return 0xFFFFFFFF

    def _close(self, arg: int) -> int:
        w = self._words(arg, 1)
        if w is None or self._files.pop(w[0], None) is None:
            self.errno = EBADF
            return 0xFFFFFFFF
        return 0

    def _write(self, arg: int) -> int:
        w = self._words(arg, 3)
        if w is None:
            return 0xFFFFFFFF
        fd, buf, n = w
        if fd not in self._files and fd not in (1, 2):
            self.errno = EBADF
            return n
        data = self.mem.read_virt(buf, n) if n else b""
        if data is None:
            return n
        self.write(data)
        return 0

    def _read(self, arg: int) -> int:
        w = self._words(arg, 3)
        if w is None:
            return 0xFFFFFFFF
        fd, buf, n = w
        if fd not in self._files and fd != 0:
            self.errno = EBADF
            return 0xFFFFFFFF
        got = bytearray()
        while len(got) < n:
            c = self.read_byte()
            if c < 0:
                break
            got.append(c)
            if c == 0x0A:
                break
        self.mem.write_virt(buf, bytes(got))
        return n - len(got)

    def _readc(self, arg: int) -> int:
        c = self.read_byte()
        return c if c >= 0 else 0xFFFFFFFF

    def _iserror(self, arg: int) -> int:
        w = self._words(arg, 1)
        return 1 if w and w[0] & 0x80000000 else 0

    def _istty(self, arg: int) -> int:
        w = self._words(arg, 1)
        return 1 if w and (w[0] in self._files or w[0] in (0, 1, 2)) else 0

    def _seek(self, arg: int) -> int:
        self.errno = 29  # ESPIPE
        return 0xFFFFFFFF

    def _flen(self, arg: int) -> int:
        return 0

    def _clock(self, arg: int) -> int:
        return (self._now_ns() - self._t0) // 10_000_000  # centiseconds

    def _time(self, arg: int) -> int:
        return int(time.time())

    def _errno(self, arg: int) -> int:
        return self.errno

    def _get_cmdline(self, arg: int) -> int:
        w = self._words(arg, 2)
        if w is None:
            return 0xFFFFFFFF
        data = self.cmdline.encode()[: max(0, w[1] - 1)] + b"\0"
        if not self.mem.write_virt(w[0], data):
            return 0xFFFFFFFF
        self.mem.write_virt(arg + 4, struct.pack("<I", len(data) - 1))
        return 0

    def _heapinfo(self, arg: int) -> int:
        w = self._words(arg, 1)
        if w is None:
            return 0xFFFFFFFF
        self.mem.write_virt(w[0], struct.pack("<4I", *self.heap))
        return 0

    def _exit(self, arg: int) -> int:
        # AArch32 SYS_EXIT: r1 holds the reason code itself.
        raise SemihostExit(0 if arg == ADP_STOPPED_APPLICATION_EXIT else 1)

    def _exit_extended(self, arg: int) -> int:
        w = self._words(arg, 2)
        if w is None:
            raise SemihostExit(1)
        reason, sub = w
        raise SemihostExit((sub & 0xFF) if reason == ADP_STOPPED_APPLICATION_EXIT else 1)

    def _elapsed(self, arg: int) -> int:
        ticks = (self._now_ns() - self._t0) // 1000  # 1 MHz tick
        self.mem.write_virt(arg, struct.pack("<Q", ticks))
        return 0

    def _tickfreq(self, arg: int) -> int:
        return 1_000_000

    _OPS: dict[int, Callable[["Semihosting", int], int]] = {
        0x01: _open, 0x02: _close, 0x03: _writec, 0x04: _write0, 0x05: _write, 0x06: _read,
        0x07: _readc, 0x08: _iserror, 0x09: _istty, 0x0A: _seek, 0x0C: _flen, 0x10: _clock,
        0x11: _time, 0x13: _errno, 0x15: _get_cmdline, 0x16: _heapinfo, 0x18: _exit,
        0x20: _exit_extended, 0x30: _elapsed, 0x31: _tickfreq,
    }
