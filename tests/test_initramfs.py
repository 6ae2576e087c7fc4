"""The initramfs builder (newc cpio + gzip) and `hvd images fetch`'s cache and error paths."""

from __future__ import annotations

import gzip
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from hvd.images import ImagesError, fetch_images, image_paths, newest_kernel_package
from hvd.initramfs import (
    DEFAULT_INIT,
    NewcWriter,
    build_archive,
    build_default_initramfs,
    build_initramfs,
    busybox_applets,
    read_newc,
)

#: a stand-in busybox: some bytes and the applet name table the real binary carries
FAKE_BUSYBOX = b"\x7fELF" + b"\0" * 60 + b"[\0[[\0cat\0cttyhack\0init\0ls\0mount\0sh\0\0tail"

needs_cpio = pytest.mark.skipif(shutil.which("cpio") is None, reason="cpio(1) not installed")


@pytest.fixture
def busybox(tmp_path: Path) -> Path:
    p = tmp_path / "busybox"
    p.write_bytes(FAKE_BUSYBOX)
    return p


def test_applet_table() -> None:
    assert busybox_applets(FAKE_BUSYBOX) == ["[", "[[", "cat", "cttyhack", "init", "ls", "mount",
                                             "sh"]
    assert busybox_applets(b"no table") == []


def test_newc_round_trip() -> None:
    w = NewcWriter()
    w.directory("dev")
    w.file("hello", b"abc", 0o644)
    w.symlink("link", "hello")
    w.char_device("dev/console", 5, 1)
    entries = read_newc(w.to_bytes())
    assert [e.name for e in entries] == ["dev", "hello", "link", "dev/console"]
    assert entries[1].data == b"abc" and stat.S_ISREG(entries[1].mode)
    assert stat.S_ISLNK(entries[2].mode) and entries[2].data == b"hello"
    assert stat.S_ISCHR(entries[3].mode) and entries[3].rdev == (5, 1)
    assert len(w.to_bytes()) % 4 == 0
    with pytest.raises(ValueError):
        w.file("hello", b"again")


@needs_cpio
def test_cpio_lists_the_test_initramfs(busybox: Path, tmp_path: Path) -> None:
    out = build_initramfs(busybox, "#!/bin/sh\necho marker\n/bin/busybox poweroff -f\n",
                          tmp_path / "test.img", {"etc/hvd/check.sh": b"#!/bin/sh\ntrue\n",
                                                  "etc/hvd/data": b"xyz"})
    raw = gzip.decompress(out.read_bytes())
    listing = subprocess.run(["cpio", "-t", "--quiet"], input=raw, capture_output=True,
                             check=True).stdout.decode().split()
    for name in ("init", "bin/busybox", "bin/sh", "bin/ls", "bin/cttyhack", "dev/console",
                 "dev/null", "proc", "sys", "tmp", "etc/hvd/check.sh", "etc/hvd/data"):
        assert name in listing, name
    verbose = subprocess.run(["cpio", "-tv", "--quiet"], input=raw, capture_output=True,
                             check=True).stdout.decode().splitlines()
    console = next(ln for ln in verbose if ln.endswith("dev/console"))
    assert console.startswith("c") and "5," in console and " 1 " in console
    init = next(ln for ln in verbose if ln.endswith(" init"))
    assert init.startswith("-rwxr-xr-x")
    entries = {e.name: e for e in read_newc(raw)}
    assert entries["init"].data.startswith(b"#!/bin/sh\necho marker")
    assert entries["etc/hvd/check.sh"].mode & 0o111 and not entries["etc/hvd/data"].mode & 0o111


@needs_cpio
def test_cpio_extracts_default_initramfs(busybox: Path, tmp_path: Path) -> None:
    out = build_default_initramfs(busybox, tmp_path / "initrd.img")
    raw = gzip.decompress(out.read_bytes())
    names = {e.name for e in read_newc(raw)}
    assert {"init", "etc/inittab", "bin/busybox"} <= names
    init = next(e for e in read_newc(raw) if e.name == "init").data.decode()
    assert init == DEFAULT_INIT
    for fs in ("proc", "sysfs", "devtmpfs"):
        assert f"-t {fs}" in init
    assert "cttyhack" in next(e for e in read_newc(raw) if e.name == "etc/inittab").data.decode()
    # deterministic: same input, same bytes
    again = build_default_initramfs(busybox, tmp_path / "again.img")
    assert again.read_bytes() == out.read_bytes()


def _fake_tools(bindir: Path, download_fails: bool) -> None:
    bindir.mkdir()
    scripts = {
        "dpkg": """case "$1" in
  --print-architecture) echo amd64;;
  --print-foreign-architectures) echo armhf;;
esac""",
        "apt-cache": """case "$1" in
  search) printf 'linux-image-6.1.0-47-armmp - Linux\\nlinux-image-6.1.0-50-armmp - Linux\\n'
          printf 'linux-image-6.1.0-50-rt-armmp - Linux RT\\nlinux-image-6.1.0-9-armmp - old\\n';;
  policy) printf '%s:\\n  Installed: (none)\\n  Candidate: 1.0\\n' "$2";;
esac""",
        "apt-get": ("echo \"Err:1 http://deb.example/debian bookworm/main armhf $2\" >&2\n"
                    "echo \"E: Failed to fetch $2: Temporary failure resolving 'deb.example'\" >&2\n"
                    "exit 100") if download_fails else "exit 0",
        "dpkg-deb": "exit 0",
    }
    for name, body in scripts.items():
        p = bindir / name
        p.write_text("#!/bin/sh\n" + body + "\n")
        p.chmod(0o755)


def test_newest_kernel_and_network_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_tools(tmp_path / "bin", download_fails=True)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/bin:/usr/bin")
    assert newest_kernel_package() == "linux-image-6.1.0-50-armmp"
    with pytest.raises(ImagesError) as e:
        fetch_images(tmp_path / "images", progress=False)
    msg = str(e.value)
    assert "\n" not in msg and "Temporary failure resolving" in msg
    assert "linux-image-6.1.0-50-armmp:armhf" in msg


def test_apt_missing_is_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ImagesError) as e:
        fetch_images(tmp_path / "images", progress=False)
    assert "apt" in str(e.value) and "\n" not in str(e.value)
    assert e.value.status != 0


def test_cache_needs_no_apt(busybox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dest = tmp_path / "images"
    dest.mkdir()
    paths = image_paths(dest)
    paths["kernel"].write_bytes(b"zImage")
    paths["dtb"].write_bytes(b"\xd0\x0d\xfe\xed")
    shutil.copy(busybox, paths["busybox"])
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    got = fetch_images(dest, progress=False)
    assert got == paths and paths["initrd"].is_file()
    mtime = os.stat(paths["initrd"]).st_mtime_ns
    fetch_images(dest, progress=False)
    assert os.stat(paths["initrd"]).st_mtime_ns == mtime  # cached: not rebuilt


def test_extra_programs_are_executable(busybox: Path) -> None:
    """Scripts and ELF programs among the extra files get mode 0755 (an exec of a 0644 file is
    EACCES, as QEMU showed for the benchmark's /usr/bin/true); other files 0644."""
    raw = build_archive(busybox.read_bytes(), "#!/bin/sh\n", {
        "usr/bin/true": b"\x7fELF" + b"\0" * 60, "usr/bin/tool": b"#!/bin/sh\nexit 0\n",
        "etc/motd": b"hello\n"})
    modes = {e.name: stat.S_IMODE(e.mode) for e in read_newc(raw)}
    assert modes["usr/bin/true"] == 0o755 and modes["usr/bin/tool"] == 0o755
    assert modes["etc/motd"] == 0o644
