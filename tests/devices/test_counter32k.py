"""32 kHz sync counter: layout, rate, wrap, and step with a 32 kHz GPTIMER."""

from __future__ import annotations

from hvd.clock import NS_PER_S, VirtualClock
from hvd.devices import counter32k as C
from hvd.devices import gptimer as G
from hvd.devices.base import IrqLine
from hvd.devices.counter32k import Counter32k
from hvd.devices.gptimer import GpTimer


class ManualClock(VirtualClock):
    def __init__(self) -> None:
        super().__init__()
        self.t = 0

    def now_ns(self) -> int:
        return self.t


def test_registers():
    c = Counter32k("counter32k", ManualClock())
    rev = c.read(C.REV, 4)
    assert rev == 0x11 and rev >> 30 == 0
    c.write(C.SYSCONFIG, 4, 0)
    assert c.read(C.SYSCONFIG, 4) == 0
    c.write(C.SYSCONFIG, 4, 0x18)
    assert c.read(C.SYSCONFIG, 4) == 0x18
    c.write(C.CR, 4, 1234)  # read-only
    assert c.read(C.CR, 4) == 0
    assert c.read(0x40, 4) == 0
    c.write(0x40, 4, 1)
    c.reset()
    assert c.read(C.SYSCONFIG, 4) == 0


def test_rate_and_wrap():
    clock = ManualClock()
    c = Counter32k("counter32k", clock)
    clock.t = NS_PER_S
    assert c.read(C.CR, 4) == 32768
    clock.t = NS_PER_S * 3 // 2
    assert c.read(C.CR, 4) == 49152
    assert c.read(C.CR, 2) == 49152 & 0xFFFF
    assert c.read(C.CR + 2, 2) == 0
    # 2^32 ticks = 131072 s: the counter wraps
    clock.t = (1 << 32) * NS_PER_S // 32768 + 5 * NS_PER_S
    assert c.read(C.CR, 4) == 5 * 32768


def test_in_step_with_gptimer_at_32k():
    clock = ManualClock()
    c = Counter32k("counter32k", clock)
    t = GpTimer("gpt1", clock, IrqLine())
    clock.t = 123_456_789
    start_cr = c.read(C.CR, 4)
    t.write(G.TCLR, 4, G.TCLR_ST)
    for step in (1, 30_517, 30_518, 999_999, 7_777_777_777):
        clock.t += step
        assert c.read(C.CR, 4) - start_cr == t.read(G.TCRR, 4)


def test_real_clock_advances():
    clock = VirtualClock()
    c = Counter32k("counter32k", clock)
    first = c.read(C.CR, 4)
    clock.warp_to(clock.now_ns() + NS_PER_S)
    second = c.read(C.CR, 4)
    assert 32768 <= second - first < 32768 + 3277  # plus up to 0.1 s of real time
