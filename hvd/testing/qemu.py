"""Run a guest under QEMU's ``vexpress-a9`` with semihosting: the referee for architectural behaviour.

QEMU's Cortex-A9 implements the same ARMv7-A exception model and short-descriptor MMU as the
DM3730's Cortex-A8, so a portable guest (one built with :func:`guestbuild.build_guest` for
``"vexpress"``) must print the same lines there as under hvd.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

QEMU = "qemu-system-arm"
TIMEOUT_STATUS = 124


def qemu_available() -> bool:
    return shutil.which(QEMU) is not None


def qemu_command(elf: Path, memory: str = "256M") -> list[str]:
    return [
        QEMU,
        "-M", "vexpress-a9",
        "-m", memory,
        "-nographic",
        "-monitor", "none",
        "-serial", "none",
        "-chardev", "stdio,id=semihost",
        "-semihosting-config", "enable=on,target=native,chardev=semihost",
        "-kernel", str(elf),
    ]


def run_qemu(elf: Path, timeout: float = 20.0, memory: str = "256M") -> tuple[int, str]:
    """Run ``elf`` and return (exit status, semihosting output). A timeout gives status 124."""
    env = dict(os.environ, QEMU_AUDIO_DRV="none")
    try:
        proc = subprocess.run(
            qemu_command(elf, memory),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            env=env,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout or b""
        return TIMEOUT_STATUS, out.decode(errors="replace")
    return proc.returncode, proc.stdout.decode(errors="replace")
