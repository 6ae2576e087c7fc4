"""`hvd ctl` (and QEMU's qmp-shell) against the daemon (fake VM, daemon in a thread)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pexpect
import pytest

from .conftest import free_port, wait_for
from .fakevm import FakeVM

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "160"}


def run_ctl(d: Any, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hvd", "ctl", "--control", d.control, *args],
                          env=ENV, capture_output=True, text=True, timeout=60)


@pytest.fixture
def daemon(make_daemon: Any, kernel: Path) -> Any:
    port = free_port()
    d = make_daemon(f'[vm.a]\nkernel = "{kernel}"\nserial = "tcp:127.0.0.1:{port}"\n')
    d.port = port
    return d


def test_ctl_commands(daemon: Any, kernel: Path) -> None:
    vm = FakeVM.instances[0]
    r = run_ctl(daemon, "list")
    assert r.returncode == 0 and "a" in r.stdout and "prelaunch" in r.stdout
    assert f"127.0.0.1:{daemon.port}" in r.stdout
    assert run_ctl(daemon, "status").stdout == "a: prelaunch\n"
    assert run_ctl(daemon, "start", "a").returncode == 0 and vm.status == "running"
    assert run_ctl(daemon, "stop").returncode == 0 and vm.status == "paused"
    assert run_ctl(daemon, "cont", "a").returncode == 0 and vm.status == "running"
    assert run_ctl(daemon, "reset").returncode == 0
    assert run_ctl(daemon, "powerdown").returncode == 0
    assert vm.calls == ["start", "pause", "resume", "reset", "powerdown"]
    assert json.loads(run_ctl(daemon, "status", "--json").stdout)["status"] == "running"
    r = run_ctl(daemon, "hmp", "info", "shadow")
    assert r.returncode == 0 and r.stdout == "shadow: mode tlb, 12 entries\n"
    r = run_ctl(daemon, "stats")
    assert r.returncode == 0 and "shadow.tlb_ops" in r.stdout and "cpu.instructions" in r.stdout
    # create / destroy (relative kernel path resolved by the client)
    r = subprocess.run([sys.executable, "-m", "hvd", "ctl", "--control", daemon.control,
                        "create", "b", "--kernel", kernel.name, "--memory", "128M",
                        "--shadow-sync", "wp", "--autostart"],
                       env=ENV, capture_output=True, text=True, cwd=kernel.parent)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("created b (running)")
    lst = json.loads(run_ctl(daemon, "list", "--json").stdout)
    assert [v["name"] for v in lst] == ["a", "b"]
    assert lst[1]["config"]["shadow_sync"] == "wp" and lst[1]["config"]["memory"] == 128 << 20
    r = run_ctl(daemon, "status")
    assert r.returncode == 1 and "'vm' is missing" in r.stderr
    r = run_ctl(daemon, "top", "--interval", "0.2", "--iterations", "2")
    assert r.returncode == 0 and "instr/s" in r.stdout and "b" in r.stdout
    assert run_ctl(daemon, "destroy", "b").returncode == 0
    r = run_ctl(daemon, "destroy", "b")
    assert r.returncode == 1 and r.stderr.strip() == "hvd: VM 'b' not found (GenericError)"
    r = run_ctl(daemon, "create", "c", "--kernel", "/x", "--mmu", "turbo")
    assert r.returncode == 2 and "invalid choice" in r.stderr


def test_ctl_console_like_telnet(daemon: Any) -> None:
    run_ctl(daemon, "start")
    child = pexpect.spawn(sys.executable, ["-m", "hvd", "ctl", "--control", daemon.control,
                                           "console", "a"], env=ENV, timeout=15)
    try:
        child.expect("Connected to a")
        child.expect("hello from a")
        child.send("typed\r")
        child.expect("typed")
        wait_for(lambda: FakeVM.instances[0].inputs.endswith(b"typed\r"))
        child.sendcontrol("]")
        child.expect("Connection closed")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0


def test_ctl_console_without_tcp(make_daemon: Any, kernel: Path) -> None:
    d = make_daemon(f'[vm.a]\nkernel = "{kernel}"\n')
    r = run_ctl(d, "console", "a")
    assert r.returncode == 1 and "has no TCP console" in r.stderr


def test_qmp_shell_unchanged(daemon: Any) -> None:
    child = pexpect.spawn(sys.executable, ["-m", "qemu.qmp.qmp_shell", daemon.control],
                          env=ENV, timeout=15)
    try:
        child.expect("Welcome to the QMP low-level shell")
        child.expect(r"\(QEMU\)")
        child.sendline("query-status")
        child.expect('"status": "prelaunch"')
        child.expect(r"\(QEMU\)")
        child.sendline("stop bogus=1")
        child.expect("Parameter 'bogus' is unexpected")
        child.expect(r"\(QEMU\)")
        child.sendeof()
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    # HMP mode: lines go through human-monitor-command
    child = pexpect.spawn(sys.executable, ["-m", "qemu.qmp.qmp_shell", "-H", daemon.control],
                          env=ENV, timeout=15)
    try:
        child.expect("Welcome to the HMP shell")
        child.sendline("info status")
        child.expect("VM status: prelaunch")
        child.sendline("info shadow")
        child.expect("shadow: mode tlb")
        child.expect(r"\(QEMU\)")
        child.sendeof()
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)


def test_ctl_console_piped_input(daemon: Any) -> None:
    run_ctl(daemon, "start")
    r = subprocess.run([sys.executable, "-m", "hvd", "ctl", "--control", daemon.control,
                        "console", "a"], input=b"piped line\n", env=ENV, capture_output=True,
                       timeout=60)
    assert r.returncode == 0
    assert b"hello from a" in r.stdout and b"piped line\n" in r.stdout
    assert b"\xff" not in r.stdout
