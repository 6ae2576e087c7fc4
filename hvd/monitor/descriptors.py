"""ARMv7 short-descriptor translation table formats (ARM ARM DDI 0406C, B3.5.1).

The ``construct`` declarations below are the documented source of truth for every bit of every
descriptor the monitor reads. Each 32-bit descriptor is stored little-endian in guest memory; the
structs are declared most-significant bit first (as the manual draws them) and wrapped in
``ByteSwapped`` so they parse and build the little-endian word.

First level (one word per 1 MiB of virtual address space), selected by bits[1:0] and bit 18::

    31                    20 19 18 17 16 15 14 12 11 10 9  8   5 4  3 2 1 0
    +----------------------+--+--+--+--+--+-----+-----+-+------+--+-+-+---+
    | ignored                                                          |00|  fault
    | page table base [31:10]                     |IMP|domain|SBZ|NS|PXN|01|  page table
    | section base [31:20] |NS|0 |nG|S |APX| TEX |AP  |IMP|domain|XN|C|B|10|  section
    | ss base[31:24]|[35:32]|NS|1 |nG|S |APX| TEX |AP  |IMP|[39:36]|XN|C|B|10|  supersection
                                                                          11   reserved (no PXN)

The Cortex-A8 has neither LPAE nor PXN, so bits[1:0] = 0b11 is the reserved encoding and walks
through it end in a section translation fault (B3.5.1, "Short-descriptor first-level descriptor
formats"); bit 2 of a page-table descriptor is SBZ there.

Second level (one word per 4 KiB, 256 words per table, table 1 KiB aligned)::

    31                16 15 14 12 11 10 9  8   6 5  4 3 2 1 0
    +-------------------+--+-----+--+--+--+-----+----+-+-+---+
    | ignored                                              |00|  fault
    | large page base   |XN| TEX |nG|S |APX| SBZ |AP  |C|B|01|  large page (64 KiB)
    | small page base [31:12]    |nG|S |APX| TEX |AP  |C|B|1|XN|  small page (4 KiB)

AP[0] doubles as the Access flag when SCTLR.AFE = 1 (B3.7.3). TEX/C/B/S only describe memory
attributes (remapped through PRRR/NMRR when SCTLR.TRE = 1); the monitor carries them but does not
interpret them. Large page and supersection entries must be repeated 16 times in their tables
(B3.5.1); the walker uses the one entry it reads and never assumes the repetition.

Fast path: the walker does not call ``construct`` per fill. It uses the shifts and masks defined
here (``*_SHIFT``/``*_MASK`` and :func:`l1_fields`, :func:`l2_fields`), and the tests check these
against the ``construct`` declarations for random words.
"""

from __future__ import annotations

from typing import Any

from construct import BitStruct, BitsInteger, ByteSwapped, Const, Container, Flag

# --- first-level descriptors --------------------------------------------------------------------

L1_FAULT = BitStruct(
    "ignored" / BitsInteger(30),
    "type" / Const(0b00, BitsInteger(2)),
)

L1_PAGE_TABLE = BitStruct(
    "base" / BitsInteger(22),          # second-level table address [31:10]
    "imp" / BitsInteger(1),
    "domain" / BitsInteger(4),
    "sbz" / BitsInteger(1),
    "ns" / Flag,
    "pxn" / BitsInteger(1),            # SBZ on implementations without PXN (Cortex-A8)
    "type" / Const(0b01, BitsInteger(2)),
)

L1_SECTION = BitStruct(
    "base" / BitsInteger(12),          # PA[31:20]
    "ns" / Flag,
    "supersection" / Const(0, BitsInteger(1)),
    "ng" / Flag,
    "s" / Flag,
    "apx" / BitsInteger(1),            # AP[2]
    "tex" / BitsInteger(3),
    "ap" / BitsInteger(2),             # AP[1:0]; AP[0] is the Access flag when SCTLR.AFE = 1
    "imp" / BitsInteger(1),
    "domain" / BitsInteger(4),
    "xn" / Flag,
    "c" / Flag,
    "b" / Flag,
    "type" / Const(0b10, BitsInteger(2)),
)

L1_SUPERSECTION = BitStruct(
    "base" / BitsInteger(8),           # PA[31:24]
    "base_35_32" / BitsInteger(4),     # extended base address PA[35:32]
    "ns" / Flag,
    "supersection" / Const(1, BitsInteger(1)),
    "ng" / Flag,
    "s" / Flag,
    "apx" / BitsInteger(1),
    "tex" / BitsInteger(3),
    "ap" / BitsInteger(2),
    "imp" / BitsInteger(1),
    "base_39_36" / BitsInteger(4),     # extended base address PA[39:36]; domain is always 0
    "xn" / Flag,
    "c" / Flag,
    "b" / Flag,
    "type" / Const(0b10, BitsInteger(2)),
)

# --- second-level descriptors -------------------------------------------------------------------

L2_FAULT = BitStruct(
    "ignored" / BitsInteger(30),
    "type" / Const(0b00, BitsInteger(2)),
)

L2_LARGE = BitStruct(
    "base" / BitsInteger(16),          # PA[31:16]
    "xn" / Flag,
    "tex" / BitsInteger(3),
    "ng" / Flag,
    "s" / Flag,
    "apx" / BitsInteger(1),
    "sbz" / BitsInteger(3),
    "ap" / BitsInteger(2),
    "c" / Flag,
    "b" / Flag,
    "type" / Const(0b01, BitsInteger(2)),
)

L2_SMALL = BitStruct(
    "base" / BitsInteger(20),          # PA[31:12]
    "ng" / Flag,
    "s" / Flag,
    "apx" / BitsInteger(1),
    "tex" / BitsInteger(3),
    "ap" / BitsInteger(2),
    "c" / Flag,
    "b" / Flag,
    "one" / Const(1, BitsInteger(1)),
    "xn" / Flag,
)

# Little-endian words as they sit in guest memory.
L1_FAULT_LE = ByteSwapped(L1_FAULT)
L1_PAGE_TABLE_LE = ByteSwapped(L1_PAGE_TABLE)
L1_SECTION_LE = ByteSwapped(L1_SECTION)
L1_SUPERSECTION_LE = ByteSwapped(L1_SUPERSECTION)
L2_FAULT_LE = ByteSwapped(L2_FAULT)
L2_LARGE_LE = ByteSwapped(L2_LARGE)
L2_SMALL_LE = ByteSwapped(L2_SMALL)

# Kind names used by the walker, the shadow and the tests.
FAULT = "fault"
PAGE_TABLE = "page_table"
SECTION = "section"
SUPERSECTION = "supersection"
RESERVED = "reserved"
LARGE = "large"
SMALL = "small"

_L1_LE = {PAGE_TABLE: L1_PAGE_TABLE_LE, SECTION: L1_SECTION_LE,
          SUPERSECTION: L1_SUPERSECTION_LE, FAULT: L1_FAULT_LE}
_L2_LE = {LARGE: L2_LARGE_LE, SMALL: L2_SMALL_LE, FAULT: L2_FAULT_LE}


def _word_bytes(word: int) -> bytes:
    return (word & 0xFFFFFFFF).to_bytes(4, "little")


def l1_kind(word: int) -> str:
    """The first-level descriptor kind of ``word`` (fast path)."""
    t = word & 3
    if t == 0:
        return FAULT
    if t == 1:
        return PAGE_TABLE
    if t == 3:
        return RESERVED
    return SUPERSECTION if word & (1 << 18) else SECTION


def l2_kind(word: int) -> str:
    """The second-level descriptor kind of ``word`` (fast path)."""
    t = word & 3
    if t == 0:
        return FAULT
    return LARGE if t == 1 else SMALL


def parse_l1(word: int) -> tuple[str, Container | None]:
    """Decode a first-level descriptor with the construct declarations: (kind, fields)."""
    kind = l1_kind(word)
    if kind == RESERVED:
        return kind, None
    return kind, _L1_LE[kind].parse(_word_bytes(word))


def parse_l2(word: int) -> tuple[str, Container]:
    """Decode a second-level descriptor with the construct declarations: (kind, fields)."""
    kind = l2_kind(word)
    return kind, _L2_LE[kind].parse(_word_bytes(word))


def build_l1(kind: str, **fields: Any) -> int:
    """Encode a first-level descriptor from named fields (missing fields are 0)."""
    st = _L1_LE[kind]
    return int.from_bytes(st.build(_defaults(st, fields)), "little")


def build_l2(kind: str, **fields: Any) -> int:
    """Encode a second-level descriptor from named fields (missing fields are 0)."""
    st = _L2_LE[kind]
    return int.from_bytes(st.build(_defaults(st, fields)), "little")


def _defaults(st: Any, fields: dict[str, Any]) -> dict[str, Any]:
    inner = st.subcon.subcon  # ByteSwapped -> BitStruct (Transformed) -> Struct
    out: dict[str, Any] = {}
    for sc in inner.subcons:
        if sc.name is None or sc.name in ("type", "supersection", "one"):
            continue
        out[sc.name] = fields.pop(sc.name, 0)
    if fields:
        raise TypeError(f"unknown descriptor fields: {', '.join(sorted(fields))}")
    return out


# --- fast path: shifts and masks ----------------------------------------------------------------

L1_SECTION_BASE = 0xFFF0_0000
L1_SUPERSECTION_BASE = 0xFF00_0000
L1_TABLE_BASE = 0xFFFF_FC00
L2_LARGE_BASE = 0xFFFF_0000
L2_SMALL_BASE = 0xFFFF_F000
L1_DOMAIN_SHIFT = 5
L1_XN = 1 << 4
L1_AP_SHIFT = 10
L1_APX = 1 << 15
L1_NG = 1 << 17
L1_SUPER = 1 << 18
L2_AP_SHIFT = 4
L2_APX = 1 << 9
L2_NG = 1 << 11
L2_LARGE_XN = 1 << 15


def l1_fields(word: int) -> dict[str, int]:
    """Fast decode of a section/supersection/page-table descriptor (same names as construct)."""
    t = word & 3
    if t == 1:
        return {"base": word >> 10, "imp": (word >> 9) & 1, "domain": (word >> 5) & 15,
                "sbz": (word >> 4) & 1, "ns": (word >> 3) & 1, "pxn": (word >> 2) & 1}
    common = {"ns": (word >> 19) & 1, "ng": (word >> 17) & 1, "s": (word >> 16) & 1,
              "apx": (word >> 15) & 1, "tex": (word >> 12) & 7, "ap": (word >> 10) & 3,
              "imp": (word >> 9) & 1, "xn": (word >> 4) & 1, "c": (word >> 3) & 1,
              "b": (word >> 2) & 1}
    if word & L1_SUPER:
        common.update(base=word >> 24, base_35_32=(word >> 20) & 15, base_39_36=(word >> 5) & 15)
    else:
        common.update(base=word >> 20, domain=(word >> 5) & 15)
    return common


def l2_fields(word: int) -> dict[str, int]:
    """Fast decode of a large/small page descriptor (same names as construct)."""
    common = {"ng": (word >> 11) & 1, "s": (word >> 10) & 1, "apx": (word >> 9) & 1,
              "ap": (word >> 4) & 3, "c": (word >> 3) & 1, "b": (word >> 2) & 1}
    if word & 3 == 1:
        common.update(base=word >> 16, xn=(word >> 15) & 1, tex=(word >> 12) & 7,
                      sbz=(word >> 6) & 7)
    else:
        common.update(base=word >> 12, tex=(word >> 6) & 7, xn=word & 1)
    return common
