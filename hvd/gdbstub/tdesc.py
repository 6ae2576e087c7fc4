"""Target description documents (GDB manual, "Target Descriptions" and "ARM Features").

gdb learns the registers from these XML documents, fetched with ``qXfer:features:read``:

- ``org.gnu.gdb.arm.core``: r0-r12, sp, lr, pc and cpsr (required for A-profile targets);
- ``org.gnu.gdb.arm.vfp``: d0-d31 and fpscr; gdb synthesizes s0-s31 from halves of d0-d15.
  The d registers have a NEON union type (u8/u16/u32/u64/f32/f64 views), and q0-q15 are served
  as registers of their own (each the pair d2n:d2n+1), the way QEMU's stub presents them: with
  the gdb in Debian (13.1) an empty ``org.gnu.gdb.arm.neon`` feature did not make gdb synthesize
  the q registers (checked), so ``print $q0`` would have said ``void``.

Register numbers are the ones QEMU's ARM stub uses, so scripts written against QEMU see the same
``p``/``P`` numbers: r0-r15 are 0-15, cpsr is 25 (16-24 once held the FPA registers and stay
unused), d0-d31 are 26-57, q0-q15 58-73 and fpscr 74. The ``g`` packet carries the registers in
that order, little-endian, without gaps.
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
D0_REGNUM = 26
Q0_REGNUM = 58
FPSCR_REGNUM = 74

CORE_REGS: tuple[Reg, ...] = (
    *(Reg(f"r{i}", i, 32, "uint32") for i in range(13)),
    Reg("sp", 13, 32, "data_ptr"),
    Reg("lr", 14, 32, "uint32"),
    Reg("pc", 15, 32, "code_ptr"),
    Reg("cpsr", CPSR_REGNUM, 32, "uint32"),
)
VFP_REGS: tuple[Reg, ...] = (
    *(Reg(f"d{i}", D0_REGNUM + i, 64, "neon_d", "float") for i in range(32)),
    *(Reg(f"q{i}", Q0_REGNUM + i, 128, "neon_q", "vector") for i in range(16)),
    Reg("fpscr", FPSCR_REGNUM, 32, "uint32", "float"),
)
#: every register, in ``g`` packet order
REGISTERS: tuple[Reg, ...] = CORE_REGS + VFP_REGS
BY_NUM: dict[int, Reg] = {r.regnum: r for r in REGISTERS}
BY_NAME: dict[str, Reg] = {r.name: r for r in REGISTERS}
G_PACKET_BYTES = sum(r.size for r in REGISTERS)


#: NEON views of a d register (the GDB manual's "Predefined Target Types" and "Target
#: Description Format": vector and union elements)
NEON_TYPES = """\
  <vector id="neon_uint8x8" type="uint8" count="8"/>
  <vector id="neon_uint16x4" type="uint16" count="4"/>
  <vector id="neon_uint32x2" type="uint32" count="2"/>
  <vector id="neon_float32x2" type="ieee_single" count="2"/>
  <union id="neon_d">
    <field name="u8" type="neon_uint8x8"/>
    <field name="u16" type="neon_uint16x4"/>
    <field name="u32" type="neon_uint32x2"/>
    <field name="u64" type="uint64"/>
    <field name="f32" type="neon_float32x2"/>
    <field name="f64" type="ieee_double"/>
  </union>
  <vector id="neon_uint8x16" type="uint8" count="16"/>
  <vector id="neon_uint16x8" type="uint16" count="8"/>
  <vector id="neon_uint32x4" type="uint32" count="4"/>
  <vector id="neon_uint64x2" type="uint64" count="2"/>
  <vector id="neon_float32x4" type="ieee_single" count="4"/>
  <vector id="neon_float64x2" type="ieee_double" count="2"/>
  <union id="neon_q">
    <field name="u8" type="neon_uint8x16"/>
    <field name="u16" type="neon_uint16x8"/>
    <field name="u32" type="neon_uint32x4"/>
    <field name="u64" type="neon_uint64x2"/>
    <field name="f32" type="neon_float32x4"/>
    <field name="f64" type="neon_float64x2"/>
  </union>
"""


def _feature(name: str, regs: tuple[Reg, ...], types: str = "") -> str:
    lines = ['<?xml version="1.0"?>', '<!DOCTYPE feature SYSTEM "gdb-target.dtd">',
             f'<feature name="{name}">']
    if types:
        lines.append(types.rstrip("\n"))
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
</target>
"""

#: the documents gdb may ask for, by annex name
DOCUMENTS: dict[str, bytes] = {
    "target.xml": TARGET_XML.encode(),
    "arm-core.xml": _feature("org.gnu.gdb.arm.core", CORE_REGS).encode(),
    "arm-vfp.xml": _feature("org.gnu.gdb.arm.vfp", VFP_REGS, NEON_TYPES).encode(),
}
