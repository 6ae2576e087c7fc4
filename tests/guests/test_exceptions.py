"""ARMv7-A exception model: guest programs in guests/exc_*.S under hvd's three modes and QEMU.

Each guest prints TAP-like lines with architecturally defined values only (vector, LR minus the
faulting instruction's address, SPSR and CPSR bits, fault status and addresses relative to
RAM_BASE), so the same guest prints the same lines on hvd's BeagleBoard-xM and on QEMU's
vexpress-a9. Ids read ``test_exception_guest[exc_svc-shadow-tlb]``.
"""

from __future__ import annotations

import pytest

from .support import ALL_MODES, HVD_ONLY, GuestRunner, check_portable, check_selfchecking

PORTABLE = ["exc_svc", "exc_undef", "exc_abort", "exc_return"]
HVD_ONLY_GUESTS = ["exc_extabort"]


@pytest.mark.parametrize("mode", ALL_MODES)
@pytest.mark.parametrize("guest", PORTABLE)
def test_exception_guest(guests: GuestRunner, guest: str, mode: str) -> None:
    check_portable(guests, guest, mode)


@pytest.mark.parametrize("mode", HVD_ONLY)
@pytest.mark.parametrize("guest", HVD_ONLY_GUESTS)
def test_exception_guest_hvd_only(guests: GuestRunner, guest: str, mode: str) -> None:
    check_selfchecking(guests.run(guest, mode))
