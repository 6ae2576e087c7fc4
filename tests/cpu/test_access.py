"""decode_access: the byte range a (faulting) load or store touches, from its encoding and the
registers before it ran. Decodes are cached by encoding and PC; the registers are applied on
every call, so a cached decode must give each call its own address."""

from __future__ import annotations

from capstone import arm as csarm

from hvd.cpu.access import decode_access

R = {csarm.ARM_REG_R0 + i: 0x1000 * (i + 1) for i in range(13)}
R[csarm.ARM_REG_SP] = 0x8000


def regs(offset: int):
    return lambda r: (R.get(r, 0) + offset) & 0xFFFFFFFF


def test_single_loads_and_stores():
    # ldr r0, [r1, #8] ; str r0, [r1, r2, lsl #2] ; ldrd r0, r1, [r2, #-8]
    a = decode_access(bytes.fromhex("081091e5"), 0x100, False, regs(0))
    assert (a.start, a.length, a.write) == (0x2008, 4, False)
    a = decode_access(bytes.fromhex("020181e7"), 0x104, False, regs(0))
    assert (a.start, a.length, a.write) == (0x2000 + 4 * 0x3000, 4, True)
    a = decode_access(bytes.fromhex("d80042e1"), 0x108, False, regs(0))
    assert (a.start, a.length) == (0x3000 - 8, 8)


def test_block_transfers():
    # ldmdb r2, {r3-r5} ; push {r4, lr}
    a = decode_access(bytes.fromhex("380012e9"), 0x10c, False, regs(0))
    assert (a.start, a.length, a.write) == (0x3000 - 12, 12, False)
    a = decode_access(bytes.fromhex("10402de9"), 0x110, False, regs(0))
    assert (a.start, a.length, a.write) == (0x8000 - 8, 8, True)


def test_a_cached_decode_uses_the_current_registers():
    code = bytes.fromhex("081091e5")  # ldr r1, [r1, #8]
    first = decode_access(code, 0x200, False, regs(0))
    second = decode_access(code, 0x200, False, regs(0x100))
    assert (first.start, second.start) == (0x2008, 0x2108)


def test_pc_relative_load_depends_on_pc():
    code = bytes.fromhex("04009fe5")  # ldr r0, [pc, #4]
    assert decode_access(code, 0x300, False, regs(0)).start == 0x300 + 8 + 4
    assert decode_access(code, 0x400, False, regs(0)).start == 0x400 + 8 + 4
