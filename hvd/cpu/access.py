"""Which addresses a faulting instruction accesses, decoded with capstone.

Unicorn reports a failed TLB fill with the page only, and an abort under its own MMU with
nothing at all; the architecture wants the exact faulting address in DFAR. The vCPU decodes the
instruction at PC (registers are still those before it executed) and computes the byte range it
accesses, from which the first address in the faulting page is the DFAR value.
"""

from __future__ import annotations

from dataclasses import dataclass

from capstone import CS_ARCH_ARM, CS_MODE_ARM, CS_MODE_THUMB, Cs
from capstone import arm as csarm

_cs_arm = Cs(CS_ARCH_ARM, CS_MODE_ARM)
_cs_arm.detail = True
_cs_thumb = Cs(CS_ARCH_ARM, CS_MODE_THUMB)
_cs_thumb.detail = True

_STORE_PREFIXES = ("str", "stm", "push", "vst", "vpush", "srs", "stc", "swp")
_UNPRIV_IDS = frozenset(getattr(csarm, f"ARM_INS_{n}") for n in
                        ("LDRT", "STRT", "LDRBT", "STRBT", "LDRHT", "STRHT", "LDRSBT", "LDRSHT")
                        if hasattr(csarm, f"ARM_INS_{n}"))


@dataclass(frozen=True, slots=True)
class Access:
    start: int
    length: int
    write: bool
    mnemonic: str
    #: LDRT/STRT and friends: checked with PL0 permissions whatever the mode
    unprivileged: bool = False


def _size_of(mn: str) -> int:
    base = mn.split(".")[0]
    if base.startswith(("ldrex", "strex")):
        tail = base[5:]
    elif base.startswith(("ldr", "str")):
        tail = base[3:]
    else:
        tail = ""
    if tail.startswith(("sb", "b")):
        return 1
    if tail.startswith(("sh", "h")):
        return 2
    if tail.startswith("d"):
        return 8
    return 4


#: decoded instructions by (bytes, PC, state): capstone costs ~50 us per instruction, and under
#: shadow paging every guest data abort decodes its instruction (the fill is told only the page)
_plans: dict[tuple[bytes, int, bool], tuple | None] = {}
_PLANS_MAX = 1 << 16
_MISSING = object()


def decode_access(code: bytes, pc: int, thumb: bool, reg) -> Access | None:
    """Decode the instruction in ``code`` at ``pc``; ``reg(capstone_reg_id) -> value``."""
    key = (bytes(code), pc, thumb)
    plan = _plans.get(key, _MISSING)
    if plan is _MISSING:
        if len(_plans) >= _PLANS_MAX:
            _plans.clear()
        plan = _plans[key] = _plan(code, pc, thumb)
    if plan is None:
        return None
    pc_value = ((pc + 4) & ~3) if thumb else pc + 8

    def value(r: int) -> int:
        if r == csarm.ARM_REG_PC:
            return pc_value
        return reg(r)

    if plan[0] == "block":
        _, base_reg, n, mode, write, mn = plan
        base = reg(csarm.ARM_REG_SP) if base_reg is None else value(base_reg)
        if mode == "ib":
            start = base + 4
        elif mode == "da":
            start = base - n + 4
        elif mode == "db":
            start = base - n
        else:
            start = base
        return Access(start & 0xFFFFFFFF, n, write, mn)
    _, base_reg, index_reg, shift, subtracted, disp, size, write, mn, unpriv = plan
    addr = value(base_reg) if base_reg else 0
    if index_reg:
        idx = (value(index_reg) << shift) & 0xFFFFFFFF
        addr = addr - idx if subtracted else addr + idx
    addr += disp
    return Access(addr & 0xFFFFFFFF, size, write, mn, unpriv)


def _plan(code: bytes, pc: int, thumb: bool) -> tuple | None:
    """What :func:`decode_access` needs of the instruction, without register values:
    ("block", base register or None for SP, bytes, mode, write, mnemonic) for LDM/STM and kin,
    ("mem", base, index, shift, subtracted, displacement, size, write, mnemonic, unprivileged)
    for single loads and stores, None for anything else."""
    cs = _cs_thumb if thumb else _cs_arm
    try:
        insn = next(cs.disasm(code, pc, 1))
    except StopIteration:
        return None
    mn = insn.mnemonic.lower()
    write = mn.startswith(_STORE_PREFIXES)
    ops = insn.operands
    core = mn.split(".")[0]
    for stem in ("ldm", "stm", "push", "pop", "vldm", "vstm", "vpush", "vpop"):
        if core.startswith(stem):
            regs = [op for op in ops if op.type == csarm.ARM_OP_REG]
            if stem in ("push", "pop", "vpush", "vpop"):
                base_reg = None
                listed = regs
                mode = "db" if stem in ("push", "vpush") else "ia"
            else:
                if not regs:
                    return None
                base_reg = regs[0].reg
                listed = regs[1:]
                mode = core[len(stem):len(stem) + 2] or "ia"
                if mode == "fd":
                    mode = "ia" if stem.endswith("ldm") else "db"
                elif mode == "ea":
                    mode = "db" if stem.endswith("ldm") else "ia"
            width = 4
            if stem.startswith("v"):
                width = 8 if any(_is_dreg(op.reg) for op in listed) else 4
            n = max(1, len(listed)) * width
            return ("block", base_reg, n, mode, stem in ("stm", "push", "vstm", "vpush"), mn)
    for op in ops:
        if op.type == csarm.ARM_OP_MEM:
            m = op.mem
            shift = 0
            if m.index:
                if op.shift.type == csarm.ARM_SFT_LSL and op.shift.value:
                    shift = op.shift.value
                elif m.lshift:
                    shift = m.lshift
            post_indexed = getattr(insn, "post_index", False)
            disp = 0 if post_indexed else m.disp
            if core.startswith(("vldr", "vstr")):
                size = 8 if any(op2.type == csarm.ARM_OP_REG and _is_dreg(op2.reg) for op2 in ops) else 4
            elif core.startswith(("vld", "vst")):
                size = 8 * max(1, sum(1 for op2 in ops if op2.type == csarm.ARM_OP_REG and _is_dreg(op2.reg)))
            else:
                size = _size_of(core)
            return ("mem", m.base, m.index, shift, bool(op.subtracted), disp, size, write, mn,
                    insn.id in _UNPRIV_IDS)
    return None


def _is_dreg(r: int) -> bool:
    return csarm.ARM_REG_D0 <= r <= csarm.ARM_REG_D31


def first_address_in_page(acc: Access, page: int, page_size: int = 0x400) -> int:
    """The first byte ``acc`` touches inside [page, page+page_size), else its start."""
    end = acc.start + acc.length
    if page <= acc.start < page + page_size:
        return acc.start
    if acc.start < page < end:
        return page
    return acc.start
