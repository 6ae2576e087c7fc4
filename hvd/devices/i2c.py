"""Multimaster high-speed I2C controllers I2C1-3, DM3730 TRM chapter 18 "Multimaster High-Speed
I2C Controller", section 18.6 (registers). I2C1 0x4807_0000 (INTC 56), I2C2 0x4807_2000 (57),
I2C3 0x4806_0000 (61). The kernel's i2c-omap uses 16-bit accesses, registers at index << 2.

==========  ======  =====  =====================================================================
register    offset  r/w    model
==========  ======  =====  =====================================================================
I2C_REV     0x00    r      0x40 (the 3630 revision; i2c-omap then applies its 36xx rules)
I2C_IE      0x04    rw     interrupt enables, same bit positions as I2C_STAT (15:14 read 0)
I2C_STAT    0x08    r/w1c  AL 0, NACK 1, ARDY 2, RRDY 3, XRDY 4, BF 8, BB 12 (read-only),
                           RDR 13, XDR 14. The INTC line is ``STAT & IE != 0``
I2C_WE      0x0C    rw     storage
I2C_SYSS    0x10    r      bit 0 RESETDONE = 1
I2C_BUF     0x14    rw     TXTRSH 5:0, TXFIFO_CLR 6 (self-clears), RXTRSH 13:8, RXFIFO_CLR 14
I2C_CNT     0x18    rw     byte count of the next transfer
I2C_DATA    0x1C    rw     transmit: goes to the slave at once; receive: pops the RX FIFO
I2C_SYSC    0x20    rw     SOFTRESET (bit 1) self-clears and resets the controller
I2C_CON     0x24    rw     EN 15, MST 10, TRX 9, STP 1, STT 0 (STT/STP self-clear)
I2C_OA      0x28    rw     storage (also OA1-3 0x44-0x4C, ACTOA 0x50, SBLOCK 0x54)
I2C_SA      0x2C    rw     slave address of the next transfer
I2C_PSC     0x30    rw     storage (and SCLL 0x34, SCLH 0x38)
I2C_SYSTEST 0x3C    rw     storage; SCL/SDA input bits (8, 6, 3, 1) read 1: the bus is idle high
I2C_BUFSTAT 0x40    r      RXSTAT 13:8 = bytes in the RX FIFO, TXSTAT 5:0 = 0, FIFODEPTH 15:14
                           = 0 (8-byte FIFOs)
==========  ======  =====  =====================================================================

Transfers happen instantly at the byte level, with the status protocol i2c-omap expects:

* Enabling the module (CON.EN 0 -> 1) reports the bus free (STAT.BF).
* ``CON = EN|MST|STT[|TRX][|STP]`` addresses ``SA``. No slave there, or the slave refuses the
  address: NACK and ARDY together (the driver then writes STP). Otherwise BB is set and:
* transmit: XRDY (at least TXTRSH+1 bytes still to send) or XDR (fewer) asks for data; each DATA
  write is delivered to the slave at once. A data byte the slave NACKs ends the transfer with
  NACK|ARDY. When all CNT bytes are sent: ARDY (and the stop condition if STP was given).
* receive: the controller fetches bytes from the slave into its 8-byte RX FIFO; RRDY when at
  least RXTRSH+1 bytes wait, RDR when the transfer's last bytes (fewer) wait; ARDY when all CNT
  bytes have been read.
* Data-request flags are re-evaluated when the driver acknowledges them (a STAT write), never
  while it is still filling or draining the FIFO, so no event is lost between its ack and its
  next look at STAT.

Slaves are attached with :meth:`I2cController.attach`; they implement :class:`I2cSlave`.
"""

from __future__ import annotations

import logging
from typing import Protocol

from hvd.devices.base import Device, IrqLine

log = logging.getLogger("hvd.devices.i2c")

REV, IE, STAT, WE, SYSS, BUF, CNT, DATA = 0x00, 0x04, 0x08, 0x0C, 0x10, 0x14, 0x18, 0x1C
SYSC, CON, OA, SA, PSC, SCLL, SCLH, SYSTEST, BUFSTAT = (
    0x20, 0x24, 0x28, 0x2C, 0x30, 0x34, 0x38, 0x3C, 0x40)

REV_3630 = 0x40

AL, NACK, ARDY, RRDY, XRDY = 1 << 0, 1 << 1, 1 << 2, 1 << 3, 1 << 4
BF, AAS, XUDF, ROVR, BB, RDR, XDR = 1 << 8, 1 << 9, 1 << 10, 1 << 11, 1 << 12, 1 << 13, 1 << 14
STAT_W1C = 0x6FFF & ~BB

CON_EN, CON_MST, CON_TRX, CON_STP, CON_STT = 1 << 15, 1 << 10, 1 << 9, 1 << 1, 1 << 0
BUF_TXFIFO_CLR, BUF_RXFIFO_CLR = 1 << 6, 1 << 14
SYSTEST_LINES_HIGH = (1 << 8) | (1 << 6) | (1 << 3) | (1 << 1)
FIFO_DEPTH = 8

_STORED = {WE, OA, PSC, SCLL, SCLH, SYSTEST, 0x44, 0x48, 0x4C, 0x50, 0x54}


class I2cSlave(Protocol):
    """A device on the bus. ``start`` returns False to refuse (NACK) its address."""

    def start(self, read: bool) -> bool | None: ...

    def write_byte(self, b: int) -> bool | None: ...

    def read_byte(self) -> int: ...

    def stop(self) -> None: ...


class I2cController(Device):
    """One OMAP I2C controller in master mode."""

    size = 0x1000

    def __init__(self, name: str, irq: IrqLine | None = None) -> None:
        super().__init__(name)
        self.irq = irq
        self.slaves: dict[int, I2cSlave] = {}
        self.reset()

    def attach(self, addr: int, slave: I2cSlave) -> None:
        self.slaves[addr & 0x3FF] = slave

    def reset(self) -> None:
        self.regs = {off: 0 for off in _STORED}
        self.ie = 0
        self.stat = 0
        self.con = 0
        self.sysc = 0
        self.buf = 0
        self.cnt = 0
        self.sa = 0
        self.bus_busy = False
        self._slave: I2cSlave | None = None  # slave addressed on the bus (until the stop)
        self._active = False  # a transfer is in progress
        self._tx = False
        self._stop_at_end = False
        self._to_write = 0
        self._rx_remaining = 0
        self._rx_fifo: list[int] = []
        self._update_irq()

    # -- bus access -------------------------------------------------------------------------------
    def read(self, offset: int, size: int) -> int:
        off = offset & ~3
        if off == DATA:
            v = self._read_data()
        elif off == STAT:
            v = self.stat | (BB if self.bus_busy else 0)
        elif off == IE:
            v = self.ie
        elif off == CON:
            v = self.con
        elif off == REV:
            v = REV_3630
        elif off == SYSS:
            v = 1
        elif off == BUF:
            v = self.buf
        elif off == CNT:
            v = self.cnt
        elif off == SA:
            v = self.sa
        elif off == SYSC:
            v = self.sysc
        elif off == BUFSTAT:
            v = min(len(self._rx_fifo), 0x3F) << 8
        elif off == SYSTEST:
            v = self.regs[SYSTEST] | SYSTEST_LINES_HIGH
        elif off in self.regs:
            v = self.regs[off]
        else:
            self.unmodeled("read", offset)
            v = 0
        if offset & 3:
            v >>= (offset & 3) * 8
        return v & ((1 << (size * 8)) - 1)

    def write(self, offset: int, size: int, value: int) -> None:
        if offset & 3:
            return  # the registers are the low 16 bits of each word
        off = offset
        value &= 0xFFFF
        if off == DATA:
            self._write_data(value & 0xFF)
        elif off == STAT:
            self.stat &= ~(value & STAT_W1C)
            self._evaluate()
        elif off == IE:
            self.ie = value & 0x6FFF & ~BB
        elif off == CON:
            self._write_con(value)
        elif off == CNT:
            self.cnt = value
        elif off == SA:
            self.sa = value & 0x3FF
        elif off == BUF:
            if value & BUF_RXFIFO_CLR:
                self._rx_fifo.clear()
            self.buf = value & ~(BUF_RXFIFO_CLR | BUF_TXFIFO_CLR)
        elif off == SYSC:
            if value & 2:
                self.reset()
                return
            self.sysc = value
        elif off in self.regs:
            self.regs[off] = value
        else:
            self.unmodeled("write", offset, value)
            return
        self._update_irq()

    # -- the transfer state machine ----------------------------------------------------------
    def _write_con(self, value: int) -> None:
        was_enabled = self.con & CON_EN
        self.con = value
        if not value & CON_EN:
            # module held in reset: the bus is released, status and FIFOs are cleared
            self._release_bus()
            self.stat = 0
            self._rx_fifo.clear()
            return
        if not was_enabled:
            self.stat |= BF  # the controller sees an idle bus: BB/BF state is valid
        if value & CON_STT and value & CON_MST:
            self._start()
        elif value & CON_STP:
            if not self._active:
                self._release_bus()
            # with a transfer in progress STP is honoured when it completes

    def _start(self) -> None:
        self.con &= ~CON_STT
        self._tx = bool(self.con & CON_TRX)
        self._stop_at_end = bool(self.con & CON_STP)
        self.bus_busy = True
        self.stat &= ~(XRDY | XDR | RRDY | RDR | ARDY | NACK)
        self._rx_fifo.clear()
        slave = self.slaves.get(self.sa)
        acked = False
        if slave is not None:
            try:
                acked = slave.start(read=not self._tx) is not False
            except Exception:  # a slave model must never take the board down
                log.exception("%s: slave 0x%02x failed on start", self.name, self.sa)
        if not acked:
            self._nack()
            return
        self._slave = slave
        self._active = True
        if self._tx:
            self._to_write = self.cnt
        else:
            self._rx_remaining = self.cnt
            self._fill_rx()
        self._evaluate()

    def _nack(self) -> None:
        self._active = False
        self.stat &= ~(XRDY | XDR | RRDY | RDR)
        self.stat |= NACK | ARDY
        if self._stop_at_end:
            self._release_bus()

    def _release_bus(self) -> None:
        """Stop condition: the slave is told, the bus becomes free."""
        if self._slave is not None:
            try:
                self._slave.stop()
            except Exception:
                log.exception("%s: slave failed on stop", self.name)
            self._slave = None
        self._active = False
        if self.bus_busy:
            self.bus_busy = False
            self.stat |= BF
        self.con &= ~(CON_STP | CON_MST | CON_STT)

    def _finish(self) -> None:
        self._active = False
        self.stat |= ARDY
        if self._stop_at_end or self.con & CON_STP:
            self._release_bus()

    def _evaluate(self) -> None:
        """Raise the data-request flag the transfer needs next, or complete it."""
        if not self._active:
            return
        if self._tx:
            if self._to_write <= 0:
                self._finish()
            elif not self.stat & (XRDY | XDR):
                threshold = (self.buf & 0x3F) + 1
                self.stat |= XRDY if self._to_write >= threshold else XDR
        else:
            n = len(self._rx_fifo)
            if n == 0 and self._rx_remaining <= 0:
                self._finish()
            elif n and not self.stat & (RRDY | RDR):
                threshold = ((self.buf >> 8) & 0x3F) + 1
                if n >= threshold:
                    self.stat |= RRDY
                elif self._rx_remaining <= 0:
                    self.stat |= RDR

    def _fill_rx(self) -> None:
        slave = self._slave
        while self._rx_remaining > 0 and len(self._rx_fifo) < FIFO_DEPTH and slave is not None:
            try:
                b = slave.read_byte() & 0xFF
            except Exception:
                log.exception("%s: slave failed on read", self.name)
                b = 0xFF
            self._rx_fifo.append(b)
            self._rx_remaining -= 1

    def _write_data(self, b: int) -> None:
        if not (self._active and self._tx and self._to_write > 0):
            return  # nothing to send: the byte is dropped
        self._to_write -= 1
        try:
            acked = self._slave.write_byte(b) is not False if self._slave is not None else False
        except Exception:
            log.exception("%s: slave failed on write", self.name)
            acked = False
        if not acked:
            self._nack()

    def _read_data(self) -> int:
        if not self._rx_fifo:
            return 0
        b = self._rx_fifo.pop(0)
        if self._active:
            self._fill_rx()
        return b

    def _update_irq(self) -> None:
        if self.irq is not None:
            self.irq.set(bool(self.stat & self.ie))
