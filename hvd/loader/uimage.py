"""U-Boot legacy images ("uImage"): a 64-byte big-endian header in front of the payload.

Header layout (U-Boot ``include/image.h``, ``struct legacy_img_hdr``; what ``mkimage`` writes):

======  =====  ============================================================================
offset  size   field
======  =====  ============================================================================
0x00    4      ih_magic  0x27051956
0x04    4      ih_hcrc   CRC-32 of the 64-byte header with ih_hcrc taken as 0
0x08    4      ih_time   creation time (seconds since the epoch)
0x0C    4      ih_size   payload size in bytes
0x10    4      ih_load   load address: the payload is copied there
0x14    4      ih_ep     entry point
0x18    4      ih_dcrc   CRC-32 of the payload
0x1C    1      ih_os     5 = Linux, 17 = U-Boot, ...
0x1D    1      ih_arch   2 = ARM, 22 = ARM64, 3 = x86, 24 = x86-64, ...
0x1E    1      ih_type   1 = standalone, 2 = kernel, 5 = firmware, 14 = kernel_noload, ...
0x1F    1      ih_comp   0 = none, 1 = gzip, 2 = bzip2, 3 = lzma, 4 = lzo, 5 = lz4, 6 = zstd
0x20    32     ih_name   NUL-padded name
======  =====  ============================================================================

The CRC is the ordinary CRC-32 (zlib's). hvd loads types standalone, kernel and firmware with
compression "none" for the ARM architecture; everything else is refused with a reason.
"""

from __future__ import annotations

import time
import zlib

from construct import Bytes, ConstructError, Int8ub, Int32ub, PaddedString, Struct

from hvd.errors import UsageError

UIMAGE_MAGIC = 0x2705_1956
HEADER_SIZE = 64

ARCH_ARM = 2
OS_LINUX = 5
OS_U_BOOT = 17
TYPE_STANDALONE, TYPE_KERNEL, TYPE_FIRMWARE = 1, 2, 5
COMP_NONE = 0

ARCH_NAMES = {0: "invalid", 1: "Alpha", 2: "ARM", 3: "x86", 4: "IA-64", 5: "MIPS", 6: "MIPS64",
              7: "PowerPC", 8: "S/390", 9: "SuperH", 10: "SPARC", 11: "SPARC64", 12: "m68k",
              14: "MicroBlaze", 15: "Nios II", 16: "Blackfin", 20: "NDS32", 21: "OpenRISC",
              22: "ARM64", 23: "ARC", 24: "x86-64", 25: "Xtensa", 26: "RISC-V"}
OS_NAMES = {0: "invalid", 5: "Linux", 14: "VxWorks", 17: "U-Boot", 18: "RTEMS", 25: "ARM Trusted"
            " Firmware", 26: "TEE", 27: "OpenSBI", 28: "EFI"}
TYPE_NAMES = {0: "invalid", 1: "standalone", 2: "kernel", 3: "ramdisk", 4: "multi-file",
              5: "firmware", 6: "script", 7: "filesystem", 8: "flat device tree",
              14: "kernel_noload"}
COMP_NAMES = {0: "none", 1: "gzip", 2: "bzip2", 3: "lzma", 4: "lzo", 5: "lz4", 6: "zstd"}
LOADABLE_TYPES = (TYPE_STANDALONE, TYPE_KERNEL, TYPE_FIRMWARE)

UImageHeader = Struct(
    "magic" / Int32ub,
    "hcrc" / Int32ub,
    "time" / Int32ub,
    "size" / Int32ub,
    "load" / Int32ub,
    "ep" / Int32ub,
    "dcrc" / Int32ub,
    "os" / Int8ub,
    "arch" / Int8ub,
    "type" / Int8ub,
    "comp" / Int8ub,
    "name" / PaddedString(32, "utf8"),
)
assert UImageHeader.sizeof() == HEADER_SIZE

_NameBytes = Bytes(32)


def is_uimage(data: bytes) -> bool:
    return len(data) >= 4 and int.from_bytes(data[:4], "big") == UIMAGE_MAGIC


def header_crc(header: bytes) -> int:
    """CRC-32 of a 64-byte header with its ih_hcrc field taken as zero."""
    return zlib.crc32(header[:4] + b"\0\0\0\0" + header[8:HEADER_SIZE]) & 0xFFFFFFFF


def build_uimage(payload: bytes, *, load: int, entry: int, name: str = "",
                 image_type: int = TYPE_KERNEL, os: int = OS_LINUX, arch: int = ARCH_ARM,
                 comp: int = COMP_NONE, timestamp: int | None = None) -> bytes:
    """Build a legacy uImage (as ``mkimage -A arm -O linux -T kernel -C none`` does)."""
    fields = dict(magic=UIMAGE_MAGIC, hcrc=0,
                  time=int(time.time()) if timestamp is None else timestamp,
                  size=len(payload), load=load, ep=entry,
                  dcrc=zlib.crc32(payload) & 0xFFFFFFFF, os=os, arch=arch, type=image_type,
                  comp=comp, name=name[:31])
    header = bytearray(UImageHeader.build(fields))
    header[4:8] = header_crc(bytes(header)).to_bytes(4, "big")
    return bytes(header) + payload


def _name_of(table: dict[int, str], value: int) -> str:
    return table.get(value, f"#{value}")


def parse_uimage(data: bytes, name: str):
    """Check a uImage and return ``(header, payload)``; raise UsageError with the reason."""
    if len(data) < HEADER_SIZE:
        raise UsageError(f"{name}: truncated uImage header ({len(data)} bytes)")
    try:
        hdr = UImageHeader.parse(data[:HEADER_SIZE])
    except (ConstructError, UnicodeDecodeError):
        # a name that is not UTF-8: keep the raw bytes readable
        hdr = UImageHeader.parse(data[:0x20] + _NameBytes.build(b"?" * 32))
    if hdr.magic != UIMAGE_MAGIC:
        raise UsageError(f"{name}: bad uImage magic 0x{hdr.magic:08x}")
    crc = header_crc(data)
    if crc != hdr.hcrc:
        raise UsageError(f"{name}: bad uImage header CRC (0x{hdr.hcrc:08x} stored, "
                         f"0x{crc:08x} computed): the image is corrupt")
    if HEADER_SIZE + hdr.size > len(data):
        raise UsageError(f"{name}: truncated uImage (header says {hdr.size} bytes of data, "
                         f"file has {len(data) - HEADER_SIZE})")
    payload = data[HEADER_SIZE:HEADER_SIZE + hdr.size]
    crc = zlib.crc32(payload) & 0xFFFFFFFF
    if crc != hdr.dcrc:
        raise UsageError(f"{name}: bad uImage data CRC (0x{hdr.dcrc:08x} stored, "
                         f"0x{crc:08x} computed): the image is corrupt")
    if hdr.arch != ARCH_ARM:
        raise UsageError(f"{name}: uImage for {_name_of(ARCH_NAMES, hdr.arch)} "
                         f"(arch {hdr.arch}); hvd runs ARM (arch 2) images")
    if hdr.type not in LOADABLE_TYPES:
        raise UsageError(f"{name}: uImage of type {_name_of(TYPE_NAMES, hdr.type)}; hvd boots "
                         f"kernel, standalone and firmware images")
    if hdr.comp != COMP_NONE:
        raise UsageError(f"{name}: {_name_of(COMP_NAMES, hdr.comp)}-compressed uImage; hvd "
                         f"loads uncompressed ones (mkimage -C none), or pass the zImage itself")
    if not payload:
        raise UsageError(f"{name}: uImage has no data")
    return hdr, payload


def describe(hdr) -> str:
    label = f" '{hdr.name}'" if hdr.name else ""
    return (f"uImage{label} ({_name_of(OS_NAMES, hdr.os)} {_name_of(TYPE_NAMES, hdr.type)}, "
            f"{hdr.size} bytes, load 0x{hdr.load:08x}, entry 0x{hdr.ep:08x})")
