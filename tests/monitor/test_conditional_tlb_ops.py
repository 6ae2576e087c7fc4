"""A conditional TLB maintenance instruction acts only when its condition passes (ARM ARM A8.3).

Linux's ``tlb_op()`` emits ``tst; mcrne``: on a uniprocessor the Inner Shareable forms are
skipped that way, among them a TLBIALLIS in every ``flush_tlb_mm``. A monitor that took the
hooked instruction as executed would drop its whole shadow (and Unicorn's TLB) on every exit
and exec. Skipping it is invisible to a guest (a TLB may always drop entries), so the test
reads the monitor's counters."""

from __future__ import annotations

from tests.cpu.test_vcpu import assemble, make_vm, pytestmark  # noqa: F401 (skip marker)

ROUNDS = 100

GUEST = f"""
    mov r0, #0
    ldr r2, ={ROUNDS}
1:  cmp r0, r0                      @ Z = 1
    mcrne p15, 0, r0, c8, c7, 0     @ TLBIALL: condition fails, does nothing
    mcrne p15, 0, r0, c8, c3, 0     @ TLBIALLIS: the same
    mcreq p15, 0, r0, c8, c7, 1     @ TLBIMVA: condition passes
    mcrgt p15, 0, r0, c8, c7, 2     @ TLBIASID: GT fails with Z = 1
    mcrge p15, 0, r0, c8, c6, 1     @ DTLBIMVA: GE passes (N = V)
    subs r2, r2, #1
    bne 1b
    mov r0, #0x18                   @ SYS_EXIT
    ldr r1, =0x20026
    svc 0x123456
    b .
"""


def test_only_tlb_operations_whose_condition_passes_act(tmp_path):
    vm = make_vm(assemble(tmp_path, GUEST), semihosting=True, mmu="shadow", shadow_sync="tlb")
    vm.start()
    try:
        assert vm.wait(30), "guest did not exit"
        st = vm.stats()["shadow"]
    finally:
        vm.shutdown()
    assert st["tlb_ops_TLBIMVA"] == ROUNDS and st["tlb_ops_DTLBIMVA"] == ROUNDS
    assert st["tlb_ops_TLBIALL"] == 0 and st["tlb_ops_TLBIALLIS"] == 0
    assert st["tlb_ops_TLBIASID"] == 0
    assert st["tlb_ops"] == 2 * ROUNDS
