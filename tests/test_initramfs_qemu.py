"""The default initramfs under QEMU (the independent referee): Debian's armmp kernel on
``-M virt`` reaches the busybox shell, runs commands with pipes, and `poweroff` ends QEMU."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


pexpect = pytest.importorskip("pexpect")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("qemu-system-arm") is None, reason="qemu-system-arm missing"),
]


@pytest.fixture(scope="module")
def images(guest_images: dict[str, Path]) -> dict[str, Path]:
    return guest_images


def test_default_initramfs_shell_and_poweroff(images: dict[str, Path], tmp_path: Path) -> None:
    argv = ["-M", "virt", "-cpu", "cortex-a15", "-m", "256", "-kernel", str(images["kernel"]),
            "-initrd", str(images["initrd"]), "-append", "console=ttyAMA0 quiet",
            "-nographic", "-no-reboot"]
    child = pexpect.spawn("qemu-system-arm", argv, timeout=180, encoding="utf-8",
                          codec_errors="replace")
    child.logfile_read = open(tmp_path / "console.log", "w")
    try:
        child.expect(r"beagle:/# ")
        child.sendline("echo one two | wc -w; cat /proc/mounts | grep -c -e proc -e sysfs "
                       "-e devtmpfs; ls /bin/busybox")
        child.expect(r"\n2\s")
        child.expect(r"\n3\s")
        child.expect("/bin/busybox")
        child.expect(r"beagle:/# ")
        child.sendline("poweroff")
        child.expect(pexpect.EOF, timeout=60)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
