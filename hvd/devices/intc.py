"""MPU subsystem interrupt controller (INTCPS), DM3730 TRM chapter 12 (Interrupt Controller).

96 level-sensitive inputs in 3 banks of 32; two outputs to the Cortex-A8: nIRQ and nFIQ.

=============  ======  ===  ===========================================================
register       offset  r/w  model
=============  ======  ===  ===========================================================
REVISION       0x000   r    0x40 (revision 4.0)
SYSCONFIG      0x010   rw   bit 0 AUTOIDLE; bit 1 SOFTRESET (self-clears, resets the module)
SYSSTATUS      0x014   r    bit 0 RESETDONE = 1
SIR_IRQ        0x040   r    bits 6:0 ACTIVEIRQ; bits 31:7 SPURIOUSIRQFLAG (all ones if the
                            latched line is no longer pending and unmasked, or none latched)
SIR_FIQ        0x044   r    same for FIQ
CONTROL        0x048   w    bit 0 NEWIRQAGR, bit 1 NEWFIQAGR: drop the output, sort again
PROTECTION     0x04C   rw   bit 0 (stored; the bus does not tell us the CPU mode)
IDLE           0x050   rw   bits 1:0 FUNCIDLE/TURBO (stored)
IRQ_PRIORITY   0x060   r    bits 6:0 priority of the latched IRQ; bits 31:7 spurious flag
FIQ_PRIORITY   0x064   r    same for FIQ
THRESHOLD      0x068   rw   bits 7:0; lines with priority >= threshold are held back; 0xFF
                            (reset) disables the threshold
ITRn           0x080+0x20n  r   raw input levels of bank n
MIRn           0x084+0x20n  rw  mask (1 = masked), reset all ones
MIR_CLEARn     0x088+0x20n  w   write 1 to unmask
MIR_SETn       0x08C+0x20n  w   write 1 to mask
ISR_SETn       0x090+0x20n  rw  software interrupts: write 1 to raise; reads the raised set
ISR_CLEARn     0x094+0x20n  w   write 1 to drop a software interrupt
PENDING_IRQn   0x098+0x20n  r   (ITR | ISR) & ~MIR, lines routed to IRQ
PENDING_FIQn   0x09C+0x20n  r   same, lines routed to FIQ
ILRm           0x100+4m     rw  bits 7:2 PRIORITY (0 highest), bit 0 FIQNIRQ (1 = FIQ)
=============  ======  ===  ===========================================================

Sorting (TRM 12.5, "Interrupt processing"): among the lines that are pending, unmasked, routed to
the output and below the threshold, the lowest PRIORITY value wins, ties going to the lowest line
number. When an output is free to agree a new interrupt, the winner is latched into SIR_x and
x_PRIORITY and the output is asserted; it stays asserted, and the latch stays, until the guest
writes NEWxAGR to CONTROL, which drops the output and sorts again at once. Sorting takes no time.
"""

from __future__ import annotations

from typing import Callable

from hvd.devices.base import Device, IrqLine

NUM_LINES = 96
NUM_BANKS = 3
REVISION_VALUE = 0x40

REVISION = 0x000
SYSCONFIG = 0x010
SYSSTATUS = 0x014
SIR_IRQ = 0x040
SIR_FIQ = 0x044
CONTROL = 0x048
PROTECTION = 0x04C
IDLE = 0x050
IRQ_PRIORITY = 0x060
FIQ_PRIORITY = 0x064
THRESHOLD = 0x068
BANK_BASE = 0x080
BANK_STRIDE = 0x20
ITR, MIR, MIR_CLEAR, MIR_SET, ISR_SET, ISR_CLEAR, PENDING_IRQ, PENDING_FIQ = range(0, 0x20, 4)
ILR_BASE = 0x100

SPURIOUS = 0xFFFFFF80  # SPURIOUSIRQFLAG bits 31:7 all set
MASK32 = 0xFFFFFFFF

_IRQ = 0
_FIQ = 1


class Intc(Device):
    """The MPU INTC. Devices drive :meth:`line`; the vCPU watches :attr:`on_output`."""

    size = 0x1000

    def __init__(self, name: str = "intc") -> None:
        super().__init__(name)
        self._lines = [IrqLine(n, self._input_changed) for n in range(NUM_LINES)]
        self._itr = [0] * NUM_BANKS  # input levels: wires, survive a soft reset
        #: called with (irq_level, fiq_level) whenever either output changes
        self.on_output: Callable[[bool, bool], None] | None = None
        self.irq_level = False
        self.fiq_level = False
        self.reset()

    # -- wiring -----------------------------------------------------------------------------
    def line(self, n: int) -> IrqLine:
        """The input line ``n`` (0-95), already connected to this controller."""
        if not 0 <= n < NUM_LINES:
            raise ValueError(f"INTC has no line {n}")
        return self._lines[n]

    def pending_irq(self) -> bool:
        """True while the IRQ output to the CPU is asserted."""
        return self.irq_level

    def pending_fiq(self) -> bool:
        """True while the FIQ output to the CPU is asserted."""
        return self.fiq_level

    def _input_changed(self, n: int, level: bool) -> None:
        bank, bit = n >> 5, 1 << (n & 31)
        if level:
            self._itr[bank] |= bit
        else:
            self._itr[bank] &= ~bit
        self._evaluate()

    # -- state ------------------------------------------------------------------------------
    def reset(self) -> None:
        self.sysconfig = 0
        self.protection = 0
        self.idle = 0
        self.threshold = 0xFF
        self.mir = [MASK32] * NUM_BANKS
        self.isr = [0] * NUM_BANKS
        self.fiq_route = [0] * NUM_BANKS  # bit set: line routed to FIQ (ILR.FIQNIRQ)
        self.ilr = [0] * NUM_LINES
        # per output: may a new interrupt be agreed?, latched line, latched priority
        self._agree = [True, True]
        self._latched = [-1, -1]
        self._latched_prio = [0, 0]
        self._levels = [False, False]
        self._evaluate()

    def _winner(self, out: int) -> int:
        """Line number that wins sorting for output ``out`` now, or -1."""
        best_line = -1
        best_prio = 0x100
        threshold = self.threshold
        ilr = self.ilr
        for bank in range(NUM_BANKS):
            active = (self._itr[bank] | self.isr[bank]) & ~self.mir[bank]
            if not active:
                continue
            route = self.fiq_route[bank]
            active &= route if out == _FIQ else ~route
            base = bank << 5
            while active:
                low = active & -active
                n = base + low.bit_length() - 1
                prio = ilr[n] >> 2
                if prio < best_prio and prio < threshold:
                    best_prio = prio
                    best_line = n
                active ^= low
        return best_line

    def _eligible(self, out: int, n: int) -> bool:
        bank, bit = n >> 5, 1 << (n & 31)
        if not (self._itr[bank] | self.isr[bank]) & ~self.mir[bank] & bit:
            return False
        if bool(self.fiq_route[bank] & bit) != (out == _FIQ):
            return False
        return (self.ilr[n] >> 2) < self.threshold

    def _evaluate(self) -> None:
        """Sort for each free output; tell the CPU side if an output level changed."""
        for out in (_IRQ, _FIQ):
            if self._agree[out]:
                n = self._winner(out)
                if n >= 0:
                    self._agree[out] = False
                    self._latched[out] = n
                    self._latched_prio[out] = self.ilr[n] >> 2
                    self._levels[out] = True
        self._publish()

    def _publish(self) -> None:
        irq, fiq = self._levels
        if irq != self.irq_level or fiq != self.fiq_level:
            self.irq_level = irq
            self.fiq_level = fiq
            if self.on_output is not None:
                self.on_output(irq, fiq)

    def _new_agreement(self, out: int) -> None:
        self._agree[out] = True
        self._levels[out] = False

    def _sir(self, out: int) -> int:
        n = self._latched[out]
        if n < 0:
            return SPURIOUS
        if self._agree[out] or not self._eligible(out, n):
            return SPURIOUS | n
        return n

    def _priority(self, out: int) -> int:
        n = self._latched[out]
        if n < 0:
            return SPURIOUS
        prio = self._latched_prio[out]
        if self._agree[out] or not self._eligible(out, n):
            return SPURIOUS | prio
        return prio

    # -- bus --------------------------------------------------------------------------------
    def read(self, offset: int, size: int) -> int:
        shift = (offset & 3) * 8
        value = self._read_reg(offset & ~3)
        return (value >> shift) & ((1 << (size * 8)) - 1)

    def _read_reg(self, off: int) -> int:
        if off >= ILR_BASE:
            m = (off - ILR_BASE) >> 2
            if m < NUM_LINES:
                return self.ilr[m]
        elif off >= BANK_BASE:
            bank, reg = divmod(off - BANK_BASE, BANK_STRIDE)
            if bank < NUM_BANKS:
                if reg == ITR:
                    return self._itr[bank]
                if reg == MIR:
                    return self.mir[bank]
                if reg == ISR_SET:
                    return self.isr[bank]
                if reg in (PENDING_IRQ, PENDING_FIQ):
                    pend = (self._itr[bank] | self.isr[bank]) & ~self.mir[bank]
                    route = self.fiq_route[bank]
                    return pend & (route if reg == PENDING_FIQ else ~route) & MASK32
                return 0  # MIR_CLEAR, MIR_SET, ISR_CLEAR are write-only
        elif off == REVISION:
            return REVISION_VALUE
        elif off == SYSCONFIG:
            return self.sysconfig
        elif off == SYSSTATUS:
            return 1
        elif off == SIR_IRQ:
            return self._sir(_IRQ)
        elif off == SIR_FIQ:
            return self._sir(_FIQ)
        elif off == CONTROL:
            return 0
        elif off == PROTECTION:
            return self.protection
        elif off == IDLE:
            return self.idle
        elif off == IRQ_PRIORITY:
            return self._priority(_IRQ)
        elif off == FIQ_PRIORITY:
            return self._priority(_FIQ)
        elif off == THRESHOLD:
            return self.threshold
        self.unmodeled("read", off)
        return 0

    def write(self, offset: int, size: int, value: int) -> None:
        shift = (offset & 3) * 8
        wmask = (((1 << (size * 8)) - 1) << shift) & MASK32
        self._write_reg(offset & ~3, (value << shift) & wmask, wmask)

    @staticmethod
    def _merge(old: int, value: int, wmask: int) -> int:
        return (old & ~wmask) | value

    def _write_reg(self, off: int, value: int, wmask: int) -> None:
        if off >= ILR_BASE:
            m = (off - ILR_BASE) >> 2
            if m < NUM_LINES:
                v = self._merge(self.ilr[m], value, wmask) & 0xFD
                self.ilr[m] = v
                bank, bit = m >> 5, 1 << (m & 31)
                if v & 1:
                    self.fiq_route[bank] |= bit
                else:
                    self.fiq_route[bank] &= ~bit
                self._evaluate()
                return
        elif off >= BANK_BASE:
            bank, reg = divmod(off - BANK_BASE, BANK_STRIDE)
            if bank < NUM_BANKS:
                if reg == MIR:
                    self.mir[bank] = self._merge(self.mir[bank], value, wmask)
                elif reg == MIR_CLEAR:
                    self.mir[bank] &= ~value
                elif reg == MIR_SET:
                    self.mir[bank] |= value
                elif reg == ISR_SET:
                    self.isr[bank] |= value
                elif reg == ISR_CLEAR:
                    self.isr[bank] &= ~value
                else:
                    return  # ITR and PENDING_x are read-only
                self._evaluate()
                return
        elif off == SYSCONFIG:
            v = self._merge(self.sysconfig, value, wmask)
            if v & 0x02:
                self.reset()
            self.sysconfig = v & 0x01
            return
        elif off == CONTROL:
            if value & 0x01:
                self._new_agreement(_IRQ)
            if value & 0x02:
                self._new_agreement(_FIQ)
            if value & 0x03:
                self._evaluate()
            return
        elif off == PROTECTION:
            self.protection = self._merge(self.protection, value, wmask) & 0x01
            return
        elif off == IDLE:
            self.idle = self._merge(self.idle, value, wmask) & 0x03
            return
        elif off == THRESHOLD:
            self.threshold = self._merge(self.threshold, value, wmask) & 0xFF
            self._evaluate()
            return
        elif off in (REVISION, SYSSTATUS, SIR_IRQ, SIR_FIQ, IRQ_PRIORITY, FIQ_PRIORITY):
            return  # read-only
        self.unmodeled("write", off, value)
