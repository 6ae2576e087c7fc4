"""SDRAM controller (SDRC, 0x6D00_0000) and SDRAM memory scheduler (SMS, 0x6C00_0000), DM3730 TRM
chapter 10 "Memory Subsystem", sections 10.2.7 (SMS registers) and 10.2.8 (SDRC registers).

The DDR itself is plain RAM on the bus; these are the controllers' register files. Timing,
refresh and mode registers are read-as-written with the values a U-Boot on the xM leaves.

SDRC:

=================  ======  ===  =============================================================
register           offset  r/w  model
=================  ======  ===  =============================================================
SDRC_REVISION      0x000   r    0x40
SDRC_SYSCONFIG     0x010   rw   SOFTRESET (bit 1) self-clears and restores reset values
SDRC_SYSSTATUS     0x014   r    bit 0 RESETDONE = 1
SDRC_CS_CFG        0x040   rw   storage (reset 0x1: CS0 512 MiB at 0x8000_0000)
SDRC_SHARING       0x044   rw   storage
SDRC_DLLA_CTRL     0x060   rw   storage, reset 0x0A (DLL enabled, not in "lock mode")
SDRC_DLLA_STATUS   0x064   r    bit 2 LOCKSTATUS = 1: the DLL is locked (omap3-notes §5.11)
SDRC_DLLB_STATUS   0x06C   r    bit 2 = 1
SDRC_POWER         0x070   rw   storage (bit 6 set/cleared around WFI by the idle path)
SDRC_MCFG_0..      0x080+  rw   storage (MCFG, MR, EMR2, ACTIM_CTRLA/B, RFR_CTRL, MANUAL)
=================  ======  ===  =============================================================

SMS:

=================  ======  ===  =============================================================
SMS_REVISION       0x000   r    0x30
SMS_SYSCONFIG      0x010   rw   SOFTRESET self-clears
SMS_SYSSTATUS      0x014   r    bit 0 RESETDONE = 1
anything else      -       rw   storage (RG_ATT, RG_RDPERM/WRPERM, rotation, class arbiter)
=================  ======  ===  =============================================================
"""

from __future__ import annotations

from hvd.devices.timodule import Port, TiModule

SDRC_DLLA_CTRL = 0x060
SDRC_DLLA_STATUS = 0x064
SDRC_DLLB_STATUS = 0x06C
SDRC_POWER = 0x070
LOCKSTATUS = 1 << 2

SDRC_RESET_VALUES = {
    0x040: 0x00000001,  # CS_CFG
    0x044: 0x00000100,  # SHARING
    SDRC_DLLA_CTRL: 0x0000000A,
    SDRC_POWER: 0x00000081,
    0x080: 0x03588099,  # MCFG_0 (DDR, 32-bit, 512 MiB-class geometry)
    0x084: 0x00000032,  # MR_0: CAS 3, burst 4
    0x09C: 0xAA9DB4C6,  # ACTIM_CTRLA_0 (200 MHz-class timings)
    0x0A0: 0x00011517,  # ACTIM_CTRLB_0
    0x0A4: 0x0004DC01,  # RFR_CTRL_0
}


class Sdrc(TiModule):
    """SDRC register file with a DLL that is always locked."""

    size = 0x1000

    def __init__(self, name: str = "sdrc") -> None:
        super().__init__(name, 0x1000, Port(0x00, 0x10, 0x14, 0x40), SDRC_RESET_VALUES)

    def read_reg(self, off: int) -> int:
        if off == SDRC_DLLA_STATUS or off == SDRC_DLLB_STATUS:
            return LOCKSTATUS
        return super().read_reg(off)

    def write_reg(self, off: int, value: int) -> None:
        if off == SDRC_DLLA_STATUS or off == SDRC_DLLB_STATUS:
            return
        super().write_reg(off, value)


class Sms(TiModule):
    """SMS register file."""

    size = 0x1000

    def __init__(self, name: str = "sms") -> None:
        super().__init__(name, 0x1000, Port(0x00, 0x10, 0x14, 0x30))
