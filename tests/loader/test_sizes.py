"""hvd.sizes.parse_size: the sizes --memory and the config file accept."""

from __future__ import annotations

import pytest

from hvd.errors import UsageError
from hvd.sizes import SizeError, format_size, parse_size


@pytest.mark.parametrize("text,value", [
    ("512M", 512 << 20), ("64K", 64 << 10), ("0x1000", 0x1000), ("1G", 1 << 30),
    ("512MiB", 512 << 20), ("512MB", 512 << 20), ("8k", 8192), ("4096", 4096), (" 16 M ", 16 << 20),
    ("1.5G", 3 << 29), ("0x10M", 16 << 20), ("0x8000_0000", 0x8000_0000), ("1_024", 1024),
    ("0", 0), (1 << 20, 1 << 20), ("2b", 2),
])
def test_good_sizes(text: str | int, value: int) -> None:
    assert parse_size(text) == value


@pytest.mark.parametrize("bad", ["", "12Q", "-5M", "M", "0x", "1.3", "1.0000001K", "5 MM", "abc",
                                 "0x1G0", True, 1.5, None, -1])
def test_bad_sizes(bad: object) -> None:
    with pytest.raises(UsageError) as info:
        parse_size(bad)  # type: ignore[arg-type]
    assert str(info.value).startswith(f"bad size '{bad}'")
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ValueError) and isinstance(info.value, SizeError)
    assert info.value.status == 2


def test_format_size() -> None:
    assert format_size(512 << 20) == "512 MiB"
    assert format_size(1536) == "1.5 KiB"
    assert format_size(1 << 30) == "1 GiB"
    assert format_size(100) == "100 bytes"
