"""Power and Reset Manager (PRM), DM3730 TRM chapter 3 "Power, Reset, and Clock Management",
section 3.7.2 (PRM register manual). Base 0x4830_6000; the DT maps 16 KiB.

Register groups ("modules") sit at the TRM's instance offsets: IVA2 0x000, OCP 0x800, MPU 0x900,
CORE 0xA00, SGX 0xB00, WKUP 0xC00, Clock control 0xD00, DSS 0xE00, CAM 0xF00, PER 0x1000,
EMU 0x1100, Global 0x1200, NEON 0x1300, USBHOST 0x1400. Everything not listed is
read-as-written storage (wake-up enables, group selects, VC/VP configuration...).

==========================  ================  ===  ============================================
register                    offset            r/w  model
==========================  ================  ===  ============================================
RM_RSTCTRL_IVA2             0x050             rw   reset 0x7 (IVA2 held in reset); storage
PRM_REVISION                0x804             r    0x10
PRM_IRQSTATUS_MPU           0x818             r    0: no PRCM event is ever raised (INTC 11 low)
PRM_IRQENABLE_MPU           0x81C             rw   storage
PM_PWSTCTRL_<dom>           mod+0xE0          rw   storage, reset 0x3 (next state ON)
PM_PWSTST_<dom>             mod+0xE4          r    0xF7: ON, logic on, memories on,
                                                   INTRANSITION (bit 20) = 0
PM_PREPWSTST_<dom>          mod+0xE8          r    0xF7 whatever is written: the domain was ON
                                                   (no context was lost: omap3-notes §5.11)
PM_WKEN_WKUP                0xCA0             rw   storage; bit 16 EN_IO_CHAIN mirrored below
PM_WKST_WKUP                0xCB0             r/w1c bit 16 ST_IO_CHAIN = PM_WKEN_WKUP bit 16;
                                                   other wake-up status bits read 0
PM_WKST1/3_CORE, PER        0xAB0/0xAB8/0x10B0 r/w1c 0
PRM_CLKSEL                  0xD40             rw   reset 3 (26 MHz oscillator, as U-Boot found)
PRM_RSTCTRL                 0x1250            w    RST_GS (bit 1) or RST_DPLL3 (bit 2): board
                                                   reset through the ``reset`` callback; reads 0
PRM_RSTST                   0x1258            r/w1c reset 0x1 (GLOBAL_COLD_RST); 0x2 after a
                                                   software reset
PRM_CLKSRC_CTRL             0x1270            rw   reset 0x80 (SYSCLKDIV = 2: sys_ck 13 MHz)
PRM_VP1_STATUS, VP2_STATUS  0x12C4, 0x12E4    r    bit 0 VPINIDLE = 1
==========================  ================  ===  ============================================
"""

from __future__ import annotations

import logging
from typing import Callable

from hvd.devices.timodule import RegFile

log = logging.getLogger("hvd.devices.prm")

IVA2, OCP, MPU, CORE, SGX, WKUP, CCR, DSS, CAM, PER, EMU, GR, NEON, USBHOST = (
    0x000, 0x800, 0x900, 0xA00, 0xB00, 0xC00, 0xD00, 0xE00, 0xF00, 0x1000, 0x1100, 0x1200,
    0x1300, 0x1400,
)
#: the modules that are power domains (have PWSTCTRL/PWSTST/PREPWSTST)
POWER_DOMAINS = (IVA2, MPU, CORE, SGX, DSS, CAM, PER, EMU, NEON, USBHOST)

PM_PWSTCTRL = 0xE0
PM_PWSTST = 0xE4
PM_PREPWSTST = 0xE8
PM_WKEN = 0xA0
PM_WKST = 0xB0

RM_RSTCTRL_IVA2 = IVA2 + 0x50
PRM_REVISION = OCP + 0x04
PRM_IRQSTATUS_MPU = OCP + 0x18
PRM_IRQENABLE_MPU = OCP + 0x1C
PM_WKEN_WKUP = WKUP + PM_WKEN
PM_WKST_WKUP = WKUP + PM_WKST
PRM_CLKSEL = CCR + 0x40
PRM_CLKOUT_CTRL = CCR + 0x70
PRM_RSTCTRL = GR + 0x50
PRM_RSTST = GR + 0x58
PRM_CLKSRC_CTRL = GR + 0x70
PRM_VP1_STATUS = GR + 0xC4
PRM_VP2_STATUS = GR + 0xE4

RST_GS = 1 << 1
RST_DPLL3 = 1 << 2
GLOBAL_COLD_RST = 1 << 0
GLOBAL_SW_RST = 1 << 1
IO_CHAIN = 1 << 16
#: ON (1:0 = 3), logic ON (bit 2), all memory banks ON (7:4), not in transition (bit 20 = 0)
DOMAIN_ON = 0xF7

_WKST_REGS = {CORE + 0xB0, CORE + 0xB8, PER + 0xB0, USBHOST + 0xB0}

RESET_VALUES: dict[int, int] = {
    RM_RSTCTRL_IVA2: 0x7,
    PRM_CLKSEL: 0x3,
    PRM_CLKSRC_CTRL: 0x80,
    PRM_CLKOUT_CTRL: 0x80,  # CLKOUT_EN
    PRM_IRQENABLE_MPU: 0,
    **{dom + PM_PWSTCTRL: 0x3 for dom in POWER_DOMAINS},
}


class Prm(RegFile):
    """PRM: power-state status that always says ON, reset sources, and the global reset."""

    size = 0x4000

    def __init__(self, name: str = "prm", reset_board: Callable[[], None] | None = None) -> None:
        self._reset_board = reset_board
        self._rstst = GLOBAL_COLD_RST
        self._status_regs = {dom + PM_PWSTST for dom in POWER_DOMAINS} | {
            dom + PM_PREPWSTST for dom in POWER_DOMAINS
        }
        super().__init__(name, 0x4000, RESET_VALUES)

    def reset(self) -> None:
        super().reset()  # PRM_RSTST survives a warm reset: it says why the board restarted

    def read_reg(self, off: int) -> int:
        if off in self._status_regs:
            return DOMAIN_ON
        if off == PM_WKST_WKUP:
            return self.regs.get(PM_WKEN_WKUP, 0) & IO_CHAIN
        if off in _WKST_REGS or off == PRM_IRQSTATUS_MPU or off == PRM_RSTCTRL:
            return 0
        if off == PRM_RSTST:
            return self._rstst
        if off == PRM_REVISION:
            return 0x10
        if off == PRM_VP1_STATUS or off == PRM_VP2_STATUS:
            return 1
        return self.regs.get(off, 0)

    def write_reg(self, off: int, value: int) -> None:
        if off == PRM_RSTCTRL:
            if value & (RST_GS | RST_DPLL3):
                self._rstst = GLOBAL_SW_RST
                log.info("%s: global software reset (PRM_RSTCTRL=0x%x)", self.name, value)
                if self._reset_board is not None:
                    self._reset_board()
            return
        if off == PRM_RSTST:
            self._rstst &= ~value
            return
        if (off in self._status_regs or off in _WKST_REGS or off == PM_WKST_WKUP
                or off == PRM_IRQSTATUS_MPU or off == PRM_REVISION):
            return  # read-only or write-1-to-clear of bits that never set
        self.regs[off] = value & 0xFFFFFFFF
