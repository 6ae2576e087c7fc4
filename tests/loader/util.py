"""Helpers of the loader tests: constants, tool checks, fake zImages."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

RAM_BASE = 0x8000_0000
RAM_SIZE = 512 << 20

AS, LD = "arm-none-eabi-as", "arm-none-eabi-ld"


def need(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (apt install binutils-arm-none-eabi "
                    f"device-tree-compiler u-boot-tools)")


def run(*cmd: str | Path, cwd: Path | None = None, env: dict | None = None) -> None:
    res = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True)
    assert res.returncode == 0, f"{cmd[0]} failed:\n{res.stdout}\n{res.stderr}"


BEAGLE_DTS = """\
/dts-v1/;
/ {
    #address-cells = <1>;
    #size-cells = <1>;
    model = "TI OMAP3 BeagleBoard xM";
    compatible = "ti,omap3-beagle-xm", "ti,omap3";
    chosen { };
    aliases {
        serial0 = "/ocp/serial@4806a000";
        serial2 = "/ocp/serial@49020000";
    };
    memory@80000000 {
        device_type = "memory";
        reg = <0x80000000 0x10000000>;
    };
    ocp {
        #address-cells = <1>;
        #size-cells = <1>;
        serial@4806a000 { compatible = "ti,omap3-uart"; reg = <0x4806a000 0x400>; };
        serial@49020000 { compatible = "ti,omap3-uart"; reg = <0x49020000 0x400>; };
    };
};
"""


def fake_zimage(size: int = 64 << 10, *, start: int = 0, endian: int = 0x04030201,
                declared: int | None = None) -> bytes:
    """Bytes shaped like a zImage: 9 words of code, magic at 0x24, start/end, endian flag."""
    body = bytearray(size)
    for i in range(9):
        body[4 * i:4 * i + 4] = (0xE1A00000).to_bytes(4, "little")  # mov r0, r0
    body[0x24:0x28] = (0x016F2818).to_bytes(4, "little")
    body[0x28:0x2C] = start.to_bytes(4, "little")
    body[0x2C:0x30] = (start + (size if declared is None else declared)).to_bytes(4, "little")
    body[0x30:0x34] = endian.to_bytes(4, "little")
    pattern = bytes((i * 37 + 11) & 0xFF for i in range(251))  # not a multiple of 4: varied words
    rest = size - 0x40
    if rest > 0:
        body[0x40:] = (pattern * (rest // len(pattern) + 1))[:rest]
    return bytes(body)
