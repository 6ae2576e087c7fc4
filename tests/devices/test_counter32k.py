"""32 kHz sync counter: layout, rate, wrap, and step with a 32 kHz GPTIMER."""

from __future__ import annotations

import struct
import subprocess

import pytest
from unicorn.unicorn_py3.unicorn import MMIO_READ_CFUNC

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


# -- the C read path (_counter32k.c): the same values as the Python model ----------------------

def _c_reader(c: Counter32k):
    fm = c.fast_mmio()
    if fm is None:
        pytest.skip("hvd/devices/_counter32k.c was not built")
    fallback = MMIO_READ_CFUNC(lambda _uc, off, size, _ud: c.read(off, size))
    fm.set_fallback(fallback)
    fn = MMIO_READ_CFUNC(fm.read_fn)
    return (lambda off, size: fn(None, off, size, fm.user_data)), fm


def test_c_read_equals_the_model_on_a_frozen_clock():
    clock = VirtualClock()
    c = Counter32k("counter32k", clock)
    c_read, fm = _c_reader(c)
    for target in (123_456_789_123, (1 << 32) * NS_PER_S // 32768 + 5 * NS_PER_S + 17):
        clock.warp_to(target)
        clock.freeze()
        for off, size in ((C.CR, 4), (C.CR, 2), (C.CR + 2, 2), (C.CR, 1), (C.CR + 3, 1)):
            assert c_read(off, size) == c.read(off, size), (target, off, size)
        clock.thaw()
    assert fm.reads() == 10


def test_c_read_follows_the_running_clock_and_warps():
    clock = VirtualClock()
    c = Counter32k("counter32k", clock)
    c_read, _ = _c_reader(c)
    before = c.count()
    value = c_read(C.CR, 4)
    assert before <= value <= c.count()
    clock.warp_to(clock.now_ns() + 10 * NS_PER_S)  # the C side is told of the new time base
    assert c_read(C.CR, 4) - value >= 10 * 32768


def test_other_registers_go_to_the_model():
    c = Counter32k("counter32k", VirtualClock())
    c_read, fm = _c_reader(c)
    assert c_read(C.REV, 4) == C.REV_VALUE
    c.write(C.SYSCONFIG, 4, 0x18)
    assert c_read(C.SYSCONFIG, 4) == 0x18
    assert c_read(0x40, 4) == 0
    assert fm.reads() == 0


@pytest.mark.skipif(subprocess.run(["which", "arm-none-eabi-as"], capture_output=True).returncode,
                    reason="arm-none-eabi binutils not installed")
def test_counter_page_on_the_board(tmp_path):
    """Mapped on the board: CR from C, the other registers through the bus's Python path, the
    rest of the L4-Wakeup window unchanged around it, and both counted as device reads."""
    from tests.cpu.test_vcpu import assemble, make_vm

    vm = make_vm(assemble(tmp_path, "b .\n"))
    uc = vm.vcpu.uc
    bus = vm.board.bus

    def rd(pa: int) -> int:
        return struct.unpack("<I", uc.mem_read(pa, 4))[0]

    before = vm.board.counter32k.count()
    assert before <= rd(0x4832_0010) <= vm.board.counter32k.count()
    assert rd(0x4832_0000) == C.REV_VALUE
    assert bus.fast_mmio_reads == 1 and bus.mmio_reads == 1
    gpt1 = next(d for base, d in bus.devices if base == 0x4831_8000)  # GPTIMER1, below it
    assert rd(0x4831_8000) == gpt1.read(0, 4)
    assert vm.stats()["cpu"]["mmio_reads"] == 3
