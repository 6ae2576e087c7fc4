"""General-Purpose Memory Controller (GPMC) registers, 0x6E00_0000, DM3730 TRM chapter 10.1
("General-Purpose Memory Controller"), section 10.1.6 (registers). INTC line 20.

No external memory is attached on the BeagleBoard-xM model (no NAND/NOR): every chip select is
invalid, the register file only has to make the driver's probe succeed.

===================  ===========  ===  ======================================================
register             offset       r/w  model
===================  ===========  ===  ======================================================
GPMC_REVISION        0x000        r    0x50 ("GPMC revision 5.0")
GPMC_SYSCONFIG       0x010        rw   SOFTRESET (bit 1) self-clears
GPMC_SYSSTATUS       0x014        r    bit 0 RESETDONE = 1
GPMC_IRQSTATUS       0x018        r/w1c 0: no event is ever raised
GPMC_IRQENABLE       0x01C        rw   storage; the IRQ line = IRQSTATUS & IRQENABLE (never)
GPMC_CONFIG          0x050        rw   storage
GPMC_STATUS          0x054        r    0x00000301: WAIT0/1 high, EMPTYWRITEBUFFER
GPMC_CONFIG1-7_i     0x060+0x30i  rw   storage; CONFIG7 reset 0x00000F00 (CSVALID = 0)
everything else      -            rw   storage (NAND, prefetch, ECC)
===================  ===========  ===  ======================================================
"""

from __future__ import annotations

from hvd.devices.base import IrqLine
from hvd.devices.timodule import Port, TiModule

GPMC_IRQSTATUS = 0x018
GPMC_IRQENABLE = 0x01C
GPMC_STATUS = 0x054
STATUS_VALUE = 0x00000301


def _config7(cs: int) -> int:
    return 0x060 + 0x30 * cs + 0x18


class Gpmc(TiModule):
    """GPMC with no devices behind it."""

    size = 0x1000

    def __init__(self, name: str = "gpmc", irq: IrqLine | None = None) -> None:
        self.irq = irq
        values = {_config7(cs): 0x00000F00 for cs in range(8)}
        super().__init__(name, 0x1000, Port(0x00, 0x10, 0x14, 0x50), values)

    def read_reg(self, off: int) -> int:
        if off == GPMC_STATUS:
            return STATUS_VALUE
        if off == GPMC_IRQSTATUS:
            return 0
        return super().read_reg(off)

    def write_reg(self, off: int, value: int) -> None:
        if off in (GPMC_STATUS, GPMC_IRQSTATUS):
            return
        super().write_reg(off, value)
