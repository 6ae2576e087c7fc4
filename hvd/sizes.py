"""Memory sizes as people write them: ``"512M"``, ``"64K"``, ``"1GiB"``, ``"0x1000"``, ``4096``.

Suffixes are binary (K = 1024, M = 1024**2, G = 1024**3, T = 1024**4), case-insensitive, and
may be followed by ``B`` or ``iB`` (``"512MB"``, ``"512MiB"`` and ``"512m"`` all mean the same).
The number may be decimal, hexadecimal (``0x``), octal (``0o``) or binary (``0b``), with ``_``
separators; a decimal fraction is allowed when the result is a whole number of bytes
(``"1.5G"``). Negative sizes are refused.
"""

from __future__ import annotations

import re
from fractions import Fraction

from hvd.errors import UsageError

__all__ = ["SizeError", "parse_size", "format_size"]

_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_SIZE_RE = re.compile(
    r"""^\s*
        (?P<num>0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|\d[\d_]*(?:\.\d+)?)
        \s*
        (?P<unit>[kKmMgGtT]?)
        (?:i?[bB])?
        \s*$""",
    re.VERBOSE,
)


class SizeError(UsageError, ValueError):
    """A malformed size. Both a :class:`UsageError` (exit 2) and a ``ValueError``."""


def parse_size(text: str | int) -> int:
    """Return the number of bytes ``text`` names; raise :class:`SizeError` (``bad size '...'``)."""
    if isinstance(text, bool):
        raise SizeError(f"bad size '{text}'")
    if isinstance(text, int):
        if text < 0:
            raise SizeError(f"bad size '{text}': a size cannot be negative")
        return text
    if not isinstance(text, str):
        raise SizeError(f"bad size '{text}'")
    m = _SIZE_RE.match(text)
    if m is None:
        raise SizeError(f"bad size '{text}' (use a number with an optional K, M or G suffix, "
                        f"e.g. 512M, 64K or 0x1000)")
    num = m.group("num").replace("_", "")
    try:
        value = Fraction(int(num, 0)) if num[:2].lower() in ("0x", "0o", "0b") else Fraction(num)
    except ValueError:
        raise SizeError(f"bad size '{text}'") from None
    value *= _UNITS[m.group("unit").lower()]
    if value.denominator != 1:
        raise SizeError(f"bad size '{text}': not a whole number of bytes")
    return int(value)


def format_size(n: int) -> str:
    """``536870912`` -> ``"512 MiB"``, ``1536`` -> ``"1.5 KiB"``, ``100`` -> ``"100 bytes"``."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            v = n / (1 << shift)
            return f"{v:.0f} {unit}" if v == int(v) else f"{v:.1f} {unit}"
    return f"{n} bytes" if n != 1 else "1 byte"
