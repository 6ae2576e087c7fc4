"""The shadow-paging monitor: the only guest-table walker, the shadow tables, TLB-operation decode,
the CP15 scanner and the monitor's counters. Nothing here needs Unicorn; ``hvd.cpu`` wires it in.

See docs/monitor.md for the terms and data structures.
"""

from hvd.monitor.shadow import WP, ShadowEntry, ShadowTables
from hvd.monitor.stats import ShadowStats
from hvd.monitor.tlbops import TLB_OPS, TlbOp, decode_cp15_write, decode_tlb_op, operand
from hvd.monitor.walker import (PL0, PL1, UC_ACCESS, RWX, R, W, X, Fault, Translation,
                                walk)

__all__ = [
    "PL0", "PL1", "R", "RWX", "TLB_OPS", "UC_ACCESS", "W", "WP", "X", "Fault", "ShadowEntry",
    "ShadowStats", "ShadowTables", "TlbOp", "Translation", "decode_cp15_write", "decode_tlb_op",
    "operand", "walk",
]
