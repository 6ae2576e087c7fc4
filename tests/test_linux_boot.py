"""End to end: Debian's stock armmp kernel boots on the emulated BeagleBoard-xM to a busybox
userland whose /init prints markers (uname, cpuinfo, a tmpfs write/read, a fork/exec loop).

Slow (one to three minutes per boot on two cores): marked ``slow``; CI runs it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from hvd.config import VmConfig
from hvd.images import ImagesError, default_dest, fetch_images
from hvd.initramfs import build_initramfs
from hvd.vm import VM

# Issue 6 is open: both modes reach the busybox userland in most runs, but runs under a loaded
# host have also ended in an early oops or a SIGSEGV of init (not root-caused yet). The test runs
# in CI all the same and reports XPASS when the boot succeeds.
pytestmark = [pytest.mark.slow,
              pytest.mark.xfail(reason="Linux boot under hvd not yet reliable (issue 6)", strict=False)]

APPEND = "console=ttyO2,115200n8 earlycon=uart8250,mmio32,0x49020000"
INIT = """#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /tmp
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t tmpfs tmp /tmp
echo "MARK uname $(/bin/busybox uname -m)"
echo "MARK cpupart $(/bin/busybox grep -m1 'CPU part' /proc/cpuinfo | /bin/busybox sed 's/.*: //')"
echo hvd-tmpfs > /tmp/f
echo "MARK tmpfs $(/bin/busybox cat /tmp/f)"
i=0
while [ $i -lt 20 ]; do /bin/busybox true; i=$((i+1)); done
echo "MARK forks $i"
echo "MARK pipe $(echo abc | /bin/busybox tr a-z A-Z)"
echo "MARK done"
/bin/busybox poweroff -f
"""


@pytest.fixture(scope="module")
def images() -> dict[str, Path]:
    dest = Path(os.environ["HVD_IMAGES"]) if "HVD_IMAGES" in os.environ else default_dest()
    try:
        return fetch_images(dest, progress=False)
    except ImagesError as e:
        pytest.skip(f"guest images unavailable: {e}")


@pytest.fixture(scope="module")
def test_initrd(images, tmp_path_factory) -> Path:
    return build_initramfs(images["busybox"], INIT, tmp_path_factory.mktemp("linux") / "test.img")


@pytest.mark.parametrize("mmu, sync", [("shadow", "tlb"), ("native", "tlb")], ids=["shadow-tlb", "native"])
def test_linux_boots_to_busybox_userland(images, test_initrd, mmu, sync):
    cfg = VmConfig.from_mapping({
        "kernel": str(images["kernel"]), "dtb": str(images["dtb"]), "initrd": str(test_initrd),
        "append": APPEND, "serial": "none", "mmu": mmu, "shadow_sync": sync}, "test", name="linux")
    vm = VM(cfg)
    out = bytearray()
    vm.add_console_listener(out.extend)
    t0 = time.monotonic()
    vm.start()
    try:
        while time.monotonic() - t0 < 600 and vm.status == "running":
            if b"MARK done" in out or b"Kernel panic" in out:
                break
            time.sleep(0.5)
    finally:
        wall = time.monotonic() - t0
        stats = vm.stats()
        vm.shutdown()
    text = out.decode(errors="replace")
    tail = text[-3000:]
    assert "Kernel panic" not in text, tail
    assert "MARK done" in text, f"no MARK done after {wall:.0f} s ({vm.status})\n{tail}"
    assert "CPU: ARMv7 Processor [413fc082] revision 2" in text
    assert "OMAP3630/DM3730" in text
    assert "MARK uname armv7l" in text
    assert "MARK cpupart 0xc08" in text
    assert "MARK tmpfs hvd-tmpfs" in text
    assert "MARK forks 20" in text
    assert "MARK pipe ABC" in text
    if mmu == "shadow":
        s = stats["shadow"]
        assert s["fills"] > 0 and s["hidden_faults"] > 0 and s["tlb_ops"] > 0 and s["hooks"] > 0
    print(f"{mmu}/{sync}: userland done after {wall:.1f} s wall")
