"""MMU conformance suite (issue 3): guests/mmu_*.S under shadow/tlb, shadow/wp, native and QEMU.

Every guest builds short-descriptor tables, turns the MMU on and checks one group of rules with
the barriers and TLB maintenance the ARMv7-A architecture requires, never printing anything the
architecture leaves open (a stale TLB entry may or may not be used). The output of each hvd mode
must equal QEMU's (vexpress-a9, the referee) line for line. Ids read
``test_mmu_guest[mmu_asid-shadow-wp]``: guest, then mode.

  mmu_basic   remap + TLBIMVA, invalid->valid with no TLB op, valid->invalid + TLBIMVA,
              read-only pages/sections (WnR), high vectors (SCTLR.V), running off a page,
              TTBR0 switch + TLBIALL, MMU off / on again
  mmu_perm    PL1/PL0 permissions in both orders, LDRT/STRT, XN and PL1-only code (IFSR/IFAR)
  mmu_domain  domains: DACR no access / client / manager changes without TLB ops
  mmu_asid    ASID switches with nG entries and no TLB ops, TLBIASID, TLBIMVA+ASID, TLBIALL
  mmu_asid8   eight address spaces round robin, TLBIASID of inactive ones, ASID reuse
  mmu_sizes   supersections and large pages, their permissions and XN
  mmu_split   TTBCR.N = 0, 1, 2 with TTBR1
  mmu_alias   tables edited through alias mappings of the table pages
  mmu_tlbcode TLB operations in run-time written / rewritten code, Thumb, conditional, I/D forms
  mmu_afe_tre SCTLR.AFE access flag faults and simplified permissions, SCTLR.TRE with Linux's
              PRRR/NMRR
  mmu_itfill  TLB misses inside Thumb IT blocks: instructions after the block stay unconditional
"""

from __future__ import annotations

import pytest

from .support import ALL_MODES, QEMU_BEAGLE_ELF, GuestRunner, check_portable

MMU_GUESTS = [
    "mmu_basic",
    "mmu_perm",
    "mmu_domain",
    "mmu_asid",
    "mmu_asid8",
    "mmu_sizes",
    "mmu_split",
    "mmu_alias",
    "mmu_tlbcode",
    "mmu_afe_tre",
    "mmu_itfill",
]


@pytest.mark.parametrize("mode", ALL_MODES)
@pytest.mark.parametrize("guest", MMU_GUESTS)
def test_mmu_guest(guests: GuestRunner, guest: str, mode: str) -> None:
    check_portable(guests, guest, mode)


@pytest.mark.parametrize("guest", MMU_GUESTS)
def test_beagle_elf_under_qemu(guests: GuestRunner, guest: str) -> None:
    """The ELF hvd runs (RAM_BASE 0x8000_0000) prints under QEMU what the vexpress build prints."""
    check_portable(guests, guest, QEMU_BEAGLE_ELF)
