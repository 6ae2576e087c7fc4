"""The ``hvd`` command line: run, serve, ctl, images, bench.

Errors a user can cause (bad options, missing or malformed images) print one line on stderr and
exit with status 2; nothing a user types produces a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import NoReturn

from hvd import __version__
from hvd.errors import HvdError

EXIT_TIMEOUT = 124


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _add_run_parser(sub) -> None:
    p = sub.add_parser("run", help="run one VM in the foreground",
                       description="Run one BeagleBoard-xM VM in the foreground.")
    p.add_argument("--board", default="beagleboard-xm", help="board model (beagleboard-xm)")
    p.add_argument("--memory", "-m", default="512M", help="DDR size, e.g. 512M (default), 256M, 1G")
    p.add_argument("--kernel", "-k", required=True,
                   help="guest image: ELF, U-Boot uImage, Linux zImage or raw binary")
    p.add_argument("--load-addr", help="load address of a raw image (default: start of RAM)")
    p.add_argument("--entry", help="entry point (default: from the image)")
    p.add_argument("--dtb", help="device tree blob to pass to the guest (r2)")
    p.add_argument("--initrd", help="initial ramdisk")
    p.add_argument("--append", help="kernel command line (/chosen/bootargs)")
    p.add_argument("--mmu", default="shadow", help="shadow (default) or native")
    p.add_argument("--shadow-sync", default="tlb", help="tlb (default) or wp")
    p.add_argument("--clock", default="realtime",
                   help="realtime (default) or warp: skip idle time while the guest waits in WFI")
    p.add_argument("--serial", default="stdio", help="stdio (default), tcp:HOST:PORT, file:PATH or none")
    p.add_argument("--gdb", help="GDB remote stub on tcp:HOST:PORT")
    p.add_argument("--gdb-wait", action="store_true", help="wait for gdb to continue before running")
    p.add_argument("--semihosting", action="store_true", help="enable ARM semihosting")
    p.add_argument("--timeout", type=float, help="stop after SECONDS of wall time (exit 124)")
    p.add_argument("--stats", action="store_true", help="print the monitor's statistics at exit")
    p.add_argument("--stats-json", metavar="FILE", help="write the statistics as JSON to FILE")
    p.add_argument("--log-level", default=os.environ.get("HVD_LOG", "warning"),
                   choices=["debug", "info", "warning", "error"])
    p.set_defaults(func=_cmd_run)


def _cmd_run(args: argparse.Namespace) -> int:
    from hvd.config import VmConfig
    from hvd.run import run_vm

    if args.timeout is not None and args.timeout <= 0:
        raise _usage("--timeout must be a positive number of seconds")
    values = {
        "kernel": args.kernel, "memory": args.memory, "mmu": args.mmu,
        "shadow_sync": args.shadow_sync, "serial": args.serial, "semihosting": args.semihosting,
        "board": args.board, "clock": args.clock, "gdb_wait": args.gdb_wait,
    }
    for key in ("load_addr", "entry", "dtb", "initrd", "append", "gdb"):
        v = getattr(args, key)
        if v is not None:
            values[key] = v
    config = VmConfig.from_mapping(values, "hvd run", name="vm0", flags=True)
    return run_vm(config, timeout=args.timeout, stats=args.stats, stats_json=args.stats_json)


def _usage(msg: str) -> HvdError:
    from hvd.errors import UsageError

    return UsageError(msg)


def _add_images_parser(sub) -> None:
    p = sub.add_parser("images", help="guest images (Debian's kernel, DTB, busybox initramfs)")
    isub = p.add_subparsers(dest="images_cmd", required=True, parser_class=_Parser)
    f = isub.add_parser("fetch", help="download and prepare the Debian guest images")
    f.add_argument("--dest", default=None, help="cache directory (default: ~/.cache/hvd/images)")
    f.set_defaults(func=_cmd_images_fetch)


def _cmd_images_fetch(args: argparse.Namespace) -> int:
    from hvd.images import default_dest, fetch_images

    dest = Path(args.dest) if args.dest else default_dest()
    paths = fetch_images(dest)
    for k, v in paths.items():
        print(f"{k}: {v}")
    return 0


def _add_bench_parser(sub) -> None:
    p = sub.add_parser("bench", help="benchmarks (ratios against raw Unicorn, native and QEMU)")
    p.add_argument("suite", nargs="?", default="compute", choices=["compute", "mmu", "linux", "all"])
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.add_argument("--quick", action="store_true", help="smaller workloads (CI smoke run)")
    p.set_defaults(func=_cmd_bench)


def _cmd_bench(args: argparse.Namespace) -> int:
    from hvd.bench import run_bench

    return run_bench(args.suite, json_path=args.json, quick=args.quick)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="hvd", description="hvd: a hypervisor daemon for emulated "
                     "BeagleBoard-xM boards with a shadow-paging monitor.")
    parser.add_argument("--version", action="version", version=f"hvd {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_run_parser(sub)
    try:
        from hvd.daemon import add_serve_parser
        from hvd.ctl import add_ctl_parser
    except ImportError:  # pragma: no cover - during bring-up
        pass
    else:
        add_serve_parser(sub)
        add_ctl_parser(sub)
    _add_images_parser(sub)
    _add_bench_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = getattr(args, "log_level", None) or os.environ.get("HVD_LOG", "warning")
    logging.basicConfig(level=getattr(logging, str(level).upper(), logging.WARNING),
                        format="hvd: %(levelname)s: %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except HvdError as e:
        for line in str(e).splitlines() or [e.__class__.__name__]:
            print(line if line.startswith("hvd") else f"hvd: {line}", file=sys.stderr)
        return e.status
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
