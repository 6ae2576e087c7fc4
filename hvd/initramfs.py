"""Initramfs images for the guest: a newc ("070701") cpio archive, gzip-compressed, with busybox.

The newc format (as the Linux kernel's ``Documentation/driver-api/early-userspace/
buffer-format.rst`` and cpio(5) describe it): each entry is a 110-byte ASCII header (magic
``070701`` and thirteen 8-digit hexadecimal fields), the NUL-terminated name padded to a
multiple of 4 bytes (header included), then the data padded to 4. The archive ends with the
entry ``TRAILER!!!``. Hard links are not used, so every entry has nlink 1 (2 for directories)
and its own inode number. Device nodes carry their numbers in rdevmajor/rdevminor: that is how
``/dev/console`` exists before devtmpfs is mounted.
"""

from __future__ import annotations

import gzip
import stat
from dataclasses import dataclass
from pathlib import Path

from construct import Adapter, Bytes, Const, Struct

NEWC_MAGIC = b"070701"
TRAILER = "TRAILER!!!"


class _Hex8(Adapter):
    """An unsigned 32-bit number as 8 ASCII hexadecimal digits."""

    def _decode(self, obj: bytes, context: object, path: object) -> int:
        return int(obj, 16)

    def _encode(self, obj: int, context: object, path: object) -> bytes:
        return b"%08X" % (obj & 0xFFFFFFFF)


Hex8 = _Hex8(Bytes(8))

NEWC_HEADER = Struct(
    "magic" / Const(NEWC_MAGIC),
    "ino" / Hex8,
    "mode" / Hex8,
    "uid" / Hex8,
    "gid" / Hex8,
    "nlink" / Hex8,
    "mtime" / Hex8,
    "filesize" / Hex8,
    "devmajor" / Hex8,
    "devminor" / Hex8,
    "rdevmajor" / Hex8,
    "rdevminor" / Hex8,
    "namesize" / Hex8,
    "check" / Hex8,
)
HEADER_SIZE = NEWC_HEADER.sizeof()  # 110


def _pad4(n: int) -> int:
    return (-n) % 4


@dataclass
class Entry:
    name: str
    mode: int
    data: bytes = b""
    rdev: tuple[int, int] = (0, 0)


class NewcWriter:
    """Builds a newc archive in memory; entries keep the order they are added in."""

    def __init__(self, mtime: int = 0) -> None:
        self.mtime = mtime
        self.entries: list[Entry] = []
        self._names: set[str] = set()

    def _add(self, entry: Entry) -> None:
        name = entry.name.strip("/")
        if not name or name in self._names:
            raise ValueError(f"bad or duplicate archive path {entry.name!r}")
        entry.name = name
        self._names.add(name)
        self.entries.append(entry)

    def directory(self, path: str, perm: int = 0o755) -> None:
        self._add(Entry(path, stat.S_IFDIR | perm))

    def file(self, path: str, data: bytes, perm: int = 0o644) -> None:
        self._add(Entry(path, stat.S_IFREG | perm, data))

    def symlink(self, path: str, target: str) -> None:
        self._add(Entry(path, stat.S_IFLNK | 0o777, target.encode()))

    def char_device(self, path: str, major: int, minor: int, perm: int = 0o600) -> None:
        self._add(Entry(path, stat.S_IFCHR | perm, rdev=(major, minor)))

    def has(self, path: str) -> bool:
        return path.strip("/") in self._names

    def to_bytes(self) -> bytes:
        out = bytearray()
        for ino, e in enumerate(self.entries, start=1):
            self._emit(out, ino, e.name, e.mode, e.data, e.rdev)
        self._emit(out, 0, TRAILER, 0, b"", (0, 0))
        return bytes(out)

    def _emit(self, out: bytearray, ino: int, name: str, mode: int, data: bytes,
              rdev: tuple[int, int]) -> None:
        raw_name = name.encode() + b"\0"
        out += NEWC_HEADER.build(dict(
            ino=ino, mode=mode, uid=0, gid=0, nlink=2 if stat.S_ISDIR(mode) else 1,
            mtime=self.mtime if ino else 0, filesize=len(data), devmajor=0, devminor=0,
            rdevmajor=rdev[0], rdevminor=rdev[1], namesize=len(raw_name), check=0,
        ))
        out += raw_name + b"\0" * _pad4(HEADER_SIZE + len(raw_name))
        out += data + b"\0" * _pad4(len(data))


def read_newc(archive: bytes) -> list[Entry]:
    """Parse a newc archive (uncompressed); stops at the trailer. For checks and tests."""
    entries: list[Entry] = []
    pos = 0
    while True:
        h = NEWC_HEADER.parse(archive[pos:pos + HEADER_SIZE])
        pos += HEADER_SIZE
        name = archive[pos:pos + h.namesize - 1].decode()
        pos += h.namesize + _pad4(HEADER_SIZE + h.namesize)
        if name == TRAILER:
            return entries
        data = archive[pos:pos + h.filesize]
        pos += h.filesize + _pad4(h.filesize)
        entries.append(Entry(name, h.mode, data, (h.rdevmajor, h.rdevminor)))


# -- busybox ---------------------------------------------------------------------------------

def busybox_applets(binary: bytes) -> list[str]:
    """The applet names compiled into a busybox binary (its NUL-separated, sorted name table)."""
    start = binary.find(b"[\0[[\0")
    if start < 0:
        return []
    names: list[str] = []
    pos = start
    while True:
        end = binary.index(b"\0", pos)
        if end == pos:
            return names
        names.append(binary[pos:end].decode("ascii", "replace"))
        pos = end + 1


DEFAULT_INIT = """#!/bin/sh
# hvd default init: mount the kernel's file systems, then hand over to busybox init,
# which keeps a shell on the console and makes `poweroff` and `reboot` work.
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null
/bin/busybox mkdir -p /dev/pts
/bin/busybox mount -t devpts devpts /dev/pts 2>/dev/null
/bin/busybox mount -t tmpfs tmpfs /tmp
[ -e /bin/ls ] || /bin/busybox --install -s
exec /bin/busybox init
"""

DEFAULT_INITTAB = """::sysinit:/bin/hostname beagle
::respawn:/bin/cttyhack /bin/sh -l
::ctrlaltdel:/bin/reboot
::shutdown:/bin/sync
"""

PROFILE = """export PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PS1='\\h:\\w\\$ '
[ -f /etc/motd ] && cat /etc/motd
"""

MOTD = "hvd: busybox shell on the emulated BeagleBoard-xM (`poweroff` ends the VM)\n"

BASE_DIRS = ("bin", "sbin", "usr", "usr/bin", "usr/sbin", "dev", "proc", "sys", "tmp", "root",
             "etc", "run", "var", "mnt")


def build_archive(busybox: bytes, init_script: str,
                  extra_files: dict[str, bytes] | None = None) -> bytes:
    """The uncompressed newc archive: base directories, busybox and its applet links,
    /dev/console (5,1) and /dev/null (1,3), ``/init`` and any extra files (mode 0755 for
    programs: scripts starting with ``#!`` and ELF files; else 0644)."""
    w = NewcWriter()
    for d in BASE_DIRS:
        w.directory(d)
    w.file("bin/busybox", busybox, 0o755)
    for applet in busybox_applets(busybox):
        if applet and "/" not in applet and applet != "busybox" and not w.has(f"bin/{applet}"):
            w.symlink(f"bin/{applet}", "busybox")
    if not w.has("bin/sh"):
        w.symlink("bin/sh", "busybox")
    w.char_device("dev/console", 5, 1, 0o600)
    w.char_device("dev/null", 1, 3, 0o666)
    w.file("init", init_script.encode(), 0o755)
    extra = dict(extra_files or {})
    for path, data in sorted(extra.items()):
        parts = path.strip("/").split("/")
        for i in range(1, len(parts)):
            parent = "/".join(parts[:i])
            if not w.has(parent):
                w.directory(parent)
        w.file(path, data, 0o755 if data.startswith((b"#!", b"\x7fELF")) else 0o644)
    return w.to_bytes()


def build_initramfs(busybox: Path, init_script: str, out: Path,
                    extra_files: dict[str, bytes] | None = None) -> Path:
    """Write a gzip-compressed newc initramfs with ``init_script`` as /init (used by tests and
    by :func:`build_default_initramfs`)."""
    archive = build_archive(Path(busybox).read_bytes(), init_script, extra_files)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "wb") as f:
        with gzip.GzipFile(filename="", mode="wb", fileobj=f, compresslevel=9, mtime=0) as gz:
            gz.write(archive)
    tmp.replace(out)
    return out


def build_default_initramfs(busybox: Path, out: Path) -> Path:
    """The interactive image: init mounts proc/sys/devtmpfs and keeps a shell on the console."""
    return build_initramfs(busybox, DEFAULT_INIT, out, {
        "etc/inittab": DEFAULT_INITTAB.encode(),
        "etc/profile": PROFILE.encode(),
        "etc/motd": MOTD.encode(),
    })
