"""Build the project's bare-metal guest programs (``guests/*.S``) with Debian's arm-none-eabi-gcc.

A guest is one source file ``guests/<name>.S`` (or ``.c``) linked with the shared library in
``guests/lib/`` (startup, vectors, semihosting output) by ``guests/lib/guest.ld``. The same
source builds for two platforms that differ only in where RAM is:

- ``beagle``: BeagleBoard-xM (hvd), RAM at 0x8000_0000
- ``vexpress``: QEMU's ``vexpress-a9`` (the referee), RAM at 0x6000_0000

Builds are cached under ``$HVD_GUEST_CACHE`` (default: ``<tmp>/hvd-guests``), keyed by a hash of
every source, the platform and the extra defines, so repeated test runs do not rebuild.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

GUESTS_DIR = Path(__file__).resolve().parents[2] / "guests"
LIB_DIR = GUESTS_DIR / "lib"
CC = "arm-none-eabi-gcc"


@dataclass(frozen=True)
class Platform:
    name: str
    ram_base: int
    number: int  # PLATFORM define: 1 = beagle, 2 = vexpress


PLATFORMS: dict[str, Platform] = {
    "beagle": Platform("beagle", 0x8000_0000, 1),
    "vexpress": Platform("vexpress", 0x6000_0000, 2),
}


class GuestBuildError(RuntimeError):
    """The toolchain is missing or a guest failed to build (message holds the compiler output)."""


def cache_dir() -> Path:
    root = os.environ.get("HVD_GUEST_CACHE")
    path = Path(root) if root else Path(tempfile.gettempdir()) / "hvd-guests"
    path.mkdir(parents=True, exist_ok=True)
    return path


def toolchain_available() -> bool:
    return shutil.which(CC) is not None


def guest_source(name: str) -> Path:
    for ext in (".S", ".c"):
        path = GUESTS_DIR / f"{name}{ext}"
        if path.is_file():
            return path
    raise GuestBuildError(f"no guest source named {name!r} in {GUESTS_DIR}")


def _lib_sources() -> list[Path]:
    return sorted(p for p in LIB_DIR.iterdir() if p.suffix in (".S", ".c"))


def _hash_inputs(paths: list[Path], extra: str) -> str:
    digest = hashlib.sha256(extra.encode())
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


def build_guest(
    name: str,
    platform: str = "beagle",
    defines: dict[str, int | str] | None = None,
) -> Path:
    """Build ``guests/<name>`` for ``platform`` and return the path of the ELF file.

    ``defines`` adds ``-D`` options (for example a tick count for the demo guest).
    """
    if platform not in PLATFORMS:
        raise GuestBuildError(f"unknown platform {platform!r} (beagle or vexpress)")
    plat = PLATFORMS[platform]
    if not toolchain_available():
        raise GuestBuildError(f"{CC} not found (apt-get install gcc-arm-none-eabi)")
    source = guest_source(name)
    headers = sorted(LIB_DIR.glob("*.h")) + sorted(GUESTS_DIR.glob("*.h"))
    inputs = [source, *_lib_sources(), *headers, LIB_DIR / "guest.ld"]
    all_defines: dict[str, int | str] = {
        "RAM_BASE": f"0x{plat.ram_base:08x}",
        "PLATFORM": plat.number,
        f"PLATFORM_{plat.name.upper()}": 1,
    }
    all_defines.update(defines or {})
    define_text = ",".join(f"{k}={v}" for k, v in sorted(all_defines.items()))
    key = _hash_inputs(inputs, f"{name}|{platform}|{define_text}")
    out = cache_dir() / f"{name}-{platform}-{key}.elf"
    if out.is_file():
        return out
    cmd = [
        CC,
        "-nostdlib",
        "-nostartfiles",
        "-ffreestanding",
        "-march=armv7-a",
        "-marm",
        "-mfloat-abi=soft",
        "-O1",
        "-g",
        f"-I{LIB_DIR}",
        f"-I{GUESTS_DIR}",
        *(f"-D{k}={v}" for k, v in sorted(all_defines.items())),
        "-T",
        str(LIB_DIR / "guest.ld"),
        f"-Wl,--defsym=RAM_BASE=0x{plat.ram_base:08x}",
        "-Wl,--build-id=none",
        "-Wl,-n",
        str(source),
        *(str(p) for p in _lib_sources()),
        "-o",
    ]
    tmp = out.with_suffix(f".{os.getpid()}.tmp")
    proc = subprocess.run([*cmd, str(tmp)], capture_output=True, text=True)
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise GuestBuildError(f"building guest {name} for {platform} failed:\n{proc.stderr}")
    os.replace(tmp, out)
    return out


def guest_names() -> list[str]:
    """Every guest program in guests/ (without extension)."""
    return sorted(p.stem for p in GUESTS_DIR.iterdir() if p.suffix in (".S", ".c"))


def main(argv: list[str] | None = None) -> int:
    """``python -m hvd.testing.guestbuild NAME [PLATFORM]``: build and print the ELF path."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python -m hvd.testing.guestbuild NAME [beagle|vexpress]", file=sys.stderr)
        return 2
    try:
        print(build_guest(args[0], args[1] if len(args) > 1 else "beagle"))
    except GuestBuildError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
