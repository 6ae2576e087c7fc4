"""Target description documents (GDB manual, "Target Descriptions" and "ARM Features").

gdb learns the registers from these XML documents, fetched with ``qXfer:features:read``:

- ``org.gnu.gdb.arm.core``: r0-r12, sp, lr, pc and cpsr (required for A-profile targets);
- ``org.gnu.gdb.arm.vfp``: d0-d31 and fpscr; gdb synthesizes s0-s31 from halves of d0-d15;
- ``org.gnu.gdb.arm.neon``: empty; its presence tells gdb to show d0-d31 as vectors and to
  synthesize q0-q15 from pairs of d registers.

Register numbers are the ones QEMU's ARM stub uses, so scripts written against QEMU see the same
``p``/``P`` numbers: r0-r15 are 0-15, cpsr is 25 (16-24 once held the FPA registers and stay
unused), d0-d31 are 26-57 and fpscr is 58. The ``g`` packet carries the registers in that order,
little-endian, without gaps.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Reg:
    name: str
    regnum: int
    bitsize: int
    type: str
    group: str = ""

    @property
    def size(self) -> int:
        return self.bitsize // 8


CPSR_REGNUM = 25
FPSCR_REGNUM = 58
D0_REGNUM = 26

CORE_REGS: tuple[Reg, ...] = (
    *(Reg(f"r{i}", i, 32, "uint32") for i in range(13)),
    Reg("sp", 13, 32, "data_ptr"),
    Reg("lr", 14, 32, "uint32"),
    Reg("pc", 15, 32, "code_ptr"),
    Reg("cpsr", CPSR_REGNUM, 32, "uint32"),
)
VFP_REGS: tuple[Reg, ...] = (
    *(Reg(f"d{i}", D0_REGNUM + i, 64, "ieee_double", "float") for i in range(32)),
    Reg("fpscr", FPSCR_REGNUM, 32, "uint32", "float"),
)
#: every register, in ``g`` packet order
REGISTERS: tuple[Reg, ...] = CORE_REGS + VFP_REGS
BY_NUM: dict[int, Reg] = {r.regnum: r for r in REGISTERS}
BY_NAME: dict[str, Reg] = {r.name: r for r in REGISTERS}
G_PACKET_BYTES = sum(r.size for r in REGISTERS)


def _feature(name: str, regs: tuple[Reg, ...]) -> str:
    lines = ['<?xml version="1.0"?>', '<!DOCTYPE feature SYSTEM "gdb-target.dtd">',
             f'<feature name="{name}">']
    for r in regs:
        group = f' group="{r.group}"' if r.group else ""
        lines.append(f'  <reg name="{r.name}" bitsize="{r.bitsize}" type="{r.type}"'
                     f' regnum="{r.regnum}"{group}/>')
    lines.append("</feature>")
    return "\n".join(lines) + "\n"


TARGET_XML = """<?xml version="1.0"?>
<!DOCTYPE target SYSTEM "gdb-target.dtd">
<target version="1.0">
  <architecture>arm</architecture>
  <xi:include href="arm-core.xml"/>
  <xi:include href="arm-vfp.xml"/>
  <xi:include href="arm-neon.xml"/>
</target>
"""

NEON_XML = """<?xml version="1.0"?>
<!DOCTYPE feature SYSTEM "gdb-target.dtd">
<feature name="org.gnu.gdb.arm.neon">
</feature>
"""

#: the documents gdb may ask for, by annex name
DOCUMENTS: dict[str, bytes] = {
    "target.xml": TARGET_XML.encode(),
    "arm-core.xml": _feature("org.gnu.gdb.arm.core", CORE_REGS).encode(),
    "arm-vfp.xml": _feature("org.gnu.gdb.arm.vfp", VFP_REGS).encode(),
    "arm-neon.xml": NEON_XML.encode(),
}
