"""OMAP UART (16550-compatible), DM3730 TRM chapter 19 (UART/IrDA/CIR), UART mode only.

Registers sit at ``index << 2``; the kernel uses 16-bit accesses, bare-metal code 8 or 32-bit. The
register behind an address depends on the *register access mode* chosen by LCR (TRM 19.3.x,
"Register access modes"):

* operational: LCR[7] = 0
* configuration mode A: LCR[7] = 1 and LCR != 0xBF
* configuration mode B: LCR = 0xBF

TCR/TLR replace MSR/SPR (or XOFF1/XOFF2 in mode B) when EFR[4] = 1 and MCR[6] = 1.

======  ==================  ==================  ==================  =======================
offset  operational         mode A              mode B              notes
======  ==================  ==================  ==================  =======================
0x00    RHR (r) / THR (w)   DLL                 DLL
0x04    IER                 DLH                 DLH                 IER[7:4] need EFR[4]
0x08    IIR (r) / FCR (w)   IIR (r) / FCR (w)   EFR                 FCR[5:4] need EFR[4]
0x0C    LCR                 LCR                 LCR
0x10    MCR                 MCR                 XON1/ADDR1          MCR[7:5] need EFR[4]
0x14    LSR (r)             LSR (r)             XON2/ADDR2
0x18    MSR (r) | TCR       MSR (r) | TCR       XOFF1 | TCR
0x1C    SPR | TLR           SPR | TLR           XOFF2 | TLR
0x20    MDR1 (reset 0x07: "disabled"; ignored here, TX never stops)
0x24    MDR2
0x28    SFLSR (r) / TXFLL (w)      0x2C  RESUME (r) / TXFLH (w)
0x30    SFREGL (r) / RXFLL (w)     0x34  SFREGH (r) / RXFLH (w)
0x38    BLR                 UASR (r)            UASR (r)
0x3C    ACREG               0x40 SCR            0x44 SSR (r, TX FIFO never full)
0x48    EBLR                0x50 MVR (r, 0x52: OMAP36xx UART rev 5.2)
0x54    SYSC (SOFTRESET bit 1 self-clears and resets the module)
0x58    SYSS (r, RESETDONE bit 0 = 1)       0x5C WER (reset 0x7F)
0x60    CFPS                0x64 RXFIFO_LVL (r) 0x68 TXFIFO_LVL (r, 0)
0x6C    IER2                0x70 ISR2           0x80 MDR3   0x84 TX_DMA_THRESHOLD
======  ==================  ==================  ==================  =======================

Model (what differs from silicon is deliberate):

* TX completes instantly: THR writes go straight to :attr:`OmapUart.tx_sink`; LSR always shows
  THRE|TEMT (0x60). In loopback (MCR[4]) transmitted bytes enter the RX FIFO instead.
* RX: host input arrives through :meth:`OmapUart.push_rx` (vCPU thread). The 64-byte FIFO (one
  holding register with FCR[0] = 0) is fed from a bounded backlog, so host input is never lost
  and never overruns; the RX-timeout interrupt (IIR 0x0C) is raised at once when data sits below
  the trigger level. :meth:`push_break` delivers a break (NUL with LSR BI).
* Interrupts in IIR priority order: line status (0x06), RX timeout (0x0C), RHR (0x04),
  THR (0x02; level: asserted while IER[1] is set because the TX FIFO is always empty),
  modem status (0x00). IIR[7:6] mirror FCR[0]. The IRQ line is high while any enabled source is.
"""

from __future__ import annotations

from collections import deque
from itertools import islice
from typing import Callable

from hvd.devices.base import Device, IrqLine

FIFO_SIZE = 64
RX_BACKLOG = 4096

# register offsets
THR = RHR = DLL = 0x00
IER = DLH = 0x04
IIR = FCR = EFR = 0x08
LCR = 0x0C
MCR = XON1 = 0x10
LSR = XON2 = 0x14
MSR = TCR = XOFF1 = 0x18
SPR = TLR = XOFF2 = 0x1C
MDR1 = 0x20
MDR2 = 0x24
SFLSR = TXFLL = 0x28
RESUME = TXFLH = 0x2C
SFREGL = RXFLL = 0x30
SFREGH = RXFLH = 0x34
BLR = UASR = 0x38
ACREG = 0x3C
SCR = 0x40
SSR = 0x44
EBLR = 0x48
MVR = 0x50
SYSC = 0x54
SYSS = 0x58
WER = 0x5C
CFPS = 0x60
RXFIFO_LVL = 0x64
TXFIFO_LVL = 0x68
IER2 = 0x6C
ISR2 = 0x70
MDR3 = 0x80
TX_DMA_THRESHOLD = 0x84

MVR_VALUE = 0x52

# IER bits
IER_RHR = 0x01
IER_THR = 0x02
IER_LINE = 0x04
IER_MODEM = 0x08

# IIR values (bit 0 = 1: no interrupt pending)
IIR_NONE = 0x01
IIR_MODEM = 0x00
IIR_THR = 0x02
IIR_RHR = 0x04
IIR_LINE = 0x06
IIR_RX_TIMEOUT = 0x0C

# LSR bits
LSR_DR = 0x01
LSR_OE = 0x02
LSR_PE = 0x04
LSR_FE = 0x08
LSR_BI = 0x10
LSR_THRE = 0x20
LSR_TEMT = 0x40
LSR_FIFO_ERR = 0x80

# MCR bits
MCR_LOOP = 0x10
MCR_TCR_TLR = 0x40

EFR_ENHANCED = 0x10

# MSR inputs seen when not in loopback: a terminal that is present (CTS, DSR, DCD)
MSR_INPUTS_IDLE = 0xB0

# FCR[7:6] -> RX trigger level, FCR[5:4] -> TX trigger (spaces), TRM table "FIFO trigger levels"
_RX_TRIGGER = (8, 16, 56, 60)

# single-byte bytes objects, so transmitting allocates nothing
_BYTE = tuple(bytes((i,)) for i in range(256))

# registers that only store what is written (reset to 0): offset -> writable bits
_PLAIN = {MDR2: 0x7F, ACREG: 0xFF, EBLR: 0xFF, CFPS: 0xFF, IER2: 0x03, ISR2: 0x03,
          MDR3: 0x07, TX_DMA_THRESHOLD: 0x3F, TXFLL: 0xFF, TXFLH: 0x1F, RXFLL: 0xFF, RXFLH: 0x0F}


class OmapUart(Device):
    """One UART module (UART1-4). Pure register model; backends attach through tx_sink/push_rx."""

    size = 0x1000

    def __init__(self, name: str, irq: IrqLine) -> None:
        super().__init__(name)
        self.irq = irq
        #: called with each transmitted byte (as a 1-byte ``bytes``); None discards output
        self.tx_sink: Callable[[bytes], None] | None = None
        self._rx: deque[int] = deque()  # entries: byte | (LSR error bits << 8); FIFO + backlog
        self._rx_flagged = 0  # how many entries of _rx carry error bits
        self.fcr = 0
        self.reset()

    # -- state ------------------------------------------------------------------------------
    def reset(self) -> None:
        """Power-on reset: every register and the host backlog."""
        self._rx.clear()
        self._rx_flagged = 0
        self._reset_regs()

    def _reset_regs(self) -> None:
        """Module reset (SYSC.SOFTRESET): registers and the FIFOs; the host backlog stays."""
        self._drop_fifo()
        self.ier = 0
        self.fcr = 0
        self.lcr = 0
        self.mcr = 0
        self.dll = 0
        self.dlh = 0
        self.efr = 0
        self.xon1 = self.xon2 = self.xoff1 = self.xoff2 = 0
        self.tcr = 0x0F
        self.tlr = 0
        self.spr = 0
        self.mdr1 = 0x07
        self.scr = 0
        self.sysc = 0
        self.wer = 0x7F
        self.overrun = False
        self.msr_delta = 0
        self.plain = {off: 0 for off in _PLAIN}
        self._last_msr_inputs = MSR_INPUTS_IDLE
        self.iir = IIR_NONE
        self._update()

    def _drop_fifo(self) -> None:
        """Empty what the RX FIFO holds (the host backlog behind it stays)."""
        rx = self._rx
        for _ in range(min(self._capacity(), len(rx))):
            if rx.popleft() > 0xFF:
                self._rx_flagged -= 1

    def _capacity(self) -> int:
        return FIFO_SIZE if self.fcr & 1 else 1

    def _rx_count(self) -> int:
        n = len(self._rx)
        cap = FIFO_SIZE if self.fcr & 1 else 1
        return n if n < cap else cap

    def _rx_trigger(self) -> int:
        if not self.fcr & 1:
            return 1
        tlr_rx = self.tlr >> 4
        if self.scr & 0x80:  # RX_TRIG_GRANU1: granularity 1, TLR[7:4]:FCR[7:6]
            return max(1, (tlr_rx << 2) | (self.fcr >> 6))
        if tlr_rx:
            return tlr_rx * 4
        return _RX_TRIGGER[self.fcr >> 6]

    def _msr_inputs(self) -> int:
        if self.mcr & MCR_LOOP:
            m = self.mcr
            return ((m & 0x02) << 3) | ((m & 0x01) << 5) | ((m & 0x04) << 4) | ((m & 0x08) << 4)
        return MSR_INPUTS_IDLE

    def _track_msr(self) -> None:
        new = self._msr_inputs()
        old = self._last_msr_inputs
        if new != old:
            changed = new ^ old
            delta = 0
            if changed & 0x10:
                delta |= 0x01  # DCTS
            if changed & 0x20:
                delta |= 0x02  # DDSR
            if old & 0x40 and not new & 0x40:
                delta |= 0x04  # TERI: trailing edge of RI
            if changed & 0x80:
                delta |= 0x08  # DDCD
            self.msr_delta |= delta
            self._last_msr_inputs = new

    def _line_status_pending(self) -> bool:
        return self.overrun or bool(self._rx and self._rx[0] & 0x1E00)

    def _update(self) -> None:
        """Recompute IIR and the interrupt line from the current state."""
        ier = self.ier
        iir = IIR_NONE
        if ier & IER_LINE and self._line_status_pending():
            iir = IIR_LINE
        elif ier & IER_RHR and self._rx:
            iir = IIR_RHR if self._rx_count() >= self._rx_trigger() else IIR_RX_TIMEOUT
        elif ier & IER_THR:
            iir = IIR_THR
        elif ier & IER_MODEM and self.msr_delta:
            iir = IIR_MODEM
        self.iir = iir
        self.irq.set(not iir & 1)

    # -- backend interface (vCPU thread) ----------------------------------------------------
    def rx_space(self) -> int:
        """How many bytes :meth:`push_rx` would accept now."""
        if self.mcr & MCR_LOOP:
            return 0
        return max(0, FIFO_SIZE + RX_BACKLOG - len(self._rx))

    def push_rx(self, data: bytes) -> int:
        """Queue host input for the guest; returns how many bytes were accepted.

        In loopback mode the external input is disconnected and nothing is accepted.
        """
        n = min(len(data), self.rx_space())
        if n:
            self._rx.extend(data[:n])
            self._update()
        return n

    def push_break(self) -> bool:
        """Deliver a line break (a NUL character flagged with LSR.BI); False if there is no room."""
        if self.rx_space() <= 0:
            return False
        self._rx.append(LSR_BI << 8)
        self._rx_flagged += 1
        self._update()
        return True

    def _transmit(self, value: int) -> None:
        if self.mcr & MCR_LOOP:
            if len(self._rx) < self._capacity():
                self._rx.append(value)
            else:
                self.overrun = True
        else:
            sink = self.tx_sink
            if sink is not None:
                sink(_BYTE[value])

    # -- bus --------------------------------------------------------------------------------
    def _tcr_tlr(self) -> bool:
        return bool(self.efr & EFR_ENHANCED and self.mcr & MCR_TCR_TLR)

    def _lsr(self) -> int:
        v = LSR_THRE | LSR_TEMT
        rx = self._rx
        if rx:
            v |= LSR_DR | ((rx[0] >> 8) & 0x1C)
            if self._rx_flagged and any(e > 0xFF for e in islice(rx, self._rx_count())):
                v |= LSR_FIFO_ERR
        if self.overrun:
            v |= LSR_OE
        return v

    def read(self, offset: int, size: int) -> int:
        shift = (offset & 3) * 8
        value = self._read_reg(offset & ~3, peek=shift != 0)
        return (value >> shift) & ((1 << (size * 8)) - 1)

    def _read_reg(self, off: int, peek: bool) -> int:
        lcr = self.lcr
        if off < 0x20:
            if off == LCR:
                return lcr
            div = lcr & 0x80
            mode_b = lcr == 0xBF
            if off == 0x00:
                if div:
                    return self.dll
                rx = self._rx
                if not rx:
                    return 0
                if peek:
                    return rx[0] & 0xFF
                v = rx.popleft()
                if v > 0xFF:
                    self._rx_flagged -= 1
                    v &= 0xFF
                self._update()
                return v
            if off == 0x04:
                return self.dlh if div else self.ier
            if off == 0x08:
                if mode_b:
                    return self.efr
                return self.iir | (0xC0 if self.fcr & 1 else 0)
            if off == 0x18 and self._tcr_tlr():
                return self.tcr
            if off == 0x1C and self._tcr_tlr():
                return self.tlr
            if mode_b:
                return (self.xon1, self.xon2, self.xoff1, self.xoff2)[(off - 0x10) >> 2]
            if off == 0x10:
                return self.mcr
            if off == 0x14:
                v = self._lsr()
                if not peek and (self.overrun or (self._rx and self._rx[0] & 0x1E00)):
                    self.overrun = False
                    if self._rx and self._rx[0] > 0xFF:
                        self._rx[0] &= 0xFF
                        self._rx_flagged -= 1
                    self._update()
                return v
            if off == 0x18:
                v = self._msr_inputs() | self.msr_delta
                if not peek and self.msr_delta:
                    self.msr_delta = 0
                    self._update()
                return v
            return self.spr  # 0x1C
        if off == MDR1:
            return self.mdr1
        if off == SCR:
            return self.scr
        if off == SSR:
            return 0
        if off == MVR:
            return MVR_VALUE
        if off == SYSC:
            return self.sysc
        if off == SYSS:
            return 1
        if off == WER:
            return self.wer
        if off == RXFIFO_LVL:
            return self._rx_count()
        if off in (TXFIFO_LVL, SFLSR, RESUME, SFREGL, SFREGH, BLR):
            return 0  # TX FIFO always empty; no IrDA status; BLR/UASR read 0
        if off in _PLAIN:
            return self.plain[off]
        self.unmodeled("read", off)
        return 0

    def write(self, offset: int, size: int, value: int) -> None:
        if offset & 3:
            self.unmodeled("write", offset, value)
            return
        self._write_reg(offset, value & 0xFFFF)

    def _write_reg(self, off: int, value: int) -> None:
        lcr = self.lcr
        b = value & 0xFF
        if off < 0x20:
            if off == LCR:
                self.lcr = b
                return
            div = lcr & 0x80
            mode_b = lcr == 0xBF
            enhanced = self.efr & EFR_ENHANCED
            if off == 0x00:
                if div:
                    self.dll = b
                else:
                    self._transmit(b)
                    self._update()
                return
            if off == 0x04:
                if div:
                    self.dlh = b & 0x3F
                else:
                    self.ier = b if enhanced else (self.ier & 0xF0) | (b & 0x0F)
                    self._update()
                return
            if off == 0x08:
                if mode_b:
                    self.efr = b
                else:
                    self._write_fcr(b, enhanced)
                return
            if off == 0x18 and self._tcr_tlr():
                self.tcr = b
                return
            if off == 0x1C and self._tcr_tlr():
                self.tlr = b
                self._update()
                return
            if mode_b:
                if off == 0x10:
                    self.xon1 = b
                elif off == 0x14:
                    self.xon2 = b
                elif off == 0x18:
                    self.xoff1 = b
                else:
                    self.xoff2 = b
                return
            if off == 0x10:
                self.mcr = b if enhanced else (self.mcr & 0xE0) | (b & 0x1F)
                self._track_msr()
                self._update()
            elif off == 0x1C:
                self.spr = b
            # LSR and MSR are read-only
            return
        if off == MDR1:
            self.mdr1 = b
        elif off == SCR:
            self.scr = b
            self._update()
        elif off == SYSC:
            if b & 0x02:
                self._reset_regs()
            self.sysc = b & 0x1D
        elif off == WER:
            self.wer = b & 0x7F
        elif off in _PLAIN:
            self.plain[off] = value & _PLAIN[off]
        else:
            self.unmodeled("write", off, value)

    def _write_fcr(self, b: int, enhanced: int) -> None:
        old = self.fcr
        if not enhanced:
            b = (b & ~0x30) | (old & 0x30)
        clear_rx = b & 0x02
        if (b ^ old) & 1:
            clear_rx = 1  # enabling or disabling the FIFOs empties them
        if clear_rx:
            self._drop_fifo()
            self.overrun = False
        self.fcr = b & ~0x06
        self._update()
