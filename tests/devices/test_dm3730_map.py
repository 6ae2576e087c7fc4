"""The SoC device table wired into the real board: the polled registers at their physical
addresses (omap3-notes §6 "silent hangs" table), and the PRM/TWL4030 callbacks."""

from __future__ import annotations

import pytest

from hvd.boards.beagleboard_xm import BeagleBoardXM
from hvd.clock import VirtualClock


@pytest.fixture(scope="module")
def board() -> BeagleBoardXM:
    b = BeagleBoardXM(VirtualClock("warp"))
    b.reset_devices()
    return b


def rd(board: BeagleBoardXM, pa: int) -> int:
    data = board.bus.read_phys(pa, 4)
    assert data is not None
    return int.from_bytes(data, "little")


@pytest.mark.parametrize("pa,mask,want", [
    (0x4830A204, 0xFFFFFFFF, 0x2B89102F),  # CONTROL_IDCODE
    (0x4800244C, 0xFFFFFFFF, 0x00000C00),  # CONTROL_OMAP_STATUS
    (0x480022F0, 0x00000700, 0x00000300),  # CONTROL_STATUS: GP
    (0x480022F4, 0x1, 0x1),                # GENERAL_PURPOSE_STATUS
    (0x48004D20, 0x3, 0x3),                # CM_IDLEST_CKGEN: DPLL3/4 locked
    (0x48004A20, 0xFFFFFFFF, 0),           # CM_IDLEST1_CORE
    (0x48005020, 0xFFFFFFFF, 0),           # CM_IDLEST_PER
    (0x48004C20, 0xFFFFFFFF, 0),           # CM_IDLEST_WKUP
    (0x48306AE4, 0x00100003, 0x3),         # PM_PWSTST_CORE
    (0x48314034, 0x10, 0),                 # WDT2 WWPS
    (0x6D000064, 0x4, 0x4),                # SDRC_DLLA_STATUS
    (0x6C000014, 0x1, 0x1),                # SMS_SYSSTATUS
    (0x48056028, 0x1, 0x1),                # sDMA SYSSTATUS
    (0x480A604C, 0x1, 0x1),                # AES1 SYSSTATUS
    (0x480A0044, 0x1, 0x1),                # RNG SYSSTATUS
    (0x48050440, 0x3, 0),                  # DISPC_CONTROL: LCD/TV off
    (0x48310000, 0xFF, 0x25),              # GPIO1 revision
    (0x48070000, 0xFF, 0x40),              # I2C1 revision
])
def test_polled_registers(board: BeagleBoardXM, pa: int, mask: int, want: int) -> None:
    assert rd(board, pa) & mask == want


def test_prm_global_reset_reaches_the_board(board: BeagleBoardXM) -> None:
    calls = []
    board.on_reset = lambda: calls.append("reset")
    board.soc_devices["prm"].write(0x48307250 - 0x48306000, 4, 1 << 2)  # RST_DPLL3
    assert calls == ["reset"]


def test_twl_poweroff_reaches_the_board(board: BeagleBoardXM) -> None:
    calls = []
    board.on_poweroff = lambda: calls.append("off")
    twl = board.soc_devices["i2c1"].twl  # type: ignore[attr-defined]
    twl.write_reg(0x4B, 0x46, 0x01)
    assert calls == ["off"]
