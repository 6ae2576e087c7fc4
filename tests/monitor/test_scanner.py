"""The CP15 scanner on code assembled by arm-none-eabi-as (ARM and Thumb-2), with decoys.

Expected finds are labelled in the source as ``exp_<KIND>_r<Rt>_<n>``; their addresses come from
the assembler's symbol table, so the test states intent and the tools state the layout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hvd.monitor.scanner import scan_page, split
from tests.monitor.support import examples

AS = shutil.which("arm-none-eabi-as")
pytestmark = pytest.mark.skipif(AS is None, reason="arm-none-eabi-as not installed")

BASE = 0xC000_8000

ARM_SRC = r"""
    .syntax unified
    .arm
    .text
exp_TLBIMVA_r0_0:    mcr p15, 0, r0, c8, c7, 1
    mov r1, r2
exp_TLBIALL_r1_1:    mcr p15, 0, r1, c8, c7, 0
exp_TLBIASID_r2_2:   mcrne p15, 0, r2, c8, c7, 2
exp_TLBIMVAA_r3_3:   mcr p15, 0, r3, c8, c7, 3
exp_ITLBIALL_r4_4:   mcr p15, 0, r4, c8, c5, 0
exp_ITLBIMVA_r4_5:   mcr p15, 0, r4, c8, c5, 1
exp_ITLBIASID_r4_6:  mcr p15, 0, r4, c8, c5, 2
exp_DTLBIALL_r5_7:   mcr p15, 0, r5, c8, c6, 0
exp_DTLBIMVA_r5_8:   mcr p15, 0, r5, c8, c6, 1
exp_DTLBIASID_r5_9:  mcreq p15, 0, r5, c8, c6, 2
exp_TLBIALLIS_r6_10: mcr p15, 0, r6, c8, c3, 0
exp_TLBIMVAIS_r6_11: mcr p15, 0, r6, c8, c3, 1
exp_TLBIASIDIS_r6_12: mcr p15, 0, r6, c8, c3, 2
exp_TLBIMVAAIS_r6_13: mcr p15, 0, r6, c8, c3, 3
exp_TTBR0_r7_14:     mcr p15, 0, r7, c2, c0, 0
exp_TTBR1_r8_15:     mcr p15, 0, r8, c2, c0, 1
exp_TTBCR_r9_16:     mcr p15, 0, r9, c2, c0, 2
exp_CONTEXTIDR_r10_17: mcr p15, 0, r10, c13, c0, 1
exp_SCTLR_r11_18:    mcr p15, 0, r11, c1, c0, 0
exp_DACR_r12_19:     mcr p15, 0, r12, c3, c0, 0
exp_TLBIMVA_r14_20:  mcr p15, 0, lr, c8, c7, 1
    @ decoys: none of these may be reported
    mcr p14, 0, r0, c8, c7, 1       @ debug coprocessor, same CRn/CRm/opc2
    mcr p15, 0, r0, c7, c5, 0       @ ICIALLU (cache maintenance)
    mcr p15, 0, r0, c7, c14, 1      @ DCCIMVAC
    mcr p15, 0, r0, c7, c10, 4      @ CP15DSB
    mrc p15, 0, r0, c2, c0, 0       @ a read of TTBR0
    mrc p15, 0, r0, c8, c7, 1       @ MRC with a TLB encoding: not a write
    mcr p15, 1, r0, c8, c7, 1       @ opc1 = 1
    mcr p15, 0, r0, c13, c0, 0      @ FCSEIDR
    mcr p15, 0, r0, c1, c0, 1       @ ACTLR
    mcr p15, 0, r0, c2, c0, 3       @ not a register
    .word 0xfe080f37                @ MCR2 p15 (cond = 1111)
    .word 0xee080f27                @ bit 4 clear: CDP, not MCR
    ldr r0, =0x12345678
    b .
    .ltorg
exp_TLBIMVA_r0_21:   .word 0xee080f37   @ a literal that decodes as TLBIMVA counts
"""

THUMB_SRC = r"""
    .syntax unified
    .thumb
    .text
    movs r0, #1                     @ 16-bit: the next one is only halfword aligned
exp_TLBIMVA_r0_0:    mcr p15, 0, r0, c8, c7, 1
    movs r1, #2
exp_TLBIASID_r5_1:   mcr p15, 0, r5, c8, c7, 2
    nop
    cmp r0, r1
    it ne
exp_TLBIALL_r2_2:    mcrne p15, 0, r2, c8, c7, 0
exp_DTLBIMVA_r9_3:   mcr p15, 0, r9, c8, c6, 1
    adds r0, r0, #1
exp_CONTEXTIDR_r1_4: mcr p15, 0, r1, c13, c0, 1
exp_TTBR0_r3_5:      mcr p15, 0, r3, c2, c0, 0
    @ decoys
    mcr p14, 0, r0, c8, c7, 1
    mcr p15, 0, r0, c7, c5, 0
    mrc p15, 0, r0, c8, c7, 1
    mcr2 p15, 0, r0, c8, c7, 1
    movs r0, #0
exp_SCTLR_r4_6:      mcr p15, 0, r4, c1, c0, 0
    bx lr
"""


def assemble(tmp: Path, name: str, src: str) -> tuple[bytes, dict[int, tuple[str, int]]]:
    s = tmp / f"{name}.s"
    o = tmp / f"{name}.o"
    b = tmp / f"{name}.bin"
    s.write_text(src)
    subprocess.run([AS, "-march=armv7-a", "-o", str(o), str(s)], check=True,
                   capture_output=True)
    subprocess.run(["arm-none-eabi-objcopy", "-O", "binary", str(o), str(b)], check=True)
    nm = subprocess.run(["arm-none-eabi-nm", str(o)], check=True, capture_output=True,
                        text=True).stdout
    expected: dict[int, tuple[str, int]] = {}
    for line in nm.splitlines():
        addr, _t, sym = line.split()
        if sym.startswith("exp_"):
            _, kind, rt, _n = sym.split("_")
            expected[BASE + int(addr, 16)] = (kind, int(rt[1:]))
    data = b.read_bytes()
    return data + bytes(4096 - len(data)), expected


def test_arm_page(tmp_path: Path) -> None:
    data, expected = assemble(tmp_path, "arm", ARM_SRC)
    found = scan_page(data, BASE, thumb=False)
    assert {op.address: (op.kind, op.rt) for op in found} == expected
    assert all(op.mode == "arm" and op.size == 4 for op in found)
    by_addr = {op.address: op for op in found}
    conds = {by_addr[a].kind: by_addr[a].cond for a in by_addr}
    assert conds["TLBIASID"] == 0x1 and conds["DTLBIASID"] == 0x0 and conds["TTBR0"] == 0xE
    tlb, regs = split(found)
    assert {op.kind for op in regs} == {"TTBR0", "TTBR1", "TTBCR", "CONTEXTIDR", "SCTLR", "DACR"}
    assert len(tlb) == len(found) - 6


def test_thumb_page_any_halfword(tmp_path: Path) -> None:
    data, expected = assemble(tmp_path, "thumb", THUMB_SRC)
    found = scan_page(data, BASE, thumb=True)
    assert {op.address: (op.kind, op.rt) for op in found} == expected
    assert any(a % 4 == 2 for a in expected)  # really at a halfword-only alignment
    assert all(op.mode == "thumb" for op in found)


def test_both_modes_find_a_superset(tmp_path: Path) -> None:
    data, expected = assemble(tmp_path, "arm", ARM_SRC)
    found = scan_page(data, BASE, thumb=None)
    arm = {op.address for op in found if op.mode == "arm"}
    assert arm == set(expected)


def test_instruction_cut_by_page_end_is_not_reported() -> None:
    word = bytes.fromhex("08ee375f")  # Thumb TLBIMVA r5
    page = bytes(4094) + word[:2]
    assert scan_page(page, 0, thumb=True) == []
    page = bytes(4092) + word
    assert [op.address for op in scan_page(page, 0, thumb=True)] == [4092]


@settings(max_examples=examples(100), deadline=None)
@given(st.binary(min_size=0, max_size=4096), st.sampled_from([True, False, None]))
def test_random_bytes_never_raise(data: bytes, thumb: bool | None) -> None:
    for op in scan_page(data, 0x1000, thumb):
        assert 0x1000 <= op.address < 0x1000 + len(data)
        assert op.category in ("tlb", "reg")


def test_dense_page_of_candidates() -> None:
    word = (0xEE080F37).to_bytes(4, "little")
    ops = scan_page(word * 1024, 0, thumb=False)
    assert len(ops) == 1024 and {op.kind for op in ops} == {"TLBIMVA"}
    if os.environ.get("HVD_SCAN_TIMING"):
        import timeit

        page = os.urandom(4096)
        n = 200
        t = timeit.timeit(lambda: scan_page(page, 0), number=n) / n
        print(f"scan_page on a random 4 KiB page: {t * 1e6:.1f} us")
