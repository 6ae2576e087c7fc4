"""Clock Manager (CM), DM3730 TRM chapter 3 "Power, Reset, and Clock Management", section 3.7.3
(CM register manual). Base 0x4800_4000; the DT maps 16 KiB.

Register groups sit at the TRM's instance offsets: IVA2 0x000, OCP 0x800, MPU 0x900, CORE 0xA00,
SGX 0xB00, WKUP 0xC00, Clock control (PLL) 0xD00, DSS 0xE00, CAM 0xF00, PER 0x1000, EMU 0x1100,
Global 0x1200, NEON 0x1300, USBHOST 0x1400. Clock enables, autoidle, clock-domain control and
dividers are read-as-written storage starting "as U-Boot left it" (omap3-notes §4: every divider
field the DT says starts at one is non-zero). Special registers:

=======================  ======  ===  =======================================================
register                 offset  r/w  model
=======================  ======  ===  =======================================================
CM_CLKEN_PLL_IVA2        0x004   rw   EN_IVA2_DPLL 2:0, reset 1 (stopped)
CM_IDLEST_<module>       +0x20   r    0: every module is functional (CORE also +0x24/+0x28)
CM_IDLEST_PLL_IVA2       0x024   r    bit 0 = (EN_IVA2_DPLL == 7)
CM_REVISION              0x800   r    0x10
CM_CLKEN_PLL_MPU         0x904   rw   EN_MPU_DPLL 2:0, reset 7 (locked)
CM_IDLEST_PLL_MPU        0x924   r    bit 0 = (EN_MPU_DPLL == 7)
CM_CLKSEL_CORE           0xA40   rw   reset 0x130A; bits 6/7 select GPT10/GPT11's source
CM_CLKSEL_WKUP           0xC40   rw   reset 0x14; bit 0 selects GPT1's source
CM_CLKEN_PLL             0xD00   rw   EN_CORE_DPLL 2:0, EN_PERIPH_DPLL 18:16, reset 0x00070007
CM_CLKEN2_PLL            0xD04   rw   EN_PERIPH2_DPLL 2:0, reset 1 (stopped)
CM_IDLEST_CKGEN          0xD20   r    bit 0 = DPLL3 locked, bit 1 = DPLL4 locked, bits 5:2
                                      (96M/48M/12M/54M clocks active) = DPLL4 locked
CM_IDLEST2_CKGEN         0xD24   r    bits 1:0 = DPLL5 locked (PERIPH2 and 120M clocks)
CM_CLKSEL_PER            0x1040  rw   reset 0xFF; bits 0-7 select GPT2-GPT9's source
=======================  ======  ===  =======================================================

A GPTIMER source bit of 0 means the 32768 Hz clock, 1 means sys_ck (13 MHz on the xM: 26 MHz
oscillator divided by 2). On every write to a source-select register the CM tells the timers
through ``gptimers`` (index 0 = GPT1), each with ``set_source_hz(hz)``; :meth:`Cm.sync_gptimers`
pushes the current selection (the board calls it once everything is wired).

DPLL lock model (omap3-notes §5.4): the lock bit reads 1 exactly when the DPLL's enable field is
7 (lock mode); 5/6 (bypass) and 1 (stop) read 0. Programming takes effect at once.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from hvd.devices.timodule import RegFile

IVA2, OCP, MPU, CORE, SGX, WKUP, PLL, DSS, CAM, PER, EMU, GR, NEON, USBHOST = (
    0x000, 0x800, 0x900, 0xA00, 0xB00, 0xC00, 0xD00, 0xE00, 0xF00, 0x1000, 0x1100, 0x1200,
    0x1300, 0x1400,
)

CM_CLKEN_PLL_IVA2 = IVA2 + 0x04
CM_IDLEST_PLL_IVA2 = IVA2 + 0x24
CM_CLKSEL1_PLL_IVA2 = IVA2 + 0x40
CM_CLKSEL2_PLL_IVA2 = IVA2 + 0x44
CM_REVISION = OCP + 0x00
CM_CLKEN_PLL_MPU = MPU + 0x04
CM_IDLEST_PLL_MPU = MPU + 0x24
CM_CLKSEL1_PLL_MPU = MPU + 0x40
CM_CLKSEL2_PLL_MPU = MPU + 0x44
CM_IDLEST1_CORE = CORE + 0x20
CM_CLKSEL_CORE = CORE + 0x40
CM_CLKSEL_SGX = SGX + 0x40
CM_CLKSEL_WKUP = WKUP + 0x40
CM_CLKEN_PLL = PLL + 0x00
CM_CLKEN2_PLL = PLL + 0x04
CM_IDLEST_CKGEN = PLL + 0x20
CM_IDLEST2_CKGEN = PLL + 0x24
CM_CLKSEL1_PLL = PLL + 0x40
CM_CLKSEL2_PLL = PLL + 0x44
CM_CLKSEL3_PLL = PLL + 0x48
CM_CLKSEL4_PLL = PLL + 0x4C
CM_CLKSEL5_PLL = PLL + 0x50
CM_CLKOUT_CTRL = PLL + 0x70
CM_CLKSEL_DSS = DSS + 0x40
CM_CLKSEL_CAM = CAM + 0x40
CM_CLKSEL_PER = PER + 0x40
CM_CLKSEL1_EMU = EMU + 0x40

LOCK = 7
SYS_CK_HZ = 13_000_000
CLK32K_HZ = 32768

#: module idle-status registers: every module reads "functional" (0)
IDLEST_MODULE_REGS = frozenset(
    {m + 0x20 for m in (IVA2, MPU, SGX, WKUP, DSS, CAM, PER, NEON, USBHOST)}
    | {CORE + 0x20, CORE + 0x24, CORE + 0x28}
)

#: "as U-Boot left it" on a BeagleBoard-xM (omap3-notes §4): sys_ck 13 MHz, core 400 MHz
#: (DPLL3 M 400 N 12, M2 1), MPU 800 MHz (DPLL1 400 MHz, doubled, M2 1),
#: DPLL4 locked for the 96/48/12/54 MHz clocks, IVA2 and DPLL5 stopped.
RESET_VALUES: dict[int, int] = {
    CM_CLKEN_PLL_IVA2: 0x1,
    CM_CLKSEL1_PLL_IVA2: (2 << 19) | (330 << 8) | 12,  # x2 output: 660 MHz when locked
    CM_CLKSEL2_PLL_IVA2: 1,
    CM_CLKEN_PLL_MPU: 0x7,
    CM_CLKSEL1_PLL_MPU: (2 << 19) | (400 << 8) | 12,  # x2 output / M2 1: 800 MHz
    CM_CLKSEL2_PLL_MPU: 1,
    CM_CLKSEL_CORE: 0x0000130A,  # L3 /2, L4 /2, SSI /3, 96M /1; GPT10/11 on 32k
    CM_CLKSEL_SGX: 0x0,
    CM_CLKSEL_WKUP: 0x14,  # GPT1 on 32k, RM /2, USIMOCP code 2
    CM_CLKEN_PLL: 0x00070007,
    CM_CLKEN2_PLL: 0x1,
    CM_CLKSEL1_PLL: (1 << 27) | (400 << 16) | (12 << 8),
    CM_CLKSEL2_PLL: (432 << 8) | 12,
    CM_CLKSEL3_PLL: 9,
    CM_CLKSEL4_PLL: (120 << 8) | 12,
    CM_CLKSEL5_PLL: 1,
    CM_CLKOUT_CTRL: 0x03,
    CM_CLKSEL_DSS: 0x00001010,
    CM_CLKSEL_CAM: 0x4,
    CM_CLKSEL_PER: 0xFF,  # GPT2-9 on sys_ck
    CM_CLKSEL1_EMU: 0x03020A50,
    # functional/interface clocks that U-Boot left on (UARTs, GPIO, I2C1, GPT1...)
    CORE + 0x00: 0x03FFFE00,  # CM_FCLKEN1_CORE
    CORE + 0x10: 0x3FFFFED2,  # CM_ICLKEN1_CORE
    WKUP + 0x00: 0x000002E9,  # CM_FCLKEN_WKUP
    WKUP + 0x10: 0x0000023F,  # CM_ICLKEN_WKUP
    PER + 0x00: 0x0003FFFF,  # CM_FCLKEN_PER
    PER + 0x10: 0x0003FFFF,  # CM_ICLKEN_PER
}


class Cm(RegFile):
    """CM: DPLL lock status following the enable fields, modules always ready, GPT sources."""

    size = 0x4000

    def __init__(
        self,
        name: str = "cm",
        gptimers: Sequence[Any] | Callable[[], Sequence[Any]] = (),
        sys_ck_hz: int = SYS_CK_HZ,
    ) -> None:
        self._gptimers = gptimers
        self.sys_ck_hz = sys_ck_hz
        super().__init__(name, 0x4000, RESET_VALUES)
        self.sync_gptimers()

    def reset(self) -> None:
        super().reset()
        self.sync_gptimers()

    # -- status -----------------------------------------------------------------------------------
    def _locked(self, reg: int, shift: int = 0) -> int:
        return 1 if (self.regs.get(reg, 0) >> shift) & 7 == LOCK else 0

    def read_reg(self, off: int) -> int:
        if off in IDLEST_MODULE_REGS:
            return 0
        if off == CM_IDLEST_CKGEN:
            per = self._locked(CM_CLKEN_PLL, 16)
            return self._locked(CM_CLKEN_PLL) | (per << 1) | (0xF << 2 if per else 0)
        if off == CM_IDLEST2_CKGEN:
            return 0x3 if self._locked(CM_CLKEN2_PLL) else 0
        if off == CM_IDLEST_PLL_MPU:
            return self._locked(CM_CLKEN_PLL_MPU)
        if off == CM_IDLEST_PLL_IVA2:
            return self._locked(CM_CLKEN_PLL_IVA2)
        if off == CM_REVISION:
            return 0x10
        return self.regs.get(off, 0)

    def write_reg(self, off: int, value: int) -> None:
        if (off in IDLEST_MODULE_REGS or off in (CM_IDLEST_CKGEN, CM_IDLEST2_CKGEN,
                                                  CM_IDLEST_PLL_MPU, CM_IDLEST_PLL_IVA2,
                                                  CM_REVISION)):
            return  # read-only status
        self.regs[off] = value & 0xFFFFFFFF
        if off in (CM_CLKSEL_WKUP, CM_CLKSEL_PER, CM_CLKSEL_CORE):
            self.sync_gptimers()

    # -- GPTIMER functional clocks ------------------------------------------------------------
    def gptimer_source_hz(self, n: int) -> int:
        """Functional clock of GPTIMER ``n`` (1-12) as the source-select bits say."""
        if n == 1:
            bit = self.regs.get(CM_CLKSEL_WKUP, 0) & 1
        elif 2 <= n <= 9:
            bit = (self.regs.get(CM_CLKSEL_PER, 0) >> (n - 2)) & 1
        elif n in (10, 11):
            bit = (self.regs.get(CM_CLKSEL_CORE, 0) >> (n - 4)) & 1
        else:
            bit = 0  # GPT12 runs from the secure 32 kHz clock
        return self.sys_ck_hz if bit else CLK32K_HZ

    def sync_gptimers(self) -> None:
        timers = self._gptimers() if callable(self._gptimers) else self._gptimers
        for i, t in enumerate(timers or ()):
            if t is not None:
                t.set_source_hz(self.gptimer_source_hz(i + 1))
