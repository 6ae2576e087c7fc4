"""``hvd run`` as a user meets it: exit statuses and one clear line for every kind of bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HVD = [sys.executable, "-m", "hvd"]


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([*HVD, *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def assert_one_line_error(r: subprocess.CompletedProcess, *words: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.stderr
    for w in words:
        assert w.lower() in lines[0].lower(), lines[0]


@pytest.fixture(scope="module")
def spin_elf(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("cli")
    if subprocess.run(["which", "arm-none-eabi-as"], capture_output=True).returncode:
        pytest.skip("arm-none-eabi binutils not installed")
    (d / "s.S").write_text(".global _start\n_start: b _start\n")
    subprocess.run(["arm-none-eabi-as", "-o", str(d / "s.o"), str(d / "s.S")], check=True)
    subprocess.run(["arm-none-eabi-ld", "-Ttext=0x80000000", "-o", str(d / "s.elf"), str(d / "s.o")], check=True)
    return d / "s.elf"


def test_missing_kernel_file(tmp_path):
    assert_one_line_error(run("run", "--kernel", str(tmp_path / "nope.elf")), "no such file")


def test_elf_for_another_machine():
    assert_one_line_error(run("run", "--kernel", sys.executable if Path(sys.executable).is_file() else "/bin/true"),
                          "ELF")


def test_image_larger_than_ram(tmp_path):
    big = tmp_path / "big.bin"
    with open(big, "wb") as f:
        f.truncate(3 << 20)
    assert_one_line_error(run("run", "--kernel", str(big), "--memory", "2M", "--load-addr", "0x80000000"))


def test_load_address_outside_ram(tmp_path):
    img = tmp_path / "img.bin"
    img.write_bytes(b"\xfe\xff\xff\xea" * 4)
    assert_one_line_error(run("run", "--kernel", str(img), "--load-addr", "0x10000000"), "0x10000000")


@pytest.mark.parametrize("size", ["12Q", "-5M", "lots", "3G"])
def test_malformed_or_impossible_memory_size(spin_elf, size):
    assert_one_line_error(run("run", "--kernel", str(spin_elf), "--memory", size), "--memory")


@pytest.mark.parametrize("args, word", [
    (["--mmu", "magic"], "--mmu"),
    (["--shadow-sync", "sometimes"], "--shadow-sync"),
    (["--serial", "carrier-pigeon"], "--serial"),
    (["--gdb", "tcp:localhost:notaport"], "--gdb"),
    (["--timeout", "-1"], "timeout"),
])
def test_bad_options(spin_elf, args, word):
    assert_one_line_error(run("run", "--kernel", str(spin_elf), *args), word)


def test_unknown_option_is_usage_error(spin_elf):
    r = run("run", "--kernel", str(spin_elf), "--frobnicate")
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_timeout_exits_124_and_writes_stats(spin_elf, tmp_path):
    stats = tmp_path / "stats.json"
    r = run("run", "--kernel", str(spin_elf), "--serial", "none", "--timeout", "1",
            "--stats-json", str(stats))
    assert r.returncode == 124, r.stderr
    data = json.loads(stats.read_text())
    for key in ("fills", "hidden_faults", "guest_faults", "tlb_ops", "invalidated", "wp_traps",
                "context_switches", "scanned_pages", "hooks"):
        assert isinstance(data["shadow"][key], int), key


def test_stats_table_on_stderr(spin_elf):
    r = run("run", "--kernel", str(spin_elf), "--serial", "none", "--timeout", "0.5", "--stats")
    assert r.returncode == 124
    assert "fills" in r.stderr


def test_version_and_help():
    assert run("--version").stdout.startswith("hvd ")
    r = run("run", "--help")
    assert r.returncode == 0 and "--shadow-sync" in r.stdout


def test_port_in_use_is_one_line(spin_elf):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    port = s.getsockname()[1]
    try:
        for opt in ("--gdb", "--serial"):
            r = run("run", "--kernel", str(spin_elf), opt, f"tcp:127.0.0.1:{port}", "--timeout", "5")
            assert_one_line_error(r, opt)
    finally:
        s.close()


@pytest.mark.slow  # the fixture fetches the images through apt the first time
def test_images_fetch_uses_the_cache(tmp_path, guest_images):
    """With every file already in the cache, `hvd images fetch` prints the paths (no network)."""
    src = guest_images["kernel"].parent
    needed = ["vmlinuz", "omap3-beagle-xm.dtb", "initrd.img", "busybox"]
    dest = tmp_path / "images"
    dest.mkdir()
    for n in needed:
        (dest / n).symlink_to(src / n)
    r = subprocess.run([*HVD, "images", "fetch"], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "HVD_IMAGES": str(dest)})
    assert r.returncode == 0, r.stderr
    assert "vmlinuz" in r.stdout and "Traceback" not in r.stderr
