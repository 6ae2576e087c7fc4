"""MPU INTC model: masking, priority, threshold, latching/ack, software interrupts, FIQ routing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hvd.devices import intc as I
from hvd.devices.intc import Intc


@pytest.fixture
def ic() -> tuple[Intc, list[tuple[bool, bool]]]:
    c = Intc("intc")
    outputs: list[tuple[bool, bool]] = []
    c.on_output = lambda irq, fiq: outputs.append((irq, fiq))
    return c, outputs


def rd(c: Intc, off: int) -> int:
    return c.read(off, 4)


def wr(c: Intc, off: int, value: int) -> None:
    c.write(off, 4, value)


def bank(n: int, reg: int) -> int:
    return I.BANK_BASE + n * I.BANK_STRIDE + reg


def ilr(n: int) -> int:
    return I.ILR_BASE + 4 * n


def unmask(c: Intc, *lines: int) -> None:
    for n in lines:
        wr(c, bank(n >> 5, I.MIR_CLEAR), 1 << (n & 31))


def ack_irq(c: Intc) -> None:
    wr(c, I.CONTROL, 1)


def test_reset_values(ic):
    c, out = ic
    assert rd(c, I.REVISION) == 0x40
    assert rd(c, I.SYSSTATUS) & 1
    for b in range(3):
        assert rd(c, bank(b, I.MIR)) == 0xFFFFFFFF
        assert rd(c, bank(b, I.ITR)) == 0
        assert rd(c, bank(b, I.PENDING_IRQ)) == 0
    assert rd(c, I.THRESHOLD) == 0xFF
    assert rd(c, I.SIR_IRQ) & I.SPURIOUS == I.SPURIOUS
    assert not c.pending_irq() and not c.pending_fiq()
    assert out == []


def test_masked_line_does_not_raise(ic):
    c, out = ic
    c.line(74).set(True)
    assert rd(c, bank(2, I.ITR)) == 1 << 10
    assert rd(c, bank(2, I.PENDING_IRQ)) == 0
    assert not c.pending_irq()
    unmask(c, 74)
    assert c.pending_irq()
    assert rd(c, bank(2, I.PENDING_IRQ)) == 1 << 10
    assert rd(c, I.SIR_IRQ) == 74
    assert out == [(True, False)]


def test_linux_flow_mask_ack_unmask(ic):
    """omap_intc_handle_irq: read SIR, MIR_SET (mask), NEWIRQAGR, handler, MIR_CLEAR."""
    c, out = ic
    unmask(c, 37, 74)
    c.line(37).set(True)
    assert rd(c, I.SIR_IRQ) == 37
    wr(c, bank(1, I.MIR_SET), 1 << 5)
    ack_irq(c)
    assert not c.pending_irq()
    c.line(37).set(False)  # the handler clears the device
    unmask(c, 37)
    assert not c.pending_irq()
    assert out == [(True, False), (False, False)]


def test_output_held_until_newirqagr(ic):
    c, out = ic
    unmask(c, 10, 11)
    c.line(11).set(True)
    assert rd(c, I.SIR_IRQ) == 11
    wr(c, ilr(10), 0 << 2)  # same priority, lower number
    c.line(10).set(True)
    assert rd(c, I.SIR_IRQ) == 11  # latched: no new sorting before NEWIRQAGR
    c.line(11).set(False)
    assert c.pending_irq()  # the output stays until NEWIRQAGR
    assert rd(c, I.SIR_IRQ) == I.SPURIOUS | 11  # latched line gone: spurious flag
    assert rd(c, I.IRQ_PRIORITY) & I.SPURIOUS == I.SPURIOUS
    ack_irq(c)
    assert c.pending_irq()
    assert rd(c, I.SIR_IRQ) == 10
    assert out == [(True, False)]  # no glitch reported: still asserted after the re-sort
    c.line(10).set(False)
    ack_irq(c)
    assert not c.pending_irq()
    assert out == [(True, False), (False, False)]
    assert rd(c, I.SIR_IRQ) & I.SPURIOUS == I.SPURIOUS


def test_priority_and_tie_break(ic):
    c, _ = ic
    for n, prio in ((3, 20), (40, 5), (70, 5), (90, 63)):
        wr(c, ilr(n), prio << 2)
        unmask(c, n)
        c.line(n).set(True)
        ack_irq(c)
    assert rd(c, I.SIR_IRQ) == 40  # priority 5, lower line number than 70
    assert rd(c, I.IRQ_PRIORITY) == 5
    c.line(40).set(False)
    ack_irq(c)
    assert rd(c, I.SIR_IRQ) == 70
    c.line(70).set(False)
    ack_irq(c)
    assert rd(c, I.SIR_IRQ) == 3
    assert rd(c, I.IRQ_PRIORITY) == 20
    c.line(3).set(False)
    ack_irq(c)
    assert rd(c, I.SIR_IRQ) == 90
    assert rd(c, I.IRQ_PRIORITY) == 63


def test_ties_go_to_lowest_line(ic):
    c, _ = ic
    unmask(c, 5, 64, 95)
    c.line(95).set(True)
    c.line(64).set(True)
    c.line(5).set(True)
    ack_irq(c)
    assert rd(c, I.SIR_IRQ) == 5


def test_threshold(ic):
    c, _ = ic
    wr(c, ilr(20), 10 << 2)
    wr(c, ilr(21), 4 << 2)
    unmask(c, 20, 21)
    wr(c, I.THRESHOLD, 10)  # priority 10 and lower importance are held back
    c.line(20).set(True)
    assert not c.pending_irq()
    assert rd(c, bank(0, I.PENDING_IRQ)) == 1 << 20  # PENDING ignores the threshold
    c.line(21).set(True)
    assert c.pending_irq() and rd(c, I.SIR_IRQ) == 21
    c.line(21).set(False)
    ack_irq(c)
    assert not c.pending_irq()
    wr(c, I.THRESHOLD, 0xFF)  # disabled
    assert c.pending_irq() and rd(c, I.SIR_IRQ) == 20
    wr(c, I.THRESHOLD, 0)
    assert rd(c, I.SIR_IRQ) == I.SPURIOUS | 20  # threshold now hides the latched line


def test_software_interrupts(ic):
    c, _ = ic
    unmask(c, 33)
    wr(c, bank(1, I.ISR_SET), 1 << 1)
    assert rd(c, bank(1, I.ISR_SET)) == 1 << 1
    assert rd(c, bank(1, I.ITR)) == 0  # ITR is the raw inputs only
    assert rd(c, bank(1, I.PENDING_IRQ)) == 1 << 1
    assert c.pending_irq() and rd(c, I.SIR_IRQ) == 33
    wr(c, bank(1, I.ISR_CLEAR), 1 << 1)
    assert rd(c, bank(1, I.ISR_SET)) == 0
    ack_irq(c)
    assert not c.pending_irq()


def test_fiq_routing(ic):
    c, out = ic
    wr(c, ilr(12), (7 << 2) | 1)
    assert rd(c, ilr(12)) == (7 << 2) | 1
    unmask(c, 12, 13)
    c.line(12).set(True)
    assert c.pending_fiq() and not c.pending_irq()
    assert rd(c, I.SIR_FIQ) == 12
    assert rd(c, I.FIQ_PRIORITY) == 7
    assert rd(c, bank(0, I.PENDING_FIQ)) == 1 << 12
    assert rd(c, bank(0, I.PENDING_IRQ)) == 0
    c.line(13).set(True)
    assert c.pending_irq() and rd(c, I.SIR_IRQ) == 13
    assert out == [(False, True), (True, True)]
    ack_irq(c)  # NEWIRQAGR does not touch the FIQ side
    assert c.pending_fiq()
    c.line(12).set(False)
    wr(c, I.CONTROL, 2)
    assert not c.pending_fiq()
    # re-route to IRQ
    wr(c, ilr(12), 7 << 2)
    c.line(12).set(True)
    assert rd(c, bank(0, I.PENDING_IRQ)) == (1 << 12) | (1 << 13)


def test_mir_register_and_partial_writes(ic):
    c, _ = ic
    wr(c, bank(0, I.MIR), 0xFFFF0000)
    assert rd(c, bank(0, I.MIR)) == 0xFFFF0000
    c.write(bank(0, I.MIR_SET), 2, 0x00F0)
    assert rd(c, bank(0, I.MIR)) == 0xFFFF00F0
    c.write(bank(0, I.MIR_CLEAR) + 2, 2, 0x0001)  # upper half: line 16
    assert rd(c, bank(0, I.MIR)) == 0xFFFE00F0
    assert c.read(bank(0, I.MIR) + 2, 2) == 0xFFFE
    c.write(ilr(3), 1, 0xFF)
    assert rd(c, ilr(3)) == 0xFD  # bit 1 reserved


def test_softreset(ic):
    c, out = ic
    unmask(c, 1)
    wr(c, I.THRESHOLD, 5)
    wr(c, ilr(1), 1)
    c.line(1).set(True)
    assert c.pending_fiq()
    wr(c, I.SYSCONFIG, 2)
    assert rd(c, I.SYSCONFIG) == 0
    assert rd(c, I.SYSSTATUS) & 1
    assert not c.pending_fiq() and not c.pending_irq()
    assert rd(c, bank(0, I.MIR)) == 0xFFFFFFFF
    assert rd(c, I.THRESHOLD) == 0xFF
    assert rd(c, ilr(1)) == 0
    assert rd(c, bank(0, I.ITR)) == 2  # input wires keep their level
    wr(c, I.SYSCONFIG, 1)
    assert rd(c, I.SYSCONFIG) == 1
    assert out[-1] == (False, False)


def test_plain_registers_and_bad_offsets(ic):
    c, _ = ic
    wr(c, I.PROTECTION, 1)
    wr(c, I.IDLE, 2)
    assert rd(c, I.PROTECTION) == 1 and rd(c, I.IDLE) == 2
    wr(c, I.REVISION, 0)
    assert rd(c, I.REVISION) == 0x40
    assert rd(c, 0x800) == 0
    wr(c, 0x800, 1)
    with pytest.raises(ValueError):
        c.line(96)


def test_all_lines_reach_sir(ic):
    c, _ = ic
    for b in range(3):
        wr(c, bank(b, I.MIR), 0)
    for n in range(96):
        c.line(n).set(True)
        assert rd(c, I.SIR_IRQ) == n
        c.line(n).set(False)
        ack_irq(c)
        assert not c.pending_irq()


@settings(derandomize=True, database=None, max_examples=150, deadline=None)
@given(st.lists(st.one_of(
    st.tuples(st.just("w"), st.integers(0, 0x2FF), st.sampled_from([1, 2, 4]),
              st.integers(0, 0xFFFFFFFF)),
    st.tuples(st.just("r"), st.integers(0, 0x2FF), st.sampled_from([1, 2, 4]), st.just(0)),
    st.tuples(st.just("l"), st.integers(0, 95), st.just(0), st.booleans()),
), max_size=80))
def test_any_sequence_is_safe_and_consistent(ops):
    c = Intc("intc")
    seen: list[tuple[bool, bool]] = []
    c.on_output = lambda irq, fiq: seen.append((irq, fiq))
    for kind, a, size, v in ops:
        if kind == "w":
            c.write(a, size, v & ((1 << (8 * size)) - 1))
        elif kind == "r":
            assert 0 <= c.read(a, size) < (1 << (8 * size))
        else:
            c.line(a).set(bool(v))
        # an asserted output always has a latched line; callbacks report real changes only
        if c.pending_irq():
            assert rd(c, I.SIR_IRQ) & 0x7F == c._latched[0]
        if seen:
            assert seen[-1] == (c.irq_level, c.fiq_level)
    assert all(a != b for a, b in zip(seen, seen[1:]))
