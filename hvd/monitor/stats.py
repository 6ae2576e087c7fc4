"""Counters of the shadow-paging monitor: JSON (``--stats-json``) and a rich table (``--stats``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields

from rich.table import Table

from hvd.monitor.tlbops import TLB_OP_NAMES


def _kinds() -> dict[str, int]:
    return {name: 0 for name in TLB_OP_NAMES}


@dataclass
class ShadowStats:
    """Integer event counters. Everything here only ever counts up.

    fills: TLB fills answered (shadow hits and hidden faults alike).
    hidden_faults: shadow misses resolved by a walk, invisible to the guest.
    guest_faults: aborts injected into the guest because its own tables said so.
    tlb_ops / tlb_ops_by_kind: guest TLB maintenance operations seen (and per kind).
    invalidated: shadow entries dropped (by TLB operations, write traps or register changes).
    flush_all: times the whole of Unicorn's TLB had to be flushed because of the shadow.
    wp_traps: guest writes to write-protected table pages (``wp`` sync).
    context_switches: ASID or TTBR0 changes seen.
    scanned_pages: guest code pages scanned for CP15 operations.
    hooks: code hooks placed on CP15 operations.
    retired_code_pages: code pages no longer protected after repeated writes (until they run again).
    asid_flushes_in_place: TLBIASIDs done without Unicorn's whole-TLB flush (only the current
    ASID's non-global pages dropped).
    """

    fills: int = 0
    hidden_faults: int = 0
    guest_faults: int = 0
    tlb_ops: int = 0
    tlb_ops_by_kind: dict[str, int] = field(default_factory=_kinds)
    invalidated: int = 0
    flush_all: int = 0
    wp_traps: int = 0
    context_switches: int = 0
    scanned_pages: int = 0
    hooks: int = 0
    retired_code_pages: int = 0
    asid_flushes_in_place: int = 0

    def count_tlb_op(self, name: str) -> None:
        self.tlb_ops += 1
        by = self.tlb_ops_by_kind
        by[name] = by.get(name, 0) + 1

    def to_dict(self) -> dict[str, int]:
        """A flat mapping of counter name -> int; per-kind TLB counts are ``tlb_ops_<KIND>``."""
        out: dict[str, int] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, dict):
                for kind, n in value.items():
                    out[f"tlb_ops_{kind}"] = int(n)
            else:
                out[f.name] = int(value)
        return out

    def to_json(self) -> str:
        """The counters as a JSON object (the value of ``"shadow"`` in ``--stats-json``)."""
        return json.dumps(self.to_dict(), sort_keys=False)

    def table(self, title: str = "shadow monitor") -> Table:
        """A rich table of the counters; per-kind TLB counts only where non-zero."""
        t = Table(title=title)
        t.add_column("counter")
        t.add_column("value", justify="right")
        for name, value in self.to_dict().items():
            if name.startswith("tlb_ops_") and value == 0:
                continue
            t.add_row(name, f"{value:,}")
        return t
