"""Semihosting as guests see it: guests/semi.S and guests/semi_exit.S under hvd and QEMU.

``semi`` calls SYS_WRITE0 from every privileged mode and from Thumb state (SVC 0xAB) and checks
that no register of the calling mode changes and the guest's SVC vector is never entered, then
SYS_WRITEC, SYS_OPEN(":tt") + SYS_WRITE + SYS_CLOSE, SYS_CLOCK, SYS_TIME, and that the same SVC
from User mode is an ordinary SVC exception. ``semi_exit`` checks the exit status of
SYS_EXIT_EXTENDED and of SYS_EXIT with two reason codes. Ids: ``test_semihosting[native]``,
``test_exit_status[exit-extended-7-qemu]``.
"""

from __future__ import annotations

import pytest

from .support import ALL_MODES, GuestRunner, check_portable

EXITS = {
    "exit-extended-7": (1, 7),
    "exit-application": (2, 0),
    "exit-runtime-error": (3, 1),
}


@pytest.mark.parametrize("mode", ALL_MODES)
def test_semihosting(guests: GuestRunner, mode: str) -> None:
    check_portable(guests, "semi", mode)


@pytest.mark.parametrize("mode", ALL_MODES)
@pytest.mark.parametrize("kind", list(EXITS))
def test_exit_status(guests: GuestRunner, kind: str, mode: str) -> None:
    define, status = EXITS[kind]
    run = guests.run("semi_exit", mode, {"EXIT_KIND": define})
    assert (run.status, run.lines) == (status, ["exiting"]), run.describe()
