"""ARMv7-A exception model: guest programs guests/exc_*.S under hvd's three modes and QEMU.

Each guest prints TAP-like lines with architecturally defined values only (vector, LR minus the
faulting instruction's address, SPSR and CPSR bits, fault status, addresses relative to
RAM_BASE), so the same guest prints the same lines on hvd's BeagleBoard-xM and on QEMU's
vexpress-a9. Ids read ``test_exception_guest[exc_svc-shadow-tlb]``: guest, then mode.
"""

from __future__ import annotations

import pytest

from .support import (
    ALL_MODES,
    HVD_ONLY,
    QEMU_BEAGLE_ELF,
    GuestRunner,
    check_hvd_modes_agree,
    check_portable,
    check_selfchecking,
)

PORTABLE = ["exc_svc", "exc_undef", "exc_abort", "exc_align", "exc_return"]
# QEMU's vexpress-a9 reads unmapped physical addresses as zero: external aborts are hvd's only.
HVD_ONLY_GUESTS = ["exc_extabort"]


@pytest.mark.parametrize("mode", ALL_MODES)
@pytest.mark.parametrize("guest", PORTABLE)
def test_exception_guest(guests: GuestRunner, guest: str, mode: str) -> None:
    check_portable(guests, guest, mode)


@pytest.mark.parametrize("guest", PORTABLE)
def test_beagle_elf_under_qemu(guests: GuestRunner, guest: str) -> None:
    """The ELF hvd runs (RAM_BASE 0x8000_0000) prints under QEMU what the vexpress build prints."""
    check_portable(guests, guest, QEMU_BEAGLE_ELF)


@pytest.mark.parametrize("mode", HVD_ONLY)
@pytest.mark.parametrize("guest", HVD_ONLY_GUESTS)
def test_exception_guest_hvd_only(guests: GuestRunner, guest: str, mode: str) -> None:
    check_selfchecking(guests.run(guest, mode))


@pytest.mark.parametrize("guest", HVD_ONLY_GUESTS)
def test_hvd_modes_agree(guests: GuestRunner, guest: str) -> None:
    check_hvd_modes_agree(guests, guest)
