"""`hvd serve` and `hvd ctl` as processes: signals, sd_notify, logging, errors, systemd units."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from .conftest import wait_for

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def hvd(*args: str) -> list[str]:
    return [sys.executable, "-m", "hvd", *args]


def start_serve(tmp_path: Path, *extra: str, env: dict[str, str] | None = None,
                config: str = "", stderr: Any = subprocess.PIPE) -> tuple[subprocess.Popen, Path]:
    cfg = tmp_path / "hvd.toml"
    cfg.write_text(config)
    sock = tmp_path / "ctl.sock"
    p = subprocess.Popen(
        hvd("serve", "--config", str(cfg), "--control", str(sock),
            "--state-dir", str(tmp_path / "state"), *extra),
        env=env or ENV, stderr=stderr, stdout=subprocess.DEVNULL)
    return p, sock


def ctl(sock: Path, *args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(hvd("ctl", "--control", str(sock), *args), env=ENV,
                          capture_output=True, text=True, timeout=timeout)


def wait_socket(p: subprocess.Popen, sock: Path) -> None:
    wait_for(lambda: sock.exists() or p.poll() is not None, timeout=30)
    assert p.poll() is None, p.stderr.read() if p.stderr else p.returncode


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_daemon_with_status_0_and_sd_notify(tmp_path: Path, sig: int) -> None:
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify"))
    notify.settimeout(30)
    p, sock = start_serve(tmp_path, env={**ENV, "NOTIFY_SOCKET": str(tmp_path / "notify")})
    msgs = [notify.recv(4096).decode()]
    assert msgs[0].startswith("READY=1\n") and "STATUS=0 VMs, 0 running" in msgs[0]
    assert sock.exists() and (os.stat(sock).st_mode & 0o777) == 0o600
    assert (os.stat(sock.parent / "state").st_mode & 0o777) == 0o700
    p.send_signal(sig)
    assert p.wait(30) == 0
    while "STOPPING=1" not in msgs[-1]:
        msgs.append(notify.recv(4096).decode())
    assert not sock.exists()
    err = p.stderr.read().decode()
    assert "Traceback" not in err and "stopping all VMs" in err


def test_abstract_notify_socket(tmp_path: Path) -> None:
    name = f"hvd-test-{os.getpid()}-{time.monotonic_ns()}"
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind("\0" + name)
    notify.settimeout(30)
    p, sock = start_serve(tmp_path, env={**ENV, "NOTIFY_SOCKET": "@" + name})
    assert notify.recv(4096).startswith(b"READY=1")
    p.terminate()
    assert p.wait(30) == 0


def test_journald_priority_prefixes(tmp_path: Path) -> None:
    errfile = open(tmp_path / "stderr", "wb")
    st = os.fstat(errfile.fileno())
    env = {**ENV, "JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}
    p, sock = start_serve(tmp_path, env=env, stderr=errfile)
    wait_socket(p, sock)
    p.terminate()
    assert p.wait(30) == 0
    lines = (tmp_path / "stderr").read_text().splitlines()
    assert lines and all(line.startswith("<") and line[2] == ">" for line in lines), lines
    assert any(line.startswith("<6>hvd.daemon: ") for line in lines)


def test_bad_config_is_one_line_per_mistake_exit_2(tmp_path: Path) -> None:
    p, _ = start_serve(tmp_path, config='[vm.a]\nkernel = "/nope"\nmmu = "fast"\n[typo]\n')
    assert p.wait(30) == 2
    err = p.stderr.read().decode().strip().splitlines()
    assert len(err) == 3, err
    assert all("hvd.toml: " in line for line in err)
    assert "Traceback" not in "".join(err)


def test_second_daemon_refused_and_stale_socket_replaced(tmp_path: Path) -> None:
    p, sock = start_serve(tmp_path)
    wait_socket(p, sock)
    p2, _ = start_serve(tmp_path)
    assert p2.wait(30) == 2
    assert "another hvd daemon is listening" in p2.stderr.read().decode()
    p.kill()  # leaves a stale socket behind
    p.wait()
    assert sock.exists()
    p3, _ = start_serve(tmp_path)
    time.sleep(0.5)
    wait_for(lambda: ctl(sock, "list", "--json").returncode == 0, timeout=30)
    p3.terminate()
    assert p3.wait(30) == 0


def test_ctl_against_empty_daemon(tmp_path: Path) -> None:
    p, sock = start_serve(tmp_path)
    wait_socket(p, sock)
    try:
        r = ctl(sock, "list", "--json")
        assert r.returncode == 0 and json.loads(r.stdout) == []
        r = ctl(sock, "status")
        assert r.returncode == 1 and r.stderr.strip() == "hvd: No VM exists (GenericError)"
        r = ctl(sock, "create", "x", "--kernel", str(tmp_path / "missing.elf"))
        assert r.returncode == 1 and "no such file" in r.stderr and "Traceback" not in r.stderr
        r = ctl(sock, "stats")
        assert r.returncode == 0
        r = ctl(sock, "quit")
        assert r.returncode == 0
        assert p.wait(30) == 0
    finally:
        if p.poll() is None:
            p.kill()


def test_ctl_without_daemon(tmp_path: Path) -> None:
    r = ctl(tmp_path / "none.sock", "list")
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and "is 'hvd serve' running?" in r.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd not installed")
def test_systemd_units_verify() -> None:
    r = subprocess.run(["systemd-analyze", "verify", str(ROOT / "systemd/hvd.service"),
                        str(ROOT / "systemd/hvd.socket")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    text = (ROOT / "systemd/hvd.service").read_text()
    assert "Type=notify" in text and "\nMemoryDenyWriteExecute" not in text


def test_systemd_socket_activation(tmp_path: Path) -> None:
    path = tmp_path / "activated.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(8)
    fd = listener.fileno()
    cfg = tmp_path / "hvd.toml"
    cfg.write_text("")
    cmd = " ".join(hvd("serve", "--config", str(cfg), "--control", str(tmp_path / "unused.sock"),
                       "--state-dir", str(tmp_path / "state")))
    p = subprocess.Popen(["sh", "-c", f"export LISTEN_PID=$$ LISTEN_FDS=1; exec {cmd}"],
                         env=ENV, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         pass_fds=(3,), preexec_fn=lambda: os.dup2(fd, 3))
    try:
        r = None
        for _ in range(60):
            r = ctl(path, "list", "--json")
            if r.returncode == 0:
                break
            time.sleep(0.5)
        assert r is not None and r.returncode == 0, r.stderr if r else None
        assert json.loads(r.stdout) == []
        assert not (tmp_path / "unused.sock").exists()
        p.terminate()
        assert p.wait(30) == 0
        assert path.exists()  # the socket belongs to systemd, not to hvd
    finally:
        if p.poll() is None:
            p.kill()
        listener.close()
