"""``hvd images fetch``: Debian's armhf guest images for the BeagleBoard-xM, through apt.

What it leaves in the destination directory (the cache: present files are not fetched again):

* ``vmlinuz`` — the zImage of the newest ``linux-image-6.1.0-<abi>-armmp`` package,
* ``omap3-beagle-xm.dtb`` — the board's device tree from the same package,
* ``busybox`` — the static armhf busybox from ``busybox-static``,
* ``initrd.img`` — the default initramfs (see :mod:`hvd.initramfs`),
* ``debs/`` — the downloaded packages.

apt needs the armhf architecture in dpkg's list: as root it is added (and the lists refreshed)
when missing. ``apt-get update`` is tolerant: a mirror that fails is reported, and only the
package look-up that follows decides whether the lists are good enough.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from hvd.errors import HvdError
from hvd.initramfs import build_default_initramfs

KERNEL_PACKAGE_RE = re.compile(r"^linux-image-6\.1\.0-(\d+)-armmp$")
BUSYBOX_PACKAGE = "busybox-static"
ARCH = "armhf"
DTB_NAME = "omap3-beagle-xm.dtb"
OUTPUTS = ("kernel", "dtb", "initrd", "busybox")
FILE_NAMES = {"kernel": "vmlinuz", "dtb": DTB_NAME, "initrd": "initrd.img", "busybox": "busybox"}


class ImagesError(HvdError):
    """apt is missing, the network or a mirror failed, or a package lacks an expected file."""

    status = 1


def default_dest() -> Path:
    """``$HVD_IMAGES`` or ``~/.cache/hvd/images``."""
    env = os.environ.get("HVD_IMAGES")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hvd" / "images"


def image_paths(dest: Path) -> dict[str, Path]:
    return {k: Path(dest) / FILE_NAMES[k] for k in OUTPUTS}


# -- running apt ---------------------------------------------------------------------------------

def _run(argv: list[str], cwd: Path | None = None,
         check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, LC_ALL="C", DEBIAN_FRONTEND="noninteractive")
    try:
        proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise ImagesError(f"{argv[0]} not found: `hvd images fetch` needs Debian's apt and dpkg")
    if check and proc.returncode != 0:
        raise ImagesError(f"{' '.join(argv[:3])} failed: {_last_error(proc)}")
    return proc


def _last_error(proc: subprocess.CompletedProcess) -> str:
    text = (proc.stderr or "").splitlines() + (proc.stdout or "").splitlines()
    lines = [ln.strip() for ln in text if ln.strip()]
    errors = [ln for ln in lines if ln.startswith(("E:", "Err:", "W: Failed", "dpkg"))]
    pick = (errors or lines or [f"exit status {proc.returncode}"])[-1]
    return pick[:300]


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def check_apt() -> None:
    for tool in ("apt-get", "apt-cache", "dpkg", "dpkg-deb"):
        if shutil.which(tool) is None:
            raise ImagesError(f"{tool} not found: `hvd images fetch` needs Debian's apt and dpkg")


def ensure_armhf() -> bool:
    """Make sure dpkg knows the armhf architecture; True when it was just added."""
    native = _run(["dpkg", "--print-architecture"]).stdout.strip()
    foreign = _run(["dpkg", "--print-foreign-architectures"]).stdout.split()
    if native == ARCH or ARCH in foreign:
        return False
    if not _is_root():
        raise ImagesError("the armhf architecture is not enabled: run `sudo dpkg "
                          "--add-architecture armhf && sudo apt-get update` or run this as root")
    _run(["dpkg", "--add-architecture", ARCH])
    return True


def apt_update() -> str | None:
    """``apt-get update`` that tolerates a partly failing mirror; returns a warning or None."""
    if not _is_root():
        return "not root: using the package lists as they are"
    proc = _run(["apt-get", "update"], check=False)
    if proc.returncode != 0:
        return f"apt-get update: {_last_error(proc)}"
    return None


def newest_kernel_package() -> str | None:
    """The newest ``linux-image-6.1.0-<abi>-armmp`` name apt knows for armhf, or None."""
    proc = _run(["apt-cache", "search", "--names-only", r"^linux-image-6\.1\.0-[0-9]+-armmp$"],
                check=False)
    best: tuple[int, str] | None = None
    for line in proc.stdout.splitlines():
        name = line.split(" ", 1)[0]
        m = KERNEL_PACKAGE_RE.match(name)
        if m and (best is None or int(m.group(1)) > best[0]):
            best = (int(m.group(1)), name)
    if best is None:
        return None
    return best[1]


def has_candidate(package: str) -> bool:
    proc = _run(["apt-cache", "policy", f"{package}:{ARCH}"], check=False)
    m = re.search(r"Candidate:\s*(\S+)", proc.stdout)
    return bool(m and m.group(1) != "(none)")


def download(package: str, debs: Path) -> Path:
    """``apt-get download package:armhf`` into ``debs`` unless a matching .deb is there."""
    debs.mkdir(parents=True, exist_ok=True)
    found = sorted(debs.glob(f"{package}_*_{ARCH}.deb"))
    if found:
        return found[-1]
    _run(["apt-get", "download", f"{package}:{ARCH}"], cwd=debs)
    found = sorted(debs.glob(f"{package}_*_{ARCH}.deb"))
    if not found:
        raise ImagesError(f"apt-get download {package}:{ARCH} left no .deb in {debs}")
    return found[-1]


@contextmanager
def _extracted(deb: Path) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="hvd-deb-") as tmp:
        _run(["dpkg-deb", "-x", str(deb), tmp])
        yield Path(tmp)


def _copy_out(src: Path, dst: Path) -> Path:
    tmp = dst.with_name(dst.name + ".tmp")
    shutil.copyfile(src, tmp)
    tmp.replace(dst)
    return dst


def extract_kernel(deb: Path, dest: Path) -> tuple[Path, Path]:
    paths = image_paths(dest)
    with _extracted(deb) as root:
        kernels = sorted((root / "boot").glob("vmlinuz-*"))
        dtbs = sorted(root.glob(f"usr/lib/linux-image-*/{DTB_NAME}"))
        if not kernels or not dtbs:
            raise ImagesError(f"{deb.name} has no vmlinuz or {DTB_NAME}")
        return _copy_out(kernels[0], paths["kernel"]), _copy_out(dtbs[0], paths["dtb"])


def extract_busybox(deb: Path, dest: Path) -> Path:
    with _extracted(deb) as root:
        for cand in ("bin/busybox", "usr/bin/busybox"):
            if (root / cand).is_file():
                out = _copy_out(root / cand, image_paths(dest)["busybox"])
                out.chmod(0o755)
                return out
    raise ImagesError(f"{deb.name} has no bin/busybox")


# -- the command ---------------------------------------------------------------------------------

def fetch_images(dest: Path, progress: bool = True) -> dict[str, Path]:
    """Fetch (or find in the cache) kernel, DTB and busybox; build the default initramfs.

    Returns ``{"kernel", "dtb", "initrd", "busybox"} -> path``. Raises :class:`ImagesError` with
    one line when apt is unavailable or a download fails.
    """
    dest = Path(dest)
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ImagesError(f"cannot create {dest}: {e.strerror}")
    paths = image_paths(dest)
    need_kernel = not (paths["kernel"].is_file() and paths["dtb"].is_file())
    need_busybox = not paths["busybox"].is_file()
    with _Steps(progress) as steps:
        if need_kernel or need_busybox:
            steps.run("checking apt", check_apt)
            added = steps.run("enabling the armhf architecture", ensure_armhf)
            kernel_pkg = newest_kernel_package() if need_kernel else None
            if added or (need_kernel and kernel_pkg is None) or (
                    need_busybox and not has_candidate(BUSYBOX_PACKAGE)):
                warning = steps.run("apt-get update", apt_update)
                if warning:
                    steps.note(warning)
                if need_kernel:
                    kernel_pkg = newest_kernel_package()
            debs = dest / "debs"
            if need_kernel:
                if kernel_pkg is None:
                    raise ImagesError("apt knows no linux-image-6.1.0-*-armmp package for armhf "
                                      "(is a Debian 12 bookworm source configured?)")
                deb = steps.run(f"downloading {kernel_pkg}", lambda: download(kernel_pkg, debs))
                steps.run("extracting vmlinuz and the DTB", lambda: extract_kernel(deb, dest))
            if need_busybox:
                deb = steps.run(f"downloading {BUSYBOX_PACKAGE}",
                                lambda: download(BUSYBOX_PACKAGE, debs))
                steps.run("extracting busybox", lambda: extract_busybox(deb, dest))
        if not paths["initrd"].is_file():
            steps.run("building the initramfs",
                      lambda: build_default_initramfs(paths["busybox"], paths["initrd"]))
    return paths


class _Steps:
    """A rich progress display of named steps (or silence)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._progress = None

    def __enter__(self) -> "_Steps":
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def _start(self) -> None:
        """Show the display on the first step only: a fully cached fetch prints nothing."""
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._progress = Progress(SpinnerColumn(), TextColumn("{task.description}"),
                                  TimeElapsedColumn(), transient=False)
        self._progress.start()

    def run(self, what: str, fn: Callable[[], object]) -> object:
        if not self.enabled:
            return fn()
        if self._progress is None:
            self._start()
        task = self._progress.add_task(what, total=1)
        try:
            result = fn()
        except BaseException:
            self._progress.update(task, description=f"[red]{what}: failed")
            raise
        self._progress.update(task, completed=1, description=f"[green]{what}")
        return result

    def note(self, text: str) -> None:
        if self.enabled and self._progress is not None:
            self._progress.console.print(f"[yellow]{text}")


def print_paths(paths: dict[str, Path]) -> None:
    """Print the image paths (a rich table) and the command line that boots them."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="hvd guest images", show_header=True)
    table.add_column("image")
    table.add_column("path")
    for key in OUTPUTS:
        table.add_row(key, str(paths[key]))
    console = Console()
    console.print(table)
    console.print(
        f"hvd run --kernel {paths['kernel']} --dtb {paths['dtb']} --initrd {paths['initrd']} "
        "--append 'console=ttyO2,115200n8'", soft_wrap=True, highlight=False)


def cli_fetch(dest: Path | None = None, progress: bool = True) -> int:
    """``hvd images fetch [--dest DIR]``: fetch and print; errors raise :class:`ImagesError`."""
    paths = fetch_images(dest or default_dest(), progress=progress)
    print_paths(paths)
    return 0


#: the name the command line uses
default_image_dir = default_dest
