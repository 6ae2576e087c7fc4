"""hvd.cpu.nextpc: the address a single step must stop at."""

from __future__ import annotations

import struct

import pytest
from capstone import arm as csarm

from hvd.cpu.nextpc import condition_passed, next_pc

PC = 0xC031FC88
REGS = {csarm.ARM_REG_LR: 0xC03099D8, csarm.ARM_REG_SP: 0x1000, csarm.ARM_REG_R0: 0,
        csarm.ARM_REG_R3: 0x2001}
MEM = {0x1000: 0x11111111, 0x1004: 0x22222223}
Z, N, C, V = 1 << 30, 1 << 31, 1 << 29, 1 << 28


def step(word: int, cpsr: int = 0x13, thumb: bool = False, pc: int = PC) -> int | None:
    code = struct.pack("<HH", word & 0xFFFF, word >> 16) if thumb else struct.pack("<I", word)
    return next_pc(code, pc, thumb, cpsr, lambda r: REGS.get(r, 0), MEM.get)


@pytest.mark.parametrize("word,cpsr,expected", [
    (0xE12FFF1E, 0x13, 0xC03099D8),        # bx lr
    (0xE12FFF13, 0x13, 0x2000),            # bx r3 (Thumb target: the bit goes)
    (0xE1A0F00E, 0x13, 0xC03099D8),        # mov pc, lr
    (0xE8BD8010, 0x13, 0x22222222),        # pop {r4, pc}: the word above r4 on the stack
    (0x0A000003, 0x13, PC + 4),            # beq, Z clear: not taken
    (0x0A000003, Z | 0x13, PC + 8 + 12),   # beq, Z set: taken
    (0xEB000010, 0x13, PC + 8 + 0x40),     # bl
    (0xF1080080, 0x13, PC + 4),            # cpsie i
    (0xE5912000, 0x13, PC + 4),            # ldr r2, [r1]
    (0xE25EF004, 0x13, None),              # subs pc, lr, #4: exception return
    (0xE8FD8000, 0x13, None),              # ldm sp!, {pc}^: exception return
])
def test_arm(word, cpsr, expected):
    assert step(word, cpsr) == expected


def test_thumb():
    assert step(0x4770, thumb=True, pc=0x8000) == 0xC03099D8   # bx lr
    assert step(0xB100, thumb=True, pc=0x8000) == 0x8004       # cbz r0 (r0 == 0): taken
    assert step(0xB100, thumb=True, pc=0x8000, cpsr=0x33 | (1 << 25)) is None  # in an IT block


def test_conditions():
    assert condition_passed(csarm.ARM_CC_GE, N | V) and not condition_passed(csarm.ARM_CC_GE, N)
    assert condition_passed(csarm.ARM_CC_HI, C) and not condition_passed(csarm.ARM_CC_HI, C | Z)
    assert condition_passed(csarm.ARM_CC_LE, Z) and condition_passed(csarm.ARM_CC_AL, 0)
