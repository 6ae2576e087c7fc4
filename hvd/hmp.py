"""Human monitor commands (QMP ``human-monitor-command``, gdb ``monitor``): info status,
info registers, info shadow, info tlb."""

from __future__ import annotations

from typing import TYPE_CHECKING

from unicorn.arm_const import (
    UC_ARM_REG_CPSR, UC_ARM_REG_LR, UC_ARM_REG_PC, UC_ARM_REG_R0, UC_ARM_REG_SP, UC_ARM_REG_SPSR,
)

from hvd.cpu.arm import (
    CP15_CONTEXTIDR, CP15_DACR, CP15_DFAR, CP15_DFSR, CP15_IFAR, CP15_IFSR, CP15_MIDR, CP15_SCTLR,
    CP15_TTBCR, CP15_TTBR0, CP15_TTBR1, CP15_VBAR, CPSR_M, MODE_NAMES,
)

if TYPE_CHECKING:
    from hvd.vm import VM

HELP = """\
info status     run state of the VM
info registers  core registers, banked registers of every mode, CP15 state
info shadow     the shadow monitor's counters
info tlb        the guest's current mappings (walked from its page tables)
help            this text
"""

_BANKED = [("usr", 0x1F), ("svc", 0x13), ("abt", 0x17), ("und", 0x1B), ("irq", 0x12), ("fiq", 0x11)]


def run_hmp(vm: "VM", cmd: str) -> str:
    words = cmd.strip().split()
    if not words or words[0] in ("help", "?"):
        return HELP
    if words[0] == "info" and len(words) >= 2:
        what = words[1]
        if what == "status":
            state = "running" if vm.status == "running" else vm.status
            return f"VM status: {state}\n"
        if what == "registers":
            return info_registers(vm)
        if what == "shadow":
            return info_shadow(vm)
        if what == "tlb":
            return vm.mmu.info_tlb() if hasattr(vm.mmu, "info_tlb") else "no MMU information\n"
    return f"unknown command: '{cmd.strip()}' (try 'help')\n"


def info_registers(vm: "VM") -> str:
    uc = vm.vcpu.uc
    cp = vm.vcpu.cp15
    lines = []
    regs = [uc.reg_read(UC_ARM_REG_R0 + i) for i in range(13)]
    regs += [uc.reg_read(UC_ARM_REG_SP), uc.reg_read(UC_ARM_REG_LR), uc.reg_read(UC_ARM_REG_PC)]
    for i in range(0, 16, 4):
        lines.append("  ".join(f"R{j:02d}={regs[j]:08x}" for j in range(i, i + 4)))
    cpsr = uc.reg_read(UC_ARM_REG_CPSR)
    mode = MODE_NAMES.get(cpsr & CPSR_M, f"{cpsr & CPSR_M:#x}")
    flags = "".join(c if cpsr & (1 << b) else "-" for c, b in
                    (("N", 31), ("Z", 30), ("C", 29), ("V", 28), ("A", 8), ("I", 7), ("F", 6), ("T", 5)))
    lines.append(f"CPSR={cpsr:08x} {flags} {mode}")
    if (cpsr & CPSR_M) not in (0x10, 0x1F):
        lines.append(f"SPSR={uc.reg_read(UC_ARM_REG_SPSR):08x}")
    banked = _banked(vm)
    for name, (sp, lr, spsr) in banked.items():
        extra = "" if spsr is None else f" SPSR_{name}={spsr:08x}"
        lines.append(f"SP_{name}={sp:08x} LR_{name}={lr:08x}{extra}")
    cp15 = [("MIDR", CP15_MIDR), ("SCTLR", CP15_SCTLR), ("TTBR0", CP15_TTBR0), ("TTBR1", CP15_TTBR1),
            ("TTBCR", CP15_TTBCR), ("DACR", CP15_DACR), ("CONTEXTIDR", CP15_CONTEXTIDR),
            ("DFSR", CP15_DFSR), ("DFAR", CP15_DFAR), ("IFSR", CP15_IFSR), ("IFAR", CP15_IFAR),
            ("VBAR", CP15_VBAR)]
    lines.append("  ".join(f"{n}={cp.read(r):08x}" for n, r in cp15[:6]))
    lines.append("  ".join(f"{n}={cp.read(r):08x}" for n, r in cp15[6:]))
    return "\n".join(lines) + "\n"


def _banked(vm: "VM") -> dict[str, tuple[int, int, int | None]]:
    """Read SP/LR/SPSR of every mode by switching CPSR while the vCPU is parked or idle."""
    uc = vm.vcpu.uc
    cpsr = uc.reg_read(UC_ARM_REG_CPSR)
    out: dict[str, tuple[int, int, int | None]] = {}
    try:
        for name, mode in _BANKED:
            uc.reg_write(UC_ARM_REG_CPSR, (cpsr & ~CPSR_M) | mode)
            spsr = None if mode == 0x1F else uc.reg_read(UC_ARM_REG_SPSR)
            out[name] = (uc.reg_read(UC_ARM_REG_SP), uc.reg_read(UC_ARM_REG_LR), spsr)
    finally:
        uc.reg_write(UC_ARM_REG_CPSR, cpsr)
    return out


def info_shadow(vm: "VM") -> str:
    s = vm.mmu.stats_dict()
    lines = [f"mmu: {vm.mmu.mode}" + (f" (sync {vm.mmu.sync})" if hasattr(vm.mmu, "sync") else "")]
    for k, v in s.items():
        if isinstance(v, dict):
            lines.append(f"{k}:")
            for k2, v2 in sorted(v.items()):
                lines.append(f"  {k2:<20} {v2}")
        else:
            lines.append(f"{k:<22} {v}")
    return "\n".join(lines) + "\n"
