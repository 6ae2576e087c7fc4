"""General-purpose I/O banks GPIO1-6 (32 pins each), DM3730 TRM chapter 25 "General-Purpose
Interface", section 25.6 (GPIO registers). GPIO1 0x4831_0000 (INTC 29), GPIO2-6
0x4905_0000-0x4905_8000 (INTC 30-34).

===================  ======  ===  ============================================================
register             offset  r/w  model
===================  ======  ===  ============================================================
GPIO_REVISION        0x000   r    0x25 ("version 2.5")
GPIO_SYSCONFIG       0x010   rw   SOFTRESET (bit 1) self-clears and resets the bank
GPIO_SYSSTATUS       0x014   r    bit 0 RESETDONE = 1
GPIO_IRQSTATUS1      0x018   r/w1c events for the MPU; INTC line = IRQSTATUS1 & IRQENABLE1
GPIO_IRQENABLE1      0x01C   rw
GPIO_WAKEUPENABLE    0x020   rw   storage
GPIO_IRQSTATUS2      0x028   r/w1c events for the IVA2 (no line connected)
GPIO_IRQENABLE2      0x02C   rw
GPIO_CTRL            0x030   rw   storage (reset 0x2)
GPIO_OE              0x034   rw   1 = input (reset 0xFFFFFFFF)
GPIO_DATAIN          0x038   r    outputs read DATAOUT, inputs read the pin level
GPIO_DATAOUT         0x03C   rw
GPIO_LEVELDETECT0/1  0x040/44 rw  low / high level events
GPIO_RISINGDETECT    0x048   rw   rising-edge events
GPIO_FALLINGDETECT   0x04C   rw   falling-edge events
GPIO_DEBOUNCENABLE   0x050   rw   storage (debouncing is instantaneous)
GPIO_DEBOUNCINGTIME  0x054   rw   storage
GPIO_CLEARIRQENABLE1 0x060   w    IRQENABLE1 &= ~value   (SETIRQENABLE1 0x064: |=)
GPIO_CLEARIRQENABLE2 0x070   w    IRQENABLE2 &= ~value   (SETIRQENABLE2 0x074: |=)
GPIO_CLEARWKUENA     0x080   w    WAKEUPENABLE &= ~value (SETWKUENA 0x084: |=)
GPIO_CLEARDATAOUT    0x090   w    DATAOUT &= ~value      (SETDATAOUT 0x094: |=)
===================  ======  ===  ============================================================

Pin levels come from the board through :meth:`Gpio.set_input`; edges are seen on pins whatever
their direction (the detection logic samples the pad), as the TRM describes.
"""

from __future__ import annotations

from hvd.devices.base import Device, IrqLine

REVISION = 0x000
SYSCONFIG = 0x010
SYSSTATUS = 0x014
IRQSTATUS1 = 0x018
IRQENABLE1 = 0x01C
WAKEUPENABLE = 0x020
IRQSTATUS2 = 0x028
IRQENABLE2 = 0x02C
CTRL = 0x030
OE = 0x034
DATAIN = 0x038
DATAOUT = 0x03C
LEVELDETECT0 = 0x040
LEVELDETECT1 = 0x044
RISINGDETECT = 0x048
FALLINGDETECT = 0x04C
DEBOUNCENABLE = 0x050
DEBOUNCINGTIME = 0x054
CLEARIRQENABLE1 = 0x060
SETIRQENABLE1 = 0x064
CLEARIRQENABLE2 = 0x070
SETIRQENABLE2 = 0x074
CLEARWKUENA = 0x080
SETWKUENA = 0x084
CLEARDATAOUT = 0x090
SETDATAOUT = 0x094

REVISION_VALUE = 0x25
M32 = 0xFFFFFFFF

_STORED = (WAKEUPENABLE, CTRL, LEVELDETECT0, LEVELDETECT1, RISINGDETECT, FALLINGDETECT,
           DEBOUNCENABLE, DEBOUNCINGTIME, SYSCONFIG)


class Gpio(Device):
    """One GPIO bank."""

    size = 0x1000

    def __init__(self, name: str, irq: IrqLine | None = None) -> None:
        super().__init__(name)
        self.irq = irq
        self.inputs = 0  # external pin levels
        self.reset()

    def reset(self) -> None:
        self.regs = {off: 0 for off in _STORED}
        self.regs[CTRL] = 0x2
        self.oe = M32
        self.dataout = 0
        self.irqstatus = [0, 0]
        self.irqenable = [0, 0]
        self._update_irq()

    # -- pins ---------------------------------------------------------------------------------
    def pins(self) -> int:
        """Pad levels: outputs drive DATAOUT, inputs follow the outside world."""
        return (self.dataout & ~self.oe | self.inputs & self.oe) & M32

    def set_input(self, pin: int, level: bool) -> None:
        """Drive the external level of ``pin`` (0-31): the board's backend calls this."""
        before = self.pins()
        if level:
            self.inputs |= 1 << pin
        else:
            self.inputs &= ~(1 << pin)
        self._detect(before)

    def _detect(self, before: int) -> None:
        now = self.pins()
        r = self.regs
        events = (now & ~before & r[RISINGDETECT]) | (before & ~now & r[FALLINGDETECT])
        events |= (now & r[LEVELDETECT1]) | (~now & M32 & r[LEVELDETECT0])
        if events:
            self.irqstatus[0] |= events & self.irqenable[0]
            self.irqstatus[1] |= events & self.irqenable[1]
        self._update_irq()

    def _update_irq(self) -> None:
        if self.irq is not None:
            self.irq.set(bool(self.irqstatus[0] & self.irqenable[0]))

    # -- registers ----------------------------------------------------------------------------
    def _read_reg(self, off: int) -> int:
        if off == DATAIN:
            return self.pins()
        if off == DATAOUT:
            return self.dataout
        if off == OE:
            return self.oe
        if off == IRQSTATUS1:
            return self.irqstatus[0]
        if off == IRQSTATUS2:
            return self.irqstatus[1]
        if off in (IRQENABLE1, SETIRQENABLE1, CLEARIRQENABLE1):
            return self.irqenable[0]
        if off in (IRQENABLE2, SETIRQENABLE2, CLEARIRQENABLE2):
            return self.irqenable[1]
        if off in (SETDATAOUT, CLEARDATAOUT):
            return self.dataout
        if off in (SETWKUENA, CLEARWKUENA):
            return self.regs[WAKEUPENABLE]
        if off == REVISION:
            return REVISION_VALUE
        if off == SYSSTATUS:
            return 1
        v = self.regs.get(off)
        if v is None:
            self.unmodeled("read", off)
            return 0
        return v

    def read(self, offset: int, size: int) -> int:
        word = self._read_reg(offset & ~3)
        return (word >> ((offset & 3) * 8)) & ((1 << (size * 8)) - 1)

    def write(self, offset: int, size: int, value: int) -> None:
        off = offset & ~3
        if size != 4:
            # a partial write changes only its bytes; for the set/clear registers the other
            # bytes must be "no change", so merge into 0 for them and into the value otherwise
            shift = (offset & 3) * 8
            mask = ((1 << (size * 8)) - 1) << shift
            value = (value << shift) & mask
            if off not in (SETDATAOUT, CLEARDATAOUT, SETIRQENABLE1, CLEARIRQENABLE1,
                           SETIRQENABLE2, CLEARIRQENABLE2, SETWKUENA, CLEARWKUENA,
                           IRQSTATUS1, IRQSTATUS2):
                value |= self._read_reg(off) & ~mask
        value &= M32
        before = self.pins()
        if off == SYSCONFIG:
            if value & 2:
                self.reset()
                return
            self.regs[SYSCONFIG] = value
        elif off == IRQSTATUS1:
            self.irqstatus[0] &= ~value
        elif off == IRQSTATUS2:
            self.irqstatus[1] &= ~value
        elif off == IRQENABLE1:
            self.irqenable[0] = value
        elif off == SETIRQENABLE1:
            self.irqenable[0] |= value
        elif off == CLEARIRQENABLE1:
            self.irqenable[0] &= ~value
        elif off == IRQENABLE2:
            self.irqenable[1] = value
        elif off == SETIRQENABLE2:
            self.irqenable[1] |= value
        elif off == CLEARIRQENABLE2:
            self.irqenable[1] &= ~value
        elif off == OE:
            self.oe = value
        elif off == DATAOUT:
            self.dataout = value
        elif off == SETDATAOUT:
            self.dataout |= value
        elif off == CLEARDATAOUT:
            self.dataout &= ~value
        elif off == SETWKUENA:
            self.regs[WAKEUPENABLE] |= value
        elif off == CLEARWKUENA:
            self.regs[WAKEUPENABLE] &= ~value
        elif off in self.regs:
            self.regs[off] = value
        else:
            self.unmodeled("write", off, value)
            return
        self._detect(before)
