"""``hvd bench SUITE [--json FILE] [--quick]``: run benchmark suites and print rich tables.

Suites live in :mod:`hvd.benchsuite` (compute, mmu, linux). Each figure is a ratio against a
baseline measured in the same run. With ``--json`` the results are also written as one JSON
object ``{"suites": {name: result}, "quick": bool, "host": {...}}``.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from hvd.errors import UsageError

SUITES = ("compute", "mmu", "linux")


def _host_info() -> dict[str, Any]:
    import unicorn

    return {"python": platform.python_version(), "unicorn": unicorn.__version__,
            "machine": platform.machine(), "cpus": os.cpu_count(),
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def run_bench(suite: str, json_path: str | None = None, quick: bool = False) -> int:
    from hvd.testing.guestbuild import GuestBuildError

    if suite not in (*SUITES, "all"):
        raise UsageError(f"unknown benchmark suite {suite!r} (compute, mmu, linux, all)")
    if json_path is not None:
        parent = Path(json_path).expanduser().resolve().parent
        if not parent.is_dir():
            raise UsageError(f"--json {json_path}: directory {parent} does not exist")
    # the guests' diagnostics (unmodelled registers and the like) would drown the tables
    logging.getLogger("hvd").setLevel(logging.ERROR)
    console = Console()
    if not console.is_terminal:  # logs and README excerpts: room for the wide tables
        console = Console(width=max(console.width, 132))
    names = SUITES if suite == "all" else (suite,)
    results: dict[str, Any] = {}
    status = 0
    for name in names:
        mod = __import__(f"hvd.benchsuite.{name}", fromlist=["run"])
        t0 = time.monotonic()
        try:
            results[name] = mod.run(quick, console)
        except GuestBuildError as e:
            console.print(f"[red]{name}: cannot build the benchmark guests: "
                          f"{str(e).splitlines()[0]}[/]")
            results[name] = {"error": str(e)}
            status = 1
        results[name]["suite_seconds"] = round(time.monotonic() - t0, 2)
    if json_path is not None:
        doc = {"quick": quick, "host": _host_info(), "suites": results}
        Path(json_path).expanduser().write_text(json.dumps(doc, indent=2) + "\n")
        console.print(f"results written to {json_path}")
    return status
