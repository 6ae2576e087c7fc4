"""Counters: flat JSON of integers, rich table."""

from __future__ import annotations

import io
import json

from rich.console import Console

from hvd.monitor.stats import ShadowStats
from hvd.monitor.tlbops import TLB_OP_NAMES


def test_json_is_flat_integers() -> None:
    s = ShadowStats()
    s.fills += 3
    s.count_tlb_op("TLBIMVA")
    s.count_tlb_op("TLBIMVA")
    s.count_tlb_op("TLBIALL")
    d = json.loads(s.to_json())
    for key in ("fills", "hidden_faults", "guest_faults", "tlb_ops", "invalidated", "wp_traps",
                "context_switches", "scanned_pages", "hooks"):
        assert isinstance(d[key], int)
    assert all(isinstance(v, int) for v in d.values())
    assert d["fills"] == 3 and d["tlb_ops"] == 3 and d["tlb_ops_TLBIMVA"] == 2
    assert all(f"tlb_ops_{k}" in d for k in TLB_OP_NAMES)


def test_rich_table_renders() -> None:
    s = ShadowStats(fills=1234567)
    s.count_tlb_op("TLBIASID")
    buf = io.StringIO()
    Console(file=buf, width=100).print(s.table())
    out = buf.getvalue()
    assert "1,234,567" in out and "tlb_ops_TLBIASID" in out and "tlb_ops_TLBIALL " not in out
