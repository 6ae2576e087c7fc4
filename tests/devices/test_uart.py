"""OMAP UART model: register modes, FIFO, IIR, interrupts, backend interface."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hvd.devices import uart as U
from hvd.devices.base import IrqLine
from hvd.devices.uart import OmapUart


class Line(IrqLine):
    def __init__(self) -> None:
        super().__init__(74, self._sink)
        self.changes: list[bool] = []

    def _sink(self, number: int, level: bool) -> None:
        self.changes.append(level)


@pytest.fixture
def dev() -> tuple[OmapUart, Line, bytearray]:
    line = Line()
    u = OmapUart("uart3", line)
    out = bytearray()
    u.tx_sink = out.extend
    return u, line, out


def rd(u: OmapUart, off: int, size: int = 2) -> int:
    return u.read(off, size)


def wr(u: OmapUart, off: int, value: int, size: int = 2) -> None:
    u.write(off, size, value)


def test_reset_values(dev):
    u, line, _ = dev
    assert rd(u, U.LSR) == 0x60
    assert rd(u, U.IIR) == 0x01
    assert rd(u, U.IER) == 0
    assert rd(u, U.LCR) == 0
    assert rd(u, U.MDR1) == 0x07
    assert rd(u, U.MVR, 4) == 0x52
    assert rd(u, U.SYSS) & 1 == 1
    assert rd(u, U.SSR) & 1 == 0
    assert rd(u, U.WER) == 0x7F
    assert not line.level


def test_tx_all_access_sizes_and_instant_completion(dev):
    u, _, out = dev
    wr(u, U.THR, ord("a"), 1)
    wr(u, U.THR, ord("b"), 2)
    wr(u, U.THR, 0x100 | ord("c"), 4)  # only the low byte is transmitted
    assert out == b"abc"
    assert rd(u, U.LSR, 4) == 0x60  # THRE|TEMT right away
    wr(u, U.MDR1, 0x07)  # "disabled": output does not stop
    wr(u, U.THR, ord("d"))
    assert out == b"abcd"


def test_tx_without_sink_is_discarded(dev):
    u, _, _ = dev
    u.tx_sink = None
    wr(u, U.THR, 0x41)
    assert rd(u, U.LSR) == 0x60


def test_earlycon_sequence(dev):
    """The 8250 earlycon setup of omap3-notes 5.1 followed by polled output."""
    u, _, out = dev
    wr(u, U.LCR, 3, 4)
    wr(u, U.IER, rd(u, U.IER, 4) & 0x40, 4)
    wr(u, U.FCR, 0, 4)
    wr(u, U.MCR, 3, 4)
    for ch in b"Booting":
        assert rd(u, U.LSR, 4) & 0x60 == 0x60
        wr(u, U.THR, ch, 4)
    assert out == b"Booting"


def test_register_mode_switching(dev):
    u, _, out = dev
    wr(u, U.IER, 0x05)
    wr(u, U.SPR, 0x5A)
    # mode A: DLL/DLH replace RHR/THR and IER; IIR still readable at 0x08
    wr(u, U.LCR, 0x80)
    wr(u, U.DLL, 0x1A)
    wr(u, U.DLH, 0xFF)
    assert rd(u, U.DLL) == 0x1A
    assert rd(u, U.DLH) == 0x3F  # 6 bits
    assert rd(u, U.IIR) == 0x01  # IIR (no source pending), not EFR
    assert out == b""  # writing DLL did not transmit
    # mode B: EFR at 0x08, XON/XOFF at 0x10-0x1C
    wr(u, U.LCR, 0xBF)
    assert rd(u, U.DLL) == 0x1A
    wr(u, U.EFR, 0x10)
    wr(u, U.XON1, 0x11)
    wr(u, U.XON2, 0x13)
    wr(u, U.XOFF1, 0x21)
    wr(u, U.XOFF2, 0x23)
    assert (rd(u, 0x08), rd(u, 0x10), rd(u, 0x14), rd(u, 0x18), rd(u, 0x1C)) == (
        0x10, 0x11, 0x13, 0x21, 0x23)
    # back to operational: the original registers are untouched
    wr(u, U.LCR, 0x03)
    assert rd(u, U.IER) == 0x05
    assert rd(u, U.SPR) == 0x5A
    assert rd(u, U.MCR) == 0
    assert rd(u, U.LSR) == 0x60
    assert rd(u, U.LCR) == 0x03
    # EFR kept its value across the modes
    wr(u, U.LCR, 0xBF)
    assert rd(u, U.EFR) == 0x10


def test_mode_a_write_0x08_is_fcr_not_efr(dev):
    u, _, _ = dev
    wr(u, U.LCR, 0x80)
    wr(u, 0x08, 0x01)  # FCR: enable FIFO
    wr(u, U.LCR, 0xBF)
    assert rd(u, U.EFR) == 0
    wr(u, U.LCR, 0)
    assert rd(u, U.IIR) & 0xC0 == 0xC0


def test_enhanced_bits_need_efr4(dev):
    u, _, _ = dev
    wr(u, U.IER, 0xF5)
    assert rd(u, U.IER) == 0x05
    wr(u, U.MCR, 0xFF)
    assert rd(u, U.MCR) == 0x1F
    wr(u, U.MCR, 0)
    wr(u, U.LCR, 0xBF)
    wr(u, U.EFR, 0x10)
    wr(u, U.LCR, 0)
    wr(u, U.IER, 0x40)
    assert rd(u, U.IER) == 0x40
    wr(u, U.MCR, 0x40)
    assert rd(u, U.MCR) == 0x40


def test_tcr_tlr_access(dev):
    u, _, _ = dev
    wr(u, U.SPR, 0x77)
    wr(u, U.LCR, 0xBF)
    wr(u, U.EFR, 0x10)
    wr(u, U.LCR, 0)
    wr(u, U.MCR, 0x40)  # TCR_TLR
    assert rd(u, U.TCR) == 0x0F  # reset value
    wr(u, U.TCR, 0x35)
    wr(u, U.TLR, 0x20)
    assert rd(u, U.TCR) == 0x35
    assert rd(u, U.TLR) == 0x20
    wr(u, U.MCR, 0)
    assert rd(u, U.SPR) == 0x77
    assert rd(u, U.MSR) & 0xF0 == 0xB0


def test_rx_fifo_disabled_single_holding_register(dev):
    u, line, _ = dev
    assert u.push_rx(b"xyz") == 3
    assert rd(u, U.LSR) & 1
    assert rd(u, U.RXFIFO_LVL) == 1  # one holding register, rest waits in the backlog
    assert bytes(rd(u, U.RHR) for _ in range(3)) == b"xyz"
    assert rd(u, U.LSR) == 0x60
    assert rd(u, U.RHR) == 0  # empty
    assert not line.level


def test_rx_fifo_and_clear(dev):
    u, _, _ = dev
    wr(u, U.FCR, 0x01)
    data = bytes(range(100))
    assert u.push_rx(data) == 100
    assert rd(u, U.RXFIFO_LVL) == 64
    assert rd(u, U.RHR) == 0
    assert rd(u, U.RXFIFO_LVL) == 64  # refilled from the backlog
    wr(u, U.FCR, 0x03)  # clear RX FIFO: the 64 bytes held by the FIFO are gone
    assert rd(u, U.IIR) & 0xC0 == 0xC0  # FIFO still enabled (clear bits self-clear)
    assert rd(u, U.RXFIFO_LVL) == 35
    assert rd(u, U.RHR) == 65
    # disabling the FIFO empties it too
    wr(u, U.FCR, 0x00)
    assert rd(u, U.IIR) & 0xC0 == 0
    assert rd(u, U.RXFIFO_LVL) == 0


def test_push_rx_is_bounded(dev):
    u, _, _ = dev
    total = U.FIFO_SIZE + U.RX_BACKLOG
    assert u.rx_space() == total
    assert u.push_rx(b"a" * (total + 10)) == total
    assert u.rx_space() == 0
    assert u.push_rx(b"b") == 0
    rd(u, U.RHR)
    assert u.rx_space() == 1


def test_rx_interrupts_and_trigger_levels(dev):
    u, line, _ = dev
    wr(u, U.FCR, 0x01)  # FIFO on, RX trigger 8
    wr(u, U.IER, U.IER_RHR)
    assert not line.level and rd(u, U.IIR) == 0xC1
    u.push_rx(b"abc")
    assert line.level
    assert rd(u, U.IIR) == 0xCC  # below trigger: RX timeout
    u.push_rx(b"defgh")
    assert rd(u, U.IIR) == 0xC4  # 8 bytes: RHR interrupt
    for _ in range(8):
        rd(u, U.RHR)
    assert not line.level and rd(u, U.IIR) == 0xC1
    # trigger level 56 (FCR[7:6] = 2)
    wr(u, U.FCR, 0x81)
    u.push_rx(b"z" * 55)
    assert rd(u, U.IIR) == 0xCC
    u.push_rx(b"z")
    assert rd(u, U.IIR) == 0xC4
    # TLR[7:4] overrides FCR: 4 * TLR_RX
    wr(u, U.LCR, 0xBF)
    wr(u, U.EFR, 0x10)
    wr(u, U.LCR, 0)
    wr(u, U.MCR, 0x40)
    wr(u, U.TLR, 0x20)  # 8 characters
    wr(u, U.MCR, 0)
    wr(u, U.FCR, 0x83)
    u.push_rx(b"q" * 8)
    assert rd(u, U.IIR) == 0xC4
    # granularity 1: TLR[7:4]:FCR[7:6] = 0b0010_10 -> 10 characters
    wr(u, U.SCR, 0x80)
    assert rd(u, U.IIR) == 0xCC
    u.push_rx(b"qq")
    assert rd(u, U.IIR) == 0xC4


def test_thr_interrupt_is_level_while_enabled(dev):
    u, line, out = dev
    wr(u, U.IER, U.IER_THR)
    assert line.level  # TX empty: raised at once
    assert rd(u, U.IIR) == 0x02
    assert rd(u, U.IIR) == 0x02  # reading IIR does not clear it
    wr(u, U.THR, 0x41)
    assert line.level  # still empty after the write
    wr(u, U.IER, 0)
    assert not line.level
    assert rd(u, U.IIR) == 0x01
    assert line.changes == [True, False]


def test_iir_priority(dev):
    u, line, _ = dev
    wr(u, U.IER, U.IER_RHR | U.IER_THR | U.IER_LINE | U.IER_MODEM)
    assert rd(u, U.IIR) == 0x02
    u.push_rx(b"x")
    assert rd(u, U.IIR) == 0x04  # RX above THR (FIFO off: trigger 1)
    u.push_break()
    rd(u, U.RHR)
    assert rd(u, U.IIR) == 0x06  # break char at the top: line status first
    assert rd(u, U.LSR) & (U.LSR_BI | U.LSR_DR | U.LSR_FIFO_ERR) == U.LSR_BI | U.LSR_DR | 0x80
    assert rd(u, U.IIR) == 0x04  # LSR read cleared the error; the NUL is still there
    assert rd(u, U.RHR) == 0
    assert rd(u, U.IIR) == 0x02
    wr(u, U.IER, U.IER_MODEM)
    wr(u, U.MCR, U.MCR_LOOP)  # loopback changes the modem inputs: deltas
    assert rd(u, U.IIR) == 0x00
    assert line.level
    msr = rd(u, U.MSR)
    assert msr & 0x0F == 0x0B and msr & 0xF0 == 0  # DCTS, DDSR, DDCD; inputs now from MCR (0)
    assert rd(u, U.IIR) == 0x01
    assert not line.level


def test_loopback_and_overrun(dev):
    u, line, out = dev
    wr(u, U.MCR, U.MCR_LOOP | 0x03)
    assert rd(u, U.MSR) & 0x30 == 0x30  # CTS <- RTS, DSR <- DTR
    assert u.push_rx(b"host") == 0  # external input disconnected
    wr(u, U.IER, U.IER_LINE | U.IER_RHR)
    wr(u, U.THR, 0x55)
    assert out == b""
    assert rd(u, U.IIR) == 0x04
    wr(u, U.THR, 0x66)  # holding register full: overrun, byte lost
    assert rd(u, U.IIR) == 0x06
    lsr = rd(u, U.LSR)
    assert lsr & U.LSR_OE and lsr & U.LSR_DR
    assert not rd(u, U.LSR) & U.LSR_OE  # cleared by the read
    assert rd(u, U.RHR) == 0x55
    assert not line.level
    wr(u, U.MCR, 0)
    assert u.push_rx(b"h") == 1


def test_softreset(dev):
    u, line, _ = dev
    wr(u, U.LCR, 0xBF)
    wr(u, U.EFR, 0x10)
    wr(u, U.LCR, 0x03)
    wr(u, U.FCR, 0x01)
    wr(u, U.IER, U.IER_THR)
    wr(u, U.MDR1, 0)
    u.push_rx(b"x" * 70)
    assert line.level
    wr(u, U.SYSC, 0x02)
    assert rd(u, U.SYSC) & 0x02 == 0  # self-clears
    assert rd(u, U.SYSS) & 1
    assert rd(u, U.IER) == 0 and rd(u, U.LCR) == 0 and rd(u, U.MDR1) == 7
    assert rd(u, U.IIR) & 0xC0 == 0  # FIFO disabled
    assert not line.level
    assert rd(u, U.RXFIFO_LVL) == 1  # FIFO content dropped, host backlog (6 bytes) remains
    drained = 0
    while rd(u, U.LSR) & U.LSR_DR:
        rd(u, U.RHR)
        drained += 1
    assert drained == 6
    wr(u, U.LCR, 0xBF)
    assert rd(u, U.EFR) == 0


def test_sysc_and_plain_registers(dev):
    u, _, _ = dev
    wr(u, U.SYSC, 0x0D)
    assert rd(u, U.SYSC) == 0x0D
    wr(u, U.SCR, 0x08)
    assert rd(u, U.SCR) == 0x08
    wr(u, U.WER, 0x21)
    assert rd(u, U.WER) == 0x21
    wr(u, U.MDR2, 0x12)
    assert rd(u, U.MDR2) == 0x12
    assert rd(u, U.TXFIFO_LVL) == 0


def test_unaligned_and_unknown_accesses_are_harmless(dev):
    u, _, out = dev
    u.push_rx(b"k")
    assert rd(u, 0x01, 1) == 0  # byte 1 of RHR: no pop
    assert rd(u, U.MVR + 1, 1) == 0
    assert rd(u, U.RHR) == ord("k")
    wr(u, 0x02, 0x41)  # ignored
    assert out == b""
    assert rd(u, 0xF00, 4) == 0
    wr(u, 0xF00, 1, 4)


def test_device_reset_clears_backlog(dev):
    u, line, _ = dev
    u.push_rx(b"abc")
    wr(u, U.IER, 1)
    assert line.level
    u.reset()
    assert rd(u, U.LSR) == 0x60
    assert not line.level


def test_fifo_error_status_for_break_behind_data(dev):
    u, _, _ = dev
    wr(u, U.FCR, 0x01)
    u.push_rx(b"a")
    u.push_break()
    lsr = rd(u, U.LSR)
    assert lsr & U.LSR_FIFO_ERR  # an error somewhere in the FIFO
    assert not lsr & U.LSR_BI  # but not on the character at the top
    assert rd(u, U.RHR) == ord("a")
    assert rd(u, U.LSR) & (U.LSR_BI | U.LSR_FIFO_ERR) == U.LSR_BI | U.LSR_FIFO_ERR
    assert rd(u, U.RHR) == 0
    assert rd(u, U.LSR) == 0x60
    # a break dropped by a FIFO clear leaves no error status behind
    u.push_break()
    wr(u, U.FCR, 0x03)
    u.push_rx(b"b")
    assert rd(u, U.LSR) == 0x61


def test_linux_omap_serial_irq_flow(dev):
    """startup: IER = RLSI|RDI; TX: set THRI, fill from the handler, clear THRI when done."""
    u, line, out = dev
    wr(u, U.LCR, 0xBF)
    wr(u, U.EFR, 0x10)
    wr(u, U.LCR, 0x03)
    wr(u, U.FCR, 0x07)
    wr(u, U.MDR1, 0)
    wr(u, U.IER, U.IER_RHR | U.IER_LINE)
    assert not line.level
    wr(u, U.IER, U.IER_RHR | U.IER_LINE | U.IER_THR)  # start_tx
    assert line.level
    msg = b"hello from ttyO2\r\n"
    pos = 0
    while line.level:
        iir = rd(u, U.IIR)
        assert iir & 0x3E == U.IIR_THR
        for _ in range(16):
            if pos == len(msg):
                wr(u, U.IER, U.IER_RHR | U.IER_LINE)  # stop_tx
                break
            wr(u, U.THR, msg[pos])
            pos += 1
    assert out == msg
    u.push_rx(b"ls\r")
    assert line.level
    got = bytearray()
    while rd(u, U.LSR) & U.LSR_DR:
        got.append(rd(u, U.RHR))
    assert got == b"ls\r" and not line.level

_ACCESS = st.tuples(st.booleans(), st.integers(0, 0x8F), st.sampled_from([1, 2, 4]),
                    st.integers(0, 0xFFFFFFFF))


@settings(derandomize=True, database=None, max_examples=150, deadline=None)
@given(st.lists(_ACCESS, max_size=60), st.binary(max_size=80))
def test_any_access_sequence_is_safe(accesses, data):
    line = Line()
    u = OmapUart("uart", line)
    out = bytearray()
    u.tx_sink = out.extend
    u.push_rx(data)
    for is_write, off, size, value in accesses:
        if is_write:
            u.write(off, size, value & ((1 << (8 * size)) - 1))
        else:
            assert 0 <= u.read(off, size) < (1 << (8 * size))
        assert line.level == (not u.iir & 1)
        assert u.rx_space() >= 0 and u._rx_flagged >= 0
