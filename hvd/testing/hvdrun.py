"""Run a guest under hvd (``hvd run`` in a subprocess) in one of the memory-virtualization modes.

Modes (the names the guest tests use as parameter ids):

- ``shadow-tlb``: ``--mmu shadow --shadow-sync tlb`` (the paper's method, the default)
- ``shadow-wp``:  ``--mmu shadow --shadow-sync wp``
- ``native``:     ``--mmu native`` (Unicorn walks the guest tables itself)

The command follows the contract in design.md section 5: the exit status is the guest's
semihosting exit status, 124 when ``--timeout`` expires, 2 for bad usage. Semihosting output is
hvd's standard output; UART3 goes wherever ``--serial`` says (``none`` unless asked for).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HVD_MODES: dict[str, list[str]] = {
    "shadow-tlb": ["--mmu", "shadow", "--shadow-sync", "tlb"],
    "shadow-wp": ["--mmu", "shadow", "--shadow-sync", "wp"],
    "native": ["--mmu", "native"],
}

# Starts the CLI through its entry point (hvd.cli:main) without needing the console script
# to be installed or hvd/__main__.py to exist.
_LAUNCH = "import sys; sys.argv[0] = 'hvd'; from hvd.cli import main; sys.exit(main())"
REPO = Path(__file__).resolve().parents[2]


@dataclass
class HvdResult:
    status: int
    stdout: str
    stderr: str
    serial: str  # UART3 output when run with a serial file, else ""
    cpu_seconds: float = 0.0  # user + system CPU time hvd used
    wall_seconds: float = 0.0


def hvd_command(
    elf: Path,
    mode: str,
    timeout: float = 20,
    serial: str = "none",
    semihosting: bool = True,
    extra: list[str] | tuple[str, ...] = (),
) -> list[str]:
    if mode not in HVD_MODES:
        raise ValueError(f"unknown hvd mode {mode!r}; one of {sorted(HVD_MODES)}")
    cmd = [sys.executable, "-c", _LAUNCH, "run", "--kernel", str(elf), *HVD_MODES[mode]]
    if semihosting:
        cmd.append("--semihosting")
    cmd += ["--serial", serial, "--timeout", f"{timeout:g}", *extra]
    return cmd


def run_hvd_full(
    elf: Path,
    mode: str,
    timeout: float = 20,
    serial_file: Path | None = None,
    semihosting: bool = True,
    extra: list[str] | tuple[str, ...] = (),
    stdin: bytes | None = None,
) -> HvdResult:
    """Run ``elf`` under hvd; UART3 is captured in ``serial_file`` when given.

    The CPU time is measured from the children's resource usage, so it is exact only when no
    other child process of this one ends meanwhile (true in a pytest run).
    """
    serial = f"file:{serial_file}" if serial_file is not None else "none"
    cmd = hvd_command(elf, mode, timeout, serial, semihosting, extra)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    try:
        proc = subprocess.run(
            cmd,
            input=stdin if stdin is not None else b"",
            capture_output=True,
            timeout=timeout + 15,  # hvd's own --timeout should fire first
            env=hvd_env(),
            cwd=REPO,
        )
        status, out, err = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as exc:
        status, out, err = -9, exc.stdout or b"", (exc.stderr or b"") + b"\n[hvd did not exit]"
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    serial_text = ""
    if serial_file is not None and serial_file.exists():
        serial_text = serial_file.read_bytes().decode(errors="replace")
    return HvdResult(
        status, out.decode(errors="replace"), err.decode(errors="replace"), serial_text, cpu, wall
    )


def hvd_env() -> dict[str, str]:
    """The environment for an hvd subprocess: this checkout first on the import path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def run_hvd(
    elf: Path, mode: str, timeout: float = 20, extra: list[str] | tuple[str, ...] = ()
) -> tuple[int, str]:
    """Run ``elf`` under hvd with semihosting; return (exit status, semihosting output)."""
    result = run_hvd_full(elf, mode, timeout, extra=extra)
    return result.status, result.stdout
