"""``--stats``: the VM's counters as rich tables."""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.table import Table


def print_stats(report: dict[str, Any], file=None) -> None:
    console = Console(file=file or sys.stderr)
    t = Table(title=f"hvd {report.get('vm', '')}: {report.get('mmu')}"
              + (f"/{report['shadow_sync']}" if report.get("shadow_sync") and report.get("mmu") == "shadow" else ""))
    t.add_column("counter")
    t.add_column("value", justify="right")
    for section in ("shadow", "cpu"):
        for k, v in (report.get(section) or {}).items():
            if isinstance(v, dict):
                for k2, v2 in sorted(v.items()):
                    t.add_row(f"{section}.{k}.{k2}", f"{v2:,}")
            else:
                t.add_row(f"{section}.{k}", f"{v:,}" if isinstance(v, int) else str(v))
    console.print(t)
