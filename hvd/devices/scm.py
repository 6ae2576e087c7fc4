"""System Control Module (SCM), DM3730 TRM chapter 13 "System Control Module", 0x4800_2000, 8 KiB.

Offsets are from the module base. Everything not listed is read-as-written (padconf words are
plain storage accessed 16 bits at a time by pinctrl-single; the scratchpad keeps what the
kernel saves there).

=============================  ======  ===  ===================================================
register                       offset  r/w  model
=============================  ======  ===  ===================================================
CONTROL_REVISION               0x000   r    0x00000010
CONTROL_SYSCONFIG              0x010   rw   SOFTRESET (bit 1) self-clears; reset restores all
CONTROL_PADCONF_x              0x030+  rw   storage (pinmux core 0x030-0x267, wkup 0xA00-0xA5F,
                                            36xx extra 0x5A0-0x5F9)
CONTROL_PADCONF_OFF            0x270   rw   START_SAVE bit 1: the save "finishes" at once
CONTROL_DEVCONF0               0x274   rw   storage
CONTROL_STATUS                 0x2F0   r    0x0000030F: DEVICETYPE (10:8) = 3 = GP, boot
                                            config (5:0) = 0x0F
CONTROL_GENERAL_PURPOSE_STATUS 0x2F4   r    bit 0 SAVEDONE = 1 (padconf save complete)
CONTROL_OMAP_STATUS            0x44C   r    0x00000C00: full SGX/IVA/ISP/NEON, L2 present
                                            ("OMAP3630/DM3730")
CONTROL_SCRATCHPAD             0x910+  rw   storage
=============================  ======  ===  ===================================================

The TAP/ID block with CONTROL_IDCODE (0x4830_A204) is :mod:`hvd.devices.idcode`.
"""

from __future__ import annotations

from hvd.devices.timodule import RegFile

CONTROL_REVISION = 0x000
CONTROL_SYSCONFIG = 0x010
CONTROL_PADCONF_OFF = 0x270
CONTROL_STATUS = 0x2F0
CONTROL_GENERAL_PURPOSE_STATUS = 0x2F4
CONTROL_OMAP_STATUS = 0x44C

REVISION_VALUE = 0x10
#: DEVICETYPE = GP (3) in bits 10:8, SYS_BOOT pins 5:0 = 0x0F (qemu-linaro's value too)
STATUS_GP = 0x0000030F
#: feature fuses of a full DM3730: L2 cache present (11:10), SGX/IVA/ISP/NEON not disabled
OMAP_STATUS_DM3730 = 0x00000C00
SAVEDONE = 1 << 0
START_SAVE = 1 << 1


class SystemControlModule(RegFile):
    """SCM: padconf storage plus the identification / status registers the kernel reads."""

    size = 0x2000

    def __init__(self, name: str = "scm", status: int = STATUS_GP) -> None:
        self._status = status
        super().__init__(name, 0x2000)

    def read_reg(self, off: int) -> int:
        if off == CONTROL_STATUS:
            return self._status
        if off == CONTROL_GENERAL_PURPOSE_STATUS:
            return SAVEDONE
        if off == CONTROL_OMAP_STATUS:
            return OMAP_STATUS_DM3730
        if off == CONTROL_REVISION:
            return REVISION_VALUE
        return self.regs.get(off, 0)

    def write_reg(self, off: int, value: int) -> None:
        if off in (CONTROL_STATUS, CONTROL_GENERAL_PURPOSE_STATUS, CONTROL_OMAP_STATUS,
                   CONTROL_REVISION):
            return
        if off == CONTROL_SYSCONFIG and value & 2:
            self.reset()
            return
        if off == CONTROL_PADCONF_OFF:
            value &= ~START_SAVE  # the save completes immediately (SAVEDONE reads 1)
        self.regs[off] = value & 0xFFFFFFFF
