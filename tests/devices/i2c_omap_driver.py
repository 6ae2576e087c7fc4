"""A line-by-line Python rendering of what Linux 6.1's i2c-omap does with the controller
registers (probe, reset, init, interrupt-driven transfer with the 36xx FIFO rules and errata
i207), to drive the model exactly as the kernel will. Test helper, not a model."""

from __future__ import annotations

from hvd.devices.base import IrqLine
from hvd.devices.i2c import I2cController

REV, IE, STAT, WE, SYSS, BUF, CNT, DATA, SYSC, CON, SA, PSC, SCLL, SCLH, SYSTEST, BUFSTAT = (
    0x00, 0x04, 0x08, 0x0C, 0x10, 0x14, 0x18, 0x1C, 0x20, 0x24, 0x2C, 0x30, 0x34, 0x38, 0x3C,
    0x40)
XDR, RDR, BB, ROVR, XUDF, BF, XRDY, RRDY, ARDY, NACK, AL = (
    1 << 14, 1 << 13, 1 << 12, 1 << 11, 1 << 10, 1 << 8, 1 << 4, 1 << 3, 1 << 2, 1 << 1, 1)
EN, MST, TRX, STP, STT = 1 << 15, 1 << 10, 1 << 9, 1 << 1, 1 << 0


class TimedOut(Exception):
    pass


class OmapI2cDriver:
    def __init__(self) -> None:
        self.irq_level = False
        self.line = IrqLine(56, self._irq)
        self.dev = I2cController("i2c1", self.line)
        self.irq_count = 0

    def _irq(self, n: int, level: bool) -> None:
        self.irq_level = level

    def r(self, off: int) -> int:
        return self.dev.read(off, 2)

    def w(self, off: int, v: int) -> None:
        self.dev.write(off, 2, v & 0xFFFF)

    # -- probe ------------------------------------------------------------------------------
    def probe(self) -> None:
        scheme = (self.dev.read(0x04, 2) & 0xC000) >> 14
        assert scheme == 0
        self.rev = self.r(REV)
        assert self.rev == 0x40
        self.errata_i207 = 0x36 <= self.rev < 0x50400002
        self.fifo_size = (0x8 << ((self.r(BUFSTAT) >> 14) & 3)) // 2
        self.b_hw = self.rev < 0x40
        self.iestate = XRDY | RRDY | ARDY | NACK | AL | RDR | XDR
        self.bb_valid = self.rev <= 0x3C
        self.threshold = 0
        self.init()

    def init(self) -> None:
        self.w(CON, 0)
        self.w(PSC, 23)
        self.w(SCLL, 13)
        self.w(SCLH, 15)
        self.w(WE, 0x636F)
        self.w(CON, EN)
        self.w(IE, self.iestate)

    def reset(self) -> None:
        sysc = self.r(SYSC)
        self.w(CON, self.r(CON) & ~EN)
        self.w(SYSC, 2)
        self.w(CON, EN)
        for _ in range(1000):
            if self.r(SYSS) & 1:
                break
        else:
            raise TimedOut("controller reset")
        self.w(SYSC, sysc)
        self.bb_valid = False

    # -- transfers --------------------------------------------------------------------------
    def wait_for_bb_valid(self) -> None:
        if self.bb_valid:
            return
        for _ in range(1000):  # 1 s of msleep(1)
            if self.r(STAT) & (BB | BF):
                self.bb_valid = True
                return
        raise TimedOut("bus ready")

    def wait_for_bb(self) -> None:
        for _ in range(1000):
            if not self.r(STAT) & BB:
                return
        raise TimedOut("bus busy")

    def resize_fifo(self, size: int, is_rx: bool) -> None:
        self.threshold = max(1, min(size, self.fifo_size))
        buf = self.r(BUF)
        if is_rx:
            buf = buf & ~(0x3F << 8) | ((self.threshold - 1) << 8) | (1 << 14)
        else:
            buf = buf & ~0x3F | (self.threshold - 1) | (1 << 6)
        self.w(BUF, buf)

    def xfer_msg(self, addr: int, data: bytearray | None, length: int, read: bool,
                 stop: bool) -> int:
        self.receiver = read
        self.resize_fifo(length, read)
        self.w(SA, addr)
        self.buf = data if data is not None else bytearray()
        self.pos = 0
        self.buf_len = length
        self.w(CNT, length)
        self.w(BUF, self.r(BUF) | (1 << 14) | (1 << 6))
        self.cmd_err = 0
        self.complete = False
        w = EN | MST | STT
        if not read:
            w |= TRX
        if not self.b_hw and stop:
            w |= STP
        self.w(CON, w)
        # wait_for_completion_timeout: the threaded handler runs whenever the line is high
        for _ in range(100):
            if self.complete:
                break
            if self.irq_level:
                self.irq_count += 1
                ret = self.xfer_data()
                if ret != -11:  # -EAGAIN
                    self.cmd_err |= ret
                    self.complete = True
        if not self.complete:
            self.reset()
            self.init()
            return -110  # -ETIMEDOUT
        if not self.cmd_err:
            return 0
        if self.cmd_err & NACK:
            self.w(CON, self.r(CON) | STP)
            return -121  # -EREMOTEIO
        return -5

    def transfer(self, msgs: list[tuple[int, bytearray, bool]]) -> int:
        """msgs: (addr, buffer, is_read). Returns the number of messages or -errno."""
        self.wait_for_bb_valid()
        self.wait_for_bb()
        r = 0
        for i, (addr, buf, is_read) in enumerate(msgs):
            r = self.xfer_msg(addr, buf, len(buf), is_read, i == len(msgs) - 1)
            if r:
                break
        self.wait_for_bb()
        return r or len(msgs)

    def ack(self, bits: int) -> None:
        self.w(STAT, bits)

    def xfer_data(self) -> int:
        err = 0
        count = 0
        while True:
            bits = self.r(IE)
            stat = self.r(STAT) & bits
            if self.receiver:
                stat &= ~(XDR | XRDY)
            else:
                stat &= ~(RDR | RRDY)
            if not stat:
                return -11
            count += 1
            assert count < 100, "Too much work in one IRQ"
            if stat & NACK:
                self.cmd_err |= NACK
                self.ack(NACK)
                if not stat & ~NACK:
                    return -11
            if stat & AL:
                err |= AL
                self.ack(AL)
            if stat & ARDY:
                self.ack(ARDY)
            if stat & (ARDY | NACK | AL):
                self.ack(RRDY | RDR | XRDY | XDR | ARDY)
                return err
            if stat & RDR:
                num = self.buf_len
                if self.errata_i207:
                    self.ack(RDR)
                    if not self.r(STAT) & BB:
                        if self.r(STAT) & RDR:
                            self.ack(RDR)
                    num = (self.r(BUFSTAT) >> 8) & 0x3F
                self.receive(num)
                self.ack(RDR)
                continue
            if stat & RRDY:
                self.receive(self.threshold or 1)
                self.ack(RRDY)
                continue
            if stat & XDR:
                self.transmit(self.buf_len)
                self.ack(XDR)
                continue
            if stat & XRDY:
                self.transmit(self.threshold or 1)
                self.ack(XRDY)
                continue
            if stat & ROVR:
                self.ack(ROVR)
                return err | ROVR
            if stat & XUDF:
                self.ack(XUDF)
                return err | XUDF
            return err

    def receive(self, n: int) -> None:
        for _ in range(n):
            self.buf[self.pos] = self.r(DATA) & 0xFF
            self.pos += 1
            self.buf_len -= 1

    def transmit(self, n: int) -> None:
        for _ in range(n):
            self.w(DATA, self.buf[self.pos])
            self.pos += 1
            self.buf_len -= 1

    # -- regmap-style helpers (what twl_i2c_read/write turn into) ----------------------------
    def write_regs(self, addr: int, reg: int, values: bytes) -> int:
        return self.transfer([(addr, bytearray([reg]) + bytearray(values), False)])

    def read_regs(self, addr: int, reg: int, n: int) -> bytes | int:
        out = bytearray(n)
        r = self.transfer([(addr, bytearray([reg]), False), (addr, out, True)])
        return bytes(out) if r == 2 else r
