"""End to end: Debian's stock armmp kernel boots on the emulated BeagleBoard-xM to a busybox
userland whose /init prints markers (uname, cpuinfo, a tmpfs write/read, a fork/exec loop).

Slow (one to three minutes per boot on two cores): marked ``slow``; CI runs it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hvd.config import VmConfig
from hvd.initramfs import build_initramfs
from hvd.vm import VM

pytestmark = pytest.mark.slow

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
/bin/busybox cp /bin/busybox /tmp/nx
/bin/busybox chmod 644 /tmp/nx
/tmp/nx true 2>/dev/null
echo "MARK noexec $?"
echo "MARK pipe $(echo abc | /bin/busybox tr a-z A-Z)"
echo "MARK done"
/bin/busybox poweroff -f
"""


@pytest.fixture(scope="module")
def images(guest_images: dict[str, Path]) -> dict[str, Path]:
    return guest_images


@pytest.fixture(scope="module")
def test_initrd(images, tmp_path_factory) -> Path:
    return build_initramfs(images["busybox"], INIT, tmp_path_factory.mktemp("linux") / "test.img")


@pytest.mark.parametrize("mmu, sync", [("shadow", "tlb"), ("native", "tlb")],
                         ids=["shadow-tlb", "native"])
def test_linux_boots_to_busybox_userland_and_powers_off(images, test_initrd, tmp_path, mmu, sync):
    """`hvd run` as a user runs it; the guest's `poweroff` ends it with status 0."""
    log, stats_json = tmp_path / "console.log", tmp_path / "stats.json"
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "hvd", "run", "--kernel", str(images["kernel"]),
                        "--dtb", str(images["dtb"]), "--initrd", str(test_initrd),
                        "--append", APPEND + " print-fatal-signals=1",
                        "--mmu", mmu, "--shadow-sync", sync,
                        "--serial", f"file:{log}", "--stats-json", str(stats_json),
                        "--timeout", "600"], capture_output=True, text=True, timeout=700)
    wall = time.monotonic() - t0
    text = log.read_text(errors="replace") if log.exists() else ""
    tail = text[-3000:]
    assert "Kernel panic" not in text, tail
    assert "MARK done" in text, f"no MARK done after {wall:.0f} s (status {r.returncode})\n{tail}"
    assert "CPU: ARMv7 Processor [413fc082] revision 2" in text
    assert "OMAP3630/DM3730" in text
    assert "MARK uname armv7l" in text
    assert "MARK cpupart 0xc08" in text
    assert "MARK tmpfs hvd-tmpfs" in text
    assert "MARK forks 20" in text
    # exec of a file without any x bit fails with EACCES, even for root (the shell says 126)
    assert "MARK noexec 126" in text
    assert "MARK pipe ABC" in text
    # no silent starvation of the clockevent (interrupts not taken in short unmasked windows)
    assert "soft lockup" not in text and "controller timed out" not in text, tail
    # print-fatal-signals: any user process killed by a signal is reported (with its registers)
    assert "unexpected fatal signal" not in text, tail
    assert "reboot: Power down" in text, tail
    assert r.returncode == 0, (r.returncode, r.stderr[-2000:])
    stats = json.loads(stats_json.read_text())
    assert stats["cpu"]["instructions"] > 1_000_000_000
    if mmu == "shadow":
        s = stats["shadow"]
        assert s["fills"] > 0 and s["hidden_faults"] > 0 and s["tlb_ops"] > 0 and s["hooks"] > 0
    print(f"{mmu}/{sync}: powered off after {wall:.1f} s wall")


REBOOT_INIT = """#!/bin/busybox sh
/bin/busybox mkdir -p /proc
/bin/busybox mount -t proc proc /proc
echo "MARK booted"
/bin/busybox reboot -f
"""


def test_linux_reboot_resets_the_board_and_boots_again(images, tmp_path):
    """`reboot` in the guest resets the board through the PRM (RST_CTRL) and the kernel boots
    again from the same images."""
    initrd = build_initramfs(images["busybox"], REBOOT_INIT, tmp_path / "reboot.img")
    cfg = VmConfig.from_mapping({
        "kernel": str(images["kernel"]), "dtb": str(images["dtb"]), "initrd": str(initrd),
        "append": APPEND, "serial": "none", "mmu": "native"}, "test", name="linux")
    vm = VM(cfg)
    out = bytearray()
    vm.add_console_listener(out.extend)
    t0 = time.monotonic()
    vm.start()
    try:
        while time.monotonic() - t0 < 400 and out.count(b"MARK booted") < 2:
            if b"Kernel panic" in out or vm.status != "running":
                break
            time.sleep(0.5)
    finally:
        vm.shutdown()
    text = out.decode(errors="replace")
    assert text.count("MARK booted") >= 2, text[-3000:]
    assert "reboot: Restarting system" in text
    assert text.count("Booting Linux on physical CPU") >= 2
