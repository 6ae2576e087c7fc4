"""System Control Module and the TAP/ID block (omap3-notes §5.2, §5.11)."""

from __future__ import annotations

from hvd.devices.idcode import IdCode
from hvd.devices.scm import SystemControlModule

SCM = 0x4800_2000


def test_control_status_is_gp_device() -> None:
    scm = SystemControlModule()
    v = scm.read(0x480022F0 - SCM, 4)
    assert (v >> 8) & 7 == 3
    assert v == 0x30F


def test_omap_status_full_dm3730() -> None:
    v = SystemControlModule().read(0x4800244C - SCM, 4)
    assert v == 0x00000C00
    assert (v >> 13) & 3 == 0 and not v & (1 << 12) and (v >> 10) & 3 and not v & 0x30


def test_padconf_save_done() -> None:
    scm = SystemControlModule()
    scm.write(0x48002270 - SCM, 4, scm.read(0x48002270 - SCM, 4) | 2)  # START_SAVE
    assert scm.read(0x480022F4 - SCM, 4) & 1 == 1
    assert scm.read(0x48002270 - SCM, 4) & 2 == 0


def test_padconf_16bit_storage() -> None:
    scm = SystemControlModule()
    scm.write(0x30, 2, 0x0118)
    scm.write(0x32, 2, 0x4100)
    assert scm.read(0x30, 2) == 0x0118 and scm.read(0x32, 2) == 0x4100
    assert scm.read(0x30, 4) == 0x41000118
    scm.write(0x910 + 4, 4, 0x424D0000)  # scratchpad boot mode
    assert scm.read(0x914, 4) == 0x424D0000


def test_read_only_ids_ignore_writes() -> None:
    scm = SystemControlModule()
    scm.write(0x2F0, 4, 0)
    scm.write(0x44C, 4, 0xFFFFFFFF)
    assert scm.read(0x2F0, 4) == 0x30F and scm.read(0x44C, 4) == 0xC00


def test_idcode_dm3730_es12() -> None:
    tap = IdCode()
    v = tap.read(0x204, 4)
    assert v == 0x2B89102F
    assert (v >> 12) & 0xFFFF == 0xB891 and v >> 28 >= 2
    tap.write(0x204, 4, 0)
    assert tap.read(0x204, 4) == v
    assert tap.read(0x206, 2) == 0x2B89
    assert all(tap.read(o, 4) for o in (0x218, 0x21C, 0x220, 0x224))
    assert tap.read(0x300, 4) == 0
