"""Debian's real armmp zImage and omap3-beagle-xm.dtb, when present (skipped otherwise).

Looked for in ``hvd images fetch``'s cache (``$HVD_IMAGES`` or ``~/.cache/hvd/images``),
``/work/images`` and ``/tmp/guest``; failing those, extracted from a
``linux-image-*-armmp_*_armhf.deb`` under ``/work/images/debs`` with ``dpkg-deb``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import libfdt
import pytest

from hvd.loader import load_guest
from hvd.loader.devicetree import read_chosen

from .util import RAM_BASE

DTB = "omap3-beagle-xm.dtb"


def _cached_dirs() -> list[Path]:
    dirs = [Path("/work/images"), Path("/tmp/guest")]
    try:
        from hvd.images import default_image_dir

        dirs.insert(0, default_image_dir())
    except Exception:  # images support not there: look elsewhere
        pass
    return dirs


@pytest.fixture(scope="module")
def debian(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    for d in _cached_dirs():
        kernels = sorted(d.glob("vmlinuz*")) if d.is_dir() else []
        if kernels and (d / DTB).is_file():
            return kernels[-1], d / DTB
    debs = sorted(Path("/work/images/debs").glob("linux-image-*-armmp_*_armhf.deb"))
    if not debs or shutil.which("dpkg-deb") is None:
        pytest.skip("Debian's armmp kernel and omap3-beagle-xm.dtb are not available "
                    "(run `hvd images fetch`)")
    out = tmp_path_factory.mktemp("debian-kernel")
    tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(debs[-1])], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", str(out), "--wildcards", f"*/{DTB}", "./boot/vmlinuz-*"],
                   stdin=tar.stdout, check=True)
    tar.wait()
    kernels = sorted(out.glob("boot/vmlinuz-*"))
    dtbs = sorted(out.glob(f"usr/lib/linux-image-*/{DTB}"))
    if not kernels or not dtbs:
        pytest.skip(f"{debs[-1].name} has no zImage or {DTB}")
    return kernels[0], dtbs[0]


def test_debian_kernel_and_dtb(debian: tuple[Path, Path], tmp_path: Path) -> None:
    kernel, dtb = debian
    initrd = tmp_path / "initrd.img"
    initrd.write_bytes(b"070701" + bytes(1 << 20))
    boot = load_guest(kernel, ram_base=RAM_BASE, ram_size=512 << 20, dtb=dtb, initrd=initrd,
                      append="console=ttyO2,115200n8")
    assert boot.kind == "zimage"
    assert boot.entry == 0x8200_0000 and boot.dtb_addr == 0x8800_0000
    assert boot.regs == {0: 0, 1: 0xFFFF_FFFF, 2: 0x8800_0000}
    blob = next(s.data for s in boot.segments if s.addr == boot.dtb_addr)
    chosen = read_chosen(blob)
    assert chosen["bootargs"] == "console=ttyO2,115200n8"
    assert chosen["stdout-path"] == "serial2:115200n8"  # Debian's DTB: serial2 alias, empty chosen
    assert (chosen["linux,initrd-start"], chosen["linux,initrd-end"]) == boot.initrd_range
    assert chosen["memory"] == (RAM_BASE, 512 << 20)
    # the rest of the tree is intact: the same nodes as the original
    assert node_paths(blob) == node_paths(dtb.read_bytes())


def node_paths(data: bytes) -> list[str]:
    fdt = libfdt.Fdt(data)
    quiet = (libfdt.NOTFOUND,)
    paths: list[str] = []

    def walk(off: int, path: str) -> None:
        paths.append(path)
        child = fdt.first_subnode(off, quiet=quiet)
        while child >= 0:
            walk(child, f"{path.rstrip('/')}/{fdt.get_name(child)}")
            child = fdt.next_subnode(child, quiet=quiet)

    walk(0, "/")
    return paths


def test_debian_kernel_in_small_ram(debian: tuple[Path, Path]) -> None:
    kernel, dtb = debian
    boot = load_guest(kernel, ram_base=RAM_BASE, ram_size=64 << 20, dtb=dtb)
    assert boot.segments[0].addr == 0x8200_0000
    assert RAM_BASE + (32 << 20) + len(boot.segments[0].data) <= boot.dtb_addr < RAM_BASE + (64 << 20)
