"""VmTarget (the Target over a real VM) driven directly, without gdb: the contract the command
layer relies on, including cases gdb itself avoids (continuing with a breakpoint still inserted
at PC, continuing from a watchpoint stop)."""

from __future__ import annotations

import queue

import pytest

from hvd.gdbstub import tdesc
from hvd.gdbstub.target import SIGINT, SIGTRAP, BpType, StopEvent
from hvd.gdbstub.vmtarget import VmTarget

from .e2e import ALIAS, Guest, build_guest, needs_tools

pytestmark = [needs_tools, pytest.mark.timeout(60)]


@pytest.fixture(scope="module")
def guest(tmp_path_factory: pytest.TempPathFactory) -> Guest:
    return build_guest(tmp_path_factory.mktemp("vmtarget"))


@pytest.fixture(params=["shadow", "native"])
def target(guest: Guest, request: pytest.FixtureRequest):
    from hvd.config import VmConfig
    from hvd.vm import VM

    vm = VM(VmConfig(name="t", kernel=guest.elf, semihosting=True, serial="none",
                     mmu=request.param))
    t = VmTarget(vm)
    t.hold()
    yield t
    t.close()
    vm.shutdown()


def run(t: VmTarget, step: bool = False, timeout: float = 10) -> StopEvent:
    q: queue.Queue[StopEvent] = queue.Queue()
    t.resume(step=step, on_stop=q.put)
    return q.get(timeout=timeout)


def pc(t: VmTarget) -> int:
    return t.read_register(15)


def test_breakpoint_continue_with_it_inserted(guest: Guest, target: VmTarget):
    t = target
    assert t.attach() == StopEvent("signal", SIGTRAP)
    assert pc(t) == guest.sym["_start"]
    assert t.insert_breakpoint(BpType.SOFTWARE, guest.sym["arm_loop"], 4)
    for n in range(1, 4):
        assert run(t) == StopEvent("swbreak")
        assert pc(t) == guest.sym["arm_loop"]
        # continuing with the breakpoint still in place goes round the loop once more
        assert t.read_register(1) == n - 1
    assert t.remove_breakpoint(BpType.SOFTWARE, guest.sym["arm_loop"], 4)
    assert not t.remove_breakpoint(BpType.SOFTWARE, guest.sym["arm_loop"], 4)


def test_step_and_registers(guest: Guest, target: VmTarget):
    t = target
    t.attach()
    assert t.insert_breakpoint(BpType.HARDWARE, guest.sym["thumb_code"], 2)
    assert run(t) == StopEvent("hwbreak")
    t.remove_breakpoint(BpType.HARDWARE, guest.sym["thumb_code"], 2)
    assert t.read_register(tdesc.CPSR_REGNUM) & 0x20
    assert run(t, step=True) == StopEvent("signal", SIGTRAP)
    assert pc(t) == guest.sym["thumb_code"] + 2
    assert t.read_register(3) == 7
    # d0 = 1.5, q0 = d1:d0
    assert t.read_register(tdesc.D0_REGNUM) == 0x3FF8000000000000
    q0 = t.read_register(tdesc.Q0_REGNUM)
    assert q0 == 0x3FF8000000000000 | (0x4008000000000000 << 64)
    assert t.write_register(tdesc.Q0_REGNUM, 1 | (2 << 64))
    assert t.read_register(tdesc.D0_REGNUM) == 1 and t.read_register(tdesc.D0_REGNUM + 1) == 2
    # writing PC keeps Thumb state; writing CPSR switches it
    assert t.write_register(15, guest.sym["thumb_code"])
    assert t.read_register(tdesc.CPSR_REGNUM) & 0x20 and pc(t) == guest.sym["thumb_code"]
    assert run(t, step=True).kind == "signal"
    assert pc(t) == guest.sym["thumb_code"] + 2
    # CPSR: T cleared -> ARM state at the same PC; set again -> Thumb
    cpsr = t.read_register(tdesc.CPSR_REGNUM)
    assert t.write_register(tdesc.CPSR_REGNUM, cpsr & ~0x20)
    assert not t.read_register(tdesc.CPSR_REGNUM) & 0x20
    assert pc(t) == guest.sym["thumb_code"] + 2
    assert t.write_register(tdesc.CPSR_REGNUM, cpsr)
    assert t.read_register(tdesc.CPSR_REGNUM) == cpsr and pc(t) == guest.sym["thumb_code"] + 2
    assert t.read_register(999) is None and not t.write_register(999, 0)


def test_watchpoint_stops_before_the_store_and_continues(guest: Guest, target: VmTarget):
    t = target
    t.attach()
    t.insert_breakpoint(BpType.SOFTWARE, guest.sym["mmu_on"], 4)
    run(t)
    t.remove_breakpoint(BpType.SOFTWARE, guest.sym["mmu_on"], 4)
    counter = guest.sym["counter"] - 0x80000000 + ALIAS
    assert t.insert_breakpoint(BpType.WRITE, counter, 4)
    for n in (1, 2):
        ev = run(t)
        assert ev == StopEvent("watch", addr=counter)
        assert pc(t) == guest.sym["store_insn"]
        assert t.read_register(1) == n
    # through the identity mapping, the same memory
    assert t.read_memory(guest.sym["counter"], 4) == (2).to_bytes(4, "little")
    assert t.read_memory(counter, 4) == (2).to_bytes(4, "little")
    t.remove_breakpoint(BpType.WRITE, counter, 4)


def test_interrupt_memory_and_exit(guest: Guest, target: VmTarget):
    t = target
    t.attach()
    q: queue.Queue[StopEvent] = queue.Queue()
    t.resume(step=False, on_stop=q.put)
    with pytest.raises(queue.Empty):
        q.get(timeout=0.3)                       # spinning in thumb_loop
    t.interrupt()
    assert q.get(timeout=10) == StopEvent("signal", SIGINT)
    assert guest.sym["thumb_loop"] <= pc(t) < guest.sym["thumb_exit"]
    assert t.read_memory(0x10, 4) == b""         # unmapped: nothing
    assert t.read_memory(0x10, 4, phys=True) == b""
    start = t.read_memory(guest.sym["_start"], 8)
    assert start == t.read_memory(guest.sym["_start"], 8, phys=True)
    assert t.write_memory(guest.sym["flag"], (9).to_bytes(4, "little"))
    assert not t.write_memory(0x10, b"\0")
    assert run(t) == StopEvent("exited", status=9)
    assert t.attach() == StopEvent("exited", status=9)


def test_monitor_data(target: VmTarget):
    t = target
    t.attach()
    banked = t.banked_registers()
    for name in ("r13_svc", "r14_irq", "spsr_abt", "r8_fiq", "r12_fiq", "r13_usr"):
        assert name in banked
    assert banked["cpsr"] == t.read_register(tdesc.CPSR_REGNUM)
    cp15 = t.cp15_registers()
    assert cp15["MIDR"] == 0x413FC082
    assert "mmu" in t.shadow_stats()
    assert "MMU off" in t.info_tlb()
