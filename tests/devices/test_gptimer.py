"""GPTIMER model: rate, prescaler, overflow, match, autoreload, TTGR, TISR w1c, lazy timing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hvd.clock import NS_PER_S, VirtualClock
from hvd.devices import gptimer as G
from hvd.devices.base import IrqLine
from hvd.devices.gptimer import GpTimer


class ManualClock(VirtualClock):
    """A VirtualClock whose time only moves when the test says so."""

    def __init__(self) -> None:
        super().__init__()
        self.t = 0
        self.fired = 0

    def now_ns(self) -> int:
        return self.t

    def run_until(self, t: int) -> None:
        """Advance to ``t`` firing every timer at its own deadline (an attentive vCPU)."""
        while True:
            d = self.next_deadline()
            if d is None or d > t:
                break
            self.t = max(self.t, d)
            self.fired += self.run_due()
        self.t = max(self.t, t)
        self.fired += self.run_due()

    def jump(self, t: int) -> None:
        """Advance to ``t`` and only then run what is due (a vCPU that was busy)."""
        self.t = t
        self.fired += self.run_due()


class Line(IrqLine):
    def __init__(self) -> None:
        super().__init__(37, self._sink)
        self.edges: list[tuple[int, bool]] = []
        self.clock: ManualClock | None = None

    def _sink(self, number: int, level: bool) -> None:
        self.edges.append((self.clock.t if self.clock else -1, level))


@pytest.fixture
def env() -> tuple[GpTimer, ManualClock, Line]:
    clock = ManualClock()
    line = Line()
    line.clock = clock
    return GpTimer("gpt1", clock, line), clock, line


def rd(t: GpTimer, off: int) -> int:
    return t.read(off, 4)


def wr(t: GpTimer, off: int, value: int) -> None:
    t.write(off, 4, value)


def ns_for_ticks(ticks: int, hz: int = 32768) -> int:
    return -((-ticks * NS_PER_S) // hz)


def test_reset_values(env):
    t, _, line = env
    assert rd(t, G.TIDR) == 0x13
    assert rd(t, G.TIDR) >> 16 == 0
    assert rd(t, G.TISTAT) & 1
    assert rd(t, G.TWPS) == 0
    assert rd(t, G.TCLR) == 0 and rd(t, G.TCRR) == 0
    assert rd(t, G.TSICR) == G.TSICR_POSTED
    assert rd(t, G.TTGR) == 0xFFFFFFFF
    assert not line.level


def test_counts_at_32khz(env):
    t, clock, _ = env
    wr(t, G.TCLR, G.TCLR_ST)
    clock.run_until(NS_PER_S)
    assert rd(t, G.TCRR) == 32768
    clock.run_until(NS_PER_S + NS_PER_S // 2)
    assert rd(t, G.TCRR) == 32768 + 16384
    wr(t, G.TCLR, 0)  # stop: the value holds
    clock.run_until(5 * NS_PER_S)
    assert rd(t, G.TCRR) == 32768 + 16384


def test_counts_at_system_clock_and_switch(env):
    t, clock, _ = env
    t.set_source_hz(13_000_000)
    wr(t, G.TCLR, G.TCLR_ST)
    clock.run_until(1_000_000)  # 1 ms
    assert rd(t, G.TCRR) == 13_000
    t.set_source_hz(32768)
    clock.run_until(1_000_000 + NS_PER_S)
    assert rd(t, G.TCRR) == 13_000 + 32768


def test_prescaler(env):
    t, clock, _ = env
    # PRE with PTV=3: divide by 2^(3+1) = 16
    wr(t, G.TCLR, G.TCLR_ST | G.TCLR_PRE | (3 << 2))
    clock.run_until(NS_PER_S)
    assert rd(t, G.TCRR) == 32768 // 16
    wr(t, G.TCLR, G.TCLR_ST | G.TCLR_PRE | (7 << 2))  # divide by 256
    clock.run_until(2 * NS_PER_S)
    assert rd(t, G.TCRR) == 32768 // 16 + 32768 // 256


def test_one_shot_overflow(env):
    t, clock, line = env
    wr(t, G.TIER, G.OVF)
    wr(t, G.TWER, G.OVF)
    wr(t, G.TCRR, 0xFFFFFFFF - 99)  # 100 ticks to overflow
    wr(t, G.TCLR, G.TCLR_ST)
    clock.run_until(ns_for_ticks(99))
    assert not line.level
    clock.run_until(ns_for_ticks(100) + 10)
    assert line.level
    assert line.edges == [(ns_for_ticks(100), True)]  # fired exactly at the overflow tick
    assert rd(t, G.TISR) == G.OVF
    assert rd(t, G.TCLR) & G.TCLR_ST == 0  # one-shot: stopped
    assert rd(t, G.TCRR) == 0
    wr(t, G.TISR, G.OVF)  # write 1 to clear
    assert rd(t, G.TISR) == 0
    assert not line.level
    clock.run_until(10 * NS_PER_S)
    assert rd(t, G.TCRR) == 0 and not line.level


def test_tisr_write_one_to_clear_only(env):
    t, clock, _ = env
    wr(t, G.TCLR, G.TCLR_ST | G.TCLR_AR | G.TCLR_CE)
    wr(t, G.TLDR, 0xFFFFFF00)
    wr(t, G.TTGR, 0)
    wr(t, G.TMAR, 0xFFFFFF10)
    clock.run_until(ns_for_ticks(0x100))
    assert rd(t, G.TISR) == G.MAT | G.OVF  # flags without TIER still show
    wr(t, G.TISR, 0)
    assert rd(t, G.TISR) == G.MAT | G.OVF
    wr(t, G.TISR, G.MAT)
    assert rd(t, G.TISR) == G.OVF
    t.write(G.TISR, 1, G.OVF)
    assert rd(t, G.TISR) == 0


def test_linux_periodic_mode(env):
    """Kernel periodic clockevent: TLDR = TCRR = 0xFFFFFF7C, TCLR = ST|AR, TIER = OVF."""
    t, clock, line = env
    wr(t, G.TIOCP_CFG, 0x215)
    wr(t, G.TSICR, 0x6)
    assert rd(t, G.TISTAT) & 1
    wr(t, G.TSICR, 0x4)
    wr(t, G.TIER, G.OVF)
    wr(t, G.TWER, G.OVF)
    wr(t, G.TISR, G.OVF)
    reload = 0xFFFFFF7C
    period = 0x1_0000_0000 - reload  # 132 ticks
    wr(t, G.TLDR, reload)
    wr(t, G.TCRR, reload)
    wr(t, G.TCLR, G.TCLR_ST | G.TCLR_AR)
    ticks_seen = []
    for k in range(1, 251):
        clock.run_until(ns_for_ticks(k * period))
        assert line.level, k
        ticks_seen.append(line.edges[-1][0])
        assert rd(t, G.TCRR) == reload
        wr(t, G.TISR, G.OVF)  # handler acks
        assert not line.level
    assert ticks_seen == [ns_for_ticks(k * period) for k in range(1, 251)]
    assert clock.fired == 250


def test_autoreload_catch_up_without_storm(env):
    t, clock, line = env
    period = 33  # ~1 ms at 32 kHz
    wr(t, G.TLDR, 0x1_0000_0000 - period)
    wr(t, G.TTGR, 1)
    wr(t, G.TIER, G.OVF)
    wr(t, G.TCLR, G.TCLR_ST | G.TCLR_AR)
    # the vCPU was busy for 10 s: about 9900 periods elapsed
    clock.jump(10 * NS_PER_S)
    assert clock.fired == 1
    assert line.level
    ticks = 10 * 32768
    assert rd(t, G.TCRR) == 0x1_0000_0000 - period + ticks % period
    wr(t, G.TISR, G.OVF)
    assert not line.level
    # the next deadline is the next overflow, in the future, not one of the missed ones
    nxt = clock.next_deadline()
    assert nxt == ns_for_ticks((ticks // period + 1) * period)
    assert nxt > clock.t
    clock.run_until(nxt)
    assert line.level and clock.fired == 2


def test_no_callbacks_while_flag_pending_or_disabled(env):
    t, clock, line = env
    wr(t, G.TLDR, 0xFFFFFFFF)  # overflow every tick
    wr(t, G.TTGR, 0)
    wr(t, G.TCLR, G.TCLR_ST | G.TCLR_AR)
    clock.run_until(NS_PER_S)
    assert clock.fired == 0  # TIER = 0: nothing armed; the flag shows on read
    assert rd(t, G.TISR) == G.OVF
    wr(t, G.TIER, G.OVF)  # flag already set: raised at once, still nothing armed
    assert line.level
    assert clock.next_deadline() is None
    clock.run_until(2 * NS_PER_S)
    assert clock.fired == 0


def test_match(env):
    t, clock, line = env
    wr(t, G.TIER, G.MAT)
    wr(t, G.TMAR, 1000)
    wr(t, G.TCLR, G.TCLR_ST | G.TCLR_CE)
    clock.run_until(ns_for_ticks(999))
    assert not line.level
    clock.run_until(ns_for_ticks(1000))
    assert line.level and line.edges[-1][0] == ns_for_ticks(1000)
    assert rd(t, G.TISR) == G.MAT
    wr(t, G.TISR, G.MAT)
    # no second match until the counter wraps (one-shot: it stops at the overflow)
    clock.run_until(ns_for_ticks(5000))
    assert not line.level and rd(t, G.TCRR) == 5000


def test_match_requires_ce(env):
    t, clock, line = env
    wr(t, G.TIER, G.MAT)
    wr(t, G.TMAR, 10)
    wr(t, G.TCLR, G.TCLR_ST)
    clock.run_until(ns_for_ticks(100))
    assert rd(t, G.TISR) == 0 and not line.level


def test_match_every_period_with_autoreload(env):
    t, clock, line = env
    wr(t, G.TLDR, 0xFFFFFF00)
    wr(t, G.TTGR, 0)
    wr(t, G.TMAR, 0xFFFFFF80)
    wr(t, G.TIER, G.MAT)
    wr(t, G.TCLR, G.TCLR_ST | G.TCLR_AR | G.TCLR_CE)
    times = []
    for _ in range(3):
        clock.run_until(clock.next_deadline())
        assert line.level
        times.append(clock.t)
        wr(t, G.TISR, G.MAT)
    assert times == [ns_for_ticks(0x80 + k * 0x100) for k in range(3)]
    # TMAR equal to TLDR matches right at each reload
    wr(t, G.TMAR, 0xFFFFFF00)
    clock.run_until(clock.next_deadline())
    assert rd(t, G.TCRR) == 0xFFFFFF00 and line.level


def test_match_and_overflow_in_one_catch_up(env):
    t, clock, _ = env
    wr(t, G.TCRR, 0xFFFFFFF0)
    wr(t, G.TMAR, 5)
    wr(t, G.TCLR, G.TCLR_ST | G.TCLR_AR | G.TCLR_CE)  # TLDR = 0
    clock.jump(ns_for_ticks(0x10 + 3))
    assert rd(t, G.TISR) == G.OVF
    assert rd(t, G.TCRR) == 3
    clock.jump(ns_for_ticks(0x10 + 5))
    assert rd(t, G.TISR) == G.OVF | G.MAT


def test_ttgr_reloads(env):
    t, clock, _ = env
    wr(t, G.TLDR, 0x1234)
    wr(t, G.TCLR, G.TCLR_ST)
    clock.run_until(ns_for_ticks(50))
    assert rd(t, G.TCRR) == 50
    wr(t, G.TTGR, 0xFFFFFFFF)
    assert rd(t, G.TCRR) == 0x1234
    clock.run_until(ns_for_ticks(60))
    assert rd(t, G.TCRR) == 0x1234 + 10


def test_tcrr_write_while_running(env):
    t, clock, line = env
    wr(t, G.TIER, G.OVF)
    wr(t, G.TCLR, G.TCLR_ST)
    clock.run_until(ns_for_ticks(7))
    wr(t, G.TCRR, 0xFFFFFFFE)  # linux one-shot: 2 cycles
    assert rd(t, G.TCRR) == 0xFFFFFFFE
    clock.run_until(ns_for_ticks(9))
    assert line.level


def test_rearm_on_tmar_and_tldr_change(env):
    t, clock, line = env
    wr(t, G.TIER, G.MAT)
    wr(t, G.TMAR, 1000)
    wr(t, G.TCLR, G.TCLR_ST | G.TCLR_CE)
    wr(t, G.TMAR, 10)  # moved earlier: the armed deadline follows
    assert clock.next_deadline() == ns_for_ticks(10)
    clock.run_until(ns_for_ticks(10))
    assert line.level


def test_softreset_via_tiocp_cfg(env):
    t, clock, line = env
    wr(t, G.TIER, G.OVF)
    wr(t, G.TLDR, 5)
    wr(t, G.TCRR, 0xFFFFFFFF)
    wr(t, G.TCLR, G.TCLR_ST | G.TCLR_AR)
    clock.run_until(ns_for_ticks(2))
    assert line.level
    wr(t, G.TIOCP_CFG, 0x2)
    assert rd(t, G.TIOCP_CFG) == 0
    assert rd(t, G.TISTAT) & 1
    assert not line.level
    assert rd(t, G.TCLR) == 0 and rd(t, G.TCRR) == 0 and rd(t, G.TLDR) == 0
    assert clock.next_deadline() is None
    wr(t, G.TIOCP_CFG, 0x215)
    assert rd(t, G.TIOCP_CFG) == 0x215


def test_tick_and_stored_registers(env):
    t, _, _ = env
    for off, v in ((G.TPIR, 232000), (G.TNIR, 0xFFFC7540), (G.TCVR, 7), (G.TOCR, 3), (G.TOWR, 9),
                   (G.TWER, 5)):
        wr(t, off, v)
        assert rd(t, off) == v
    wr(t, G.TWPS, 3)
    assert rd(t, G.TWPS) == 0
    assert rd(t, G.TCAR1) == 0 and rd(t, G.TCAR2) == 0
    assert rd(t, 0x200) == 0
    wr(t, 0x200, 1)


def test_partial_width_writes(env):
    t, _, _ = env
    wr(t, G.TLDR, 0x11112222)
    t.write(G.TLDR + 2, 2, 0xABCD)
    assert rd(t, G.TLDR) == 0xABCD2222
    assert t.read(G.TLDR + 2, 2) == 0xABCD
    t.write(G.TCLR, 1, G.TCLR_AR)
    assert rd(t, G.TCLR) == G.TCLR_AR


def test_real_virtual_clock_rate():
    """With the real VirtualClock (frozen, then warped), TCRR follows guest time."""
    clock = VirtualClock("warp")
    line = IrqLine()
    t = GpTimer("gpt2", clock, line)
    clock.freeze()
    start = clock.now_ns()
    wr(t, G.TCLR, G.TCLR_ST)
    base = rd(t, G.TCRR)
    clock.thaw()
    clock.warp_to(start + 2 * NS_PER_S)
    clock.freeze()
    got = rd(t, G.TCRR) - base
    elapsed = clock.now_ns() - start
    assert abs(got - elapsed * 32768 // NS_PER_S) <= 1
    assert 65536 <= got < 65536 + 32768 // 10


def test_bad_clock_rate():
    clock = ManualClock()
    with pytest.raises(ValueError):
        GpTimer("x", clock, IrqLine(), clock_hz=0)
    t = GpTimer("x", clock, IrqLine())
    with pytest.raises(ValueError):
        t.set_source_hz(-1)


@settings(derandomize=True, database=None, max_examples=150, deadline=None)
@given(st.lists(st.one_of(
    st.tuples(st.just("w"), st.integers(0, 0x5F), st.sampled_from([1, 2, 4]),
              st.integers(0, 0xFFFFFFFF)),
    st.tuples(st.just("r"), st.integers(0, 0x5F), st.sampled_from([1, 2, 4]), st.just(0)),
    st.tuples(st.just("t"), st.just(0), st.just(0), st.integers(0, 10 * NS_PER_S)),
), max_size=60))
def test_any_sequence_is_safe_and_consistent(ops):
    clock = ManualClock()
    line = Line()
    line.clock = clock
    t = GpTimer("gpt", clock, line)
    for kind, off, size, v in ops:
        if kind == "w":
            t.write(off, size, v & ((1 << (8 * size)) - 1))
        elif kind == "r":
            assert 0 <= t.read(off, size) < (1 << (8 * size))
        else:
            clock.run_until(clock.t + v)
        assert line.level == bool(rd(t, G.TISR) & t.tier)
        d = clock.next_deadline()
        assert d is None or d > clock.t
