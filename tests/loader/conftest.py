"""Fixtures of the loader tests: real inputs built with the real tools (as, ld, dtc)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Callable

import pytest

from .util import AS, LD, RAM_BASE, need, run


@pytest.fixture
def build_elf(tmp_path: Path) -> Callable[..., Path]:
    """Assemble ``source`` and link it with ``script`` (a linker script) or ``-Ttext ADDR``."""
    counter = iter(range(1000))

    def build(source: str, *, script: str | None = None, text: int = RAM_BASE,
              as_flags: tuple[str, ...] = (), ld_flags: tuple[str, ...] = (),
              link: bool = True) -> Path:
        need(AS, LD)
        n = next(counter)
        src = tmp_path / f"g{n}.S"
        src.write_text(textwrap.dedent(source))
        obj = tmp_path / f"g{n}.o"
        run(AS, *as_flags, "-o", obj, src)
        if not link:
            return obj
        out = tmp_path / f"g{n}.elf"
        if script is not None:
            lds = tmp_path / f"g{n}.ld"
            lds.write_text(textwrap.dedent(script))
            run(LD, *ld_flags, "-T", lds, "-o", out, obj)
        else:
            run(LD, *ld_flags, "-Ttext", f"0x{text:x}", "-o", out, obj)
        return out

    return build


@pytest.fixture
def dtc(tmp_path: Path) -> Callable[[str], Path]:
    """Compile device tree source text with dtc; return the .dtb path."""
    counter = iter(range(1000))

    def compile_dts(source: str) -> Path:
        need("dtc")
        n = next(counter)
        src = tmp_path / f"t{n}.dts"
        src.write_text(textwrap.dedent(source))
        out = tmp_path / f"t{n}.dtb"
        run("dtc", "-q", "-I", "dts", "-O", "dtb", "-o", out, src)
        return out

    return compile_dts


