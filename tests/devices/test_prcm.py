"""PRM and CM: every register the kernel polls (omap3-notes §4, §5.2, §5.4, §5.7, §5.8, §5.11)."""

from __future__ import annotations

import pytest

from hvd.devices import cm as C
from hvd.devices import prm as P
from hvd.devices.cm import Cm
from hvd.devices.prm import Prm

PRM_BASE = 0x4830_6000
CM_BASE = 0x4800_4000


def prm_off(pa: int) -> int:
    return pa - PRM_BASE


def cm_off(pa: int) -> int:
    return pa - CM_BASE


class FakeTimer:
    def __init__(self) -> None:
        self.hz: int | None = None

    def set_source_hz(self, hz: int) -> None:
        self.hz = hz


# -- PRM ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("dom", P.POWER_DOMAINS)
def test_pwstst_says_on_and_not_in_transition(dom: int) -> None:
    prm = Prm()
    v = prm.read(dom + P.PM_PWSTST, 4)
    assert v & 3 == 3
    assert not v & (1 << 20)


@pytest.mark.parametrize("dom", P.POWER_DOMAINS)
def test_prepwstst_reads_on_whatever_is_written(dom: int) -> None:
    prm = Prm()
    prm.write(dom + P.PM_PREPWSTST, 4, 0)
    v = prm.read(dom + P.PM_PREPWSTST, 4)
    assert v & 3 == 3 and v & 4 and (v >> 4) & 0xF == 0xF


@pytest.mark.parametrize("dom", P.POWER_DOMAINS)
def test_pwstctrl_stores_next_state(dom: int) -> None:
    prm = Prm()
    assert prm.read(dom + P.PM_PWSTCTRL, 4) & 3 == 3
    prm.write(dom + P.PM_PWSTCTRL, 4, 0x0)  # next state OFF (enable_off_mode)
    assert prm.read(dom + P.PM_PWSTCTRL, 4) & 3 == 0


def test_kernel_addresses_of_status_registers() -> None:
    prm = Prm()
    assert prm.read(prm_off(0x48306AE4), 4) & 3 == 3  # PM_PWSTST_CORE
    assert prm.read(prm_off(0x48306AE8), 4) & 3 == 3  # PM_PREPWSTST_CORE
    assert prm.read(prm_off(0x483070E4), 4) & 3 == 3  # PM_PWSTST_PER


def test_wkst_io_chain_mirrors_wken() -> None:
    prm = Prm()
    wken, wkst = prm_off(0x48306CA0), prm_off(0x48306CB0)
    prm.write(wken, 4, prm.read(wken, 4) | (1 << 8))
    assert prm.read(wkst, 4) & (1 << 16) == 0
    prm.write(wken, 4, prm.read(wken, 4) | (1 << 16))  # reconfigure_io_chain
    assert prm.read(wkst, 4) & (1 << 16)
    prm.write(wken, 4, prm.read(wken, 4) & ~(1 << 16))
    prm.write(wkst, 4, 1 << 16)
    assert prm.read(wkst, 4) & (1 << 16) == 0
    assert prm.read(wken, 4) & (1 << 8)


def test_irqstatus_mpu_stays_zero() -> None:
    prm = Prm()
    prm.write(prm_off(0x4830681C), 4, 0xFFFFFFFF)
    assert prm.read(prm_off(0x4830681C), 4) == 0xFFFFFFFF
    prm.write(prm_off(0x48306818), 4, 0xFFFFFFFF)
    assert prm.read(prm_off(0x48306818), 4) == 0


def test_clock_source_as_uboot_left_it() -> None:
    prm = Prm()
    assert prm.read(prm_off(0x48306D40), 4) == 3  # PRM_CLKSEL: 26 MHz
    assert (prm.read(prm_off(0x48307270), 4) >> 6) & 3 == 2  # SYSCLKDIV /2


@pytest.mark.parametrize("bit", [P.RST_GS, P.RST_DPLL3])
def test_global_reset_calls_board_reset(bit: int) -> None:
    calls = []
    prm = Prm(reset_board=lambda: calls.append(1))
    assert prm.read(prm_off(0x48307258), 4) == P.GLOBAL_COLD_RST
    prm.write(prm_off(0x48307250), 4, bit)
    assert calls == [1]
    assert prm.read(prm_off(0x48307250), 4) == 0
    prm.reset()
    assert prm.read(prm_off(0x48307258), 4) == P.GLOBAL_SW_RST  # survives the warm reset
    prm.write(prm_off(0x48307250), 4, 0)
    assert calls == [1]


def test_vp_status_idle_and_iva2_reset_lines() -> None:
    prm = Prm()
    assert prm.read(P.PRM_VP1_STATUS, 4) & 1 and prm.read(P.PRM_VP2_STATUS, 4) & 1
    assert prm.read(prm_off(0x48306050), 4) == 7
    prm.write(prm_off(0x48306050), 4, 5)
    assert prm.read(prm_off(0x48306050), 4) == 5


def test_prm_16bit_access_merges() -> None:
    prm = Prm()
    prm.write(0x1220, 2, 0x1234)
    prm.write(0x1222, 2, 0xABCD)
    assert prm.read(0x1220, 4) == 0xABCD1234
    assert prm.read(0x1222, 2) == 0xABCD


# -- CM ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("pa", [0x48004A20, 0x48004A24, 0x48004A28, 0x48005020, 0x48004C20,
                                0x48004E20, 0x48004F20, 0x48004B20, 0x48005420, 0x48004020])
def test_module_idlest_reads_functional(pa: int) -> None:
    cm = Cm()
    cm.write(cm_off(pa) - 0x20, 4, 0xFFFFFFFF)  # FCLKEN on
    assert cm.read(cm_off(pa), 4) == 0


@pytest.mark.parametrize("en_pa,shift,st_pa,bit", [
    (0x48004904, 0, 0x48004924, 0),   # DPLL1 MPU
    (0x48004004, 0, 0x48004024, 0),   # DPLL2 IVA2
    (0x48004D00, 0, 0x48004D20, 0),   # DPLL3 core
    (0x48004D00, 16, 0x48004D20, 1),  # DPLL4 per
    (0x48004D04, 0, 0x48004D24, 0),   # DPLL5
])
def test_dpll_lock_tracks_enable_field(en_pa: int, shift: int, st_pa: int, bit: int) -> None:
    cm = Cm()
    en, st = cm_off(en_pa), cm_off(st_pa)
    for mode, locked in ((7, 1), (5, 0), (6, 0), (1, 0), (7, 1)):
        v = cm.read(en, 4) & ~(7 << shift) | (mode << shift)
        cm.write(en, 4, v)
        assert (cm.read(st, 4) >> bit) & 1 == locked, (mode, locked)


def test_dpll5_lock_then_stop_like_clk_lock_dpll5() -> None:
    cm = Cm()
    en, st = cm_off(0x48004D04), cm_off(0x48004D24)
    assert cm.read(st, 4) & 1 == 0
    cm.write(cm_off(0x48004D4C), 4, (443 << 8) | 11)
    cm.write(en, 4, 7)
    assert cm.read(st, 4) & 1 == 1
    cm.write(en, 4, 1)
    assert cm.read(st, 4) & 1 == 0


def test_idle_path_polls() -> None:
    cm = Cm()
    assert cm.read(cm_off(0x48004D20), 4) & 1 == 1  # CM_IDLEST_CKGEN bit 0
    assert cm.read(cm_off(0x48004A20), 4) & 2 == 0  # CM_IDLEST1_CORE bit 1
    assert cm.read(cm_off(0x4800404C), 4) & 1 == 0  # CM_CLKSTST_IVA2: no forced idle


def test_reset_state_as_uboot_left_it() -> None:
    cm = Cm()
    r = lambda pa: cm.read(cm_off(pa), 4)  # noqa: E731
    assert r(0x48004D00) == 0x00070007
    assert r(0x48004904) & 7 == 7
    assert r(0x48004D40) >> 27 != 0                     # M2 of DPLL3
    assert (r(0x48004D40) >> 16) & 0x7FF == 400         # M
    assert (r(0x48004940) >> 19) & 7 != 0               # MPU_CLK_SRC
    assert (r(0x48004040) >> 19) & 7 != 0               # IVA2_CLK_SRC
    assert r(0x48004944) & 0x1F != 0 and r(0x48004044) & 0x1F != 0
    assert r(0x48004A40) & 3 and (r(0x48004A40) >> 2) & 3  # L3, L4 dividers
    assert (r(0x48004C40) >> 1) & 3                     # RM divider
    assert r(0x48004E40) & 0x3F and (r(0x48004E40) >> 8) & 0x3F  # DSS1, TV
    assert r(0x48004F40) & 0x1F                         # CAM
    assert r(0x48004D48) & 0x1F and r(0x48004D50) & 0x1F  # CLKSEL3/5_PLL
    e = r(0x48005140)
    assert (e >> 4) & 3 and (e >> 8) & 7 and (e >> 11) & 7 and (e >> 16) & 0x3F


def test_idlest_is_read_only() -> None:
    cm = Cm()
    cm.write(cm_off(0x48004A20), 4, 0xFFFFFFFF)
    cm.write(cm_off(0x48004D20), 4, 0)
    assert cm.read(cm_off(0x48004A20), 4) == 0
    assert cm.read(cm_off(0x48004D20), 4) & 3 == 3


def test_gptimer_sources() -> None:
    timers = [FakeTimer() for _ in range(12)]
    cm = Cm(gptimers=timers)
    assert timers[0].hz == 32768                     # GPT1 on 32k at reset
    assert all(t.hz == 13_000_000 for t in timers[1:9])  # GPT2-9 on sys_ck
    assert timers[9].hz == timers[10].hz == 32768    # GPT10/11
    assert timers[11].hz == 32768                    # GPT12
    cm.write(cm_off(0x48004C40), 4, cm.read(cm_off(0x48004C40), 4) | 1)
    assert timers[0].hz == 13_000_000
    cm.write(cm_off(0x48004C40), 4, cm.read(cm_off(0x48004C40), 4) & ~1)  # DT reparent to 32k
    assert timers[0].hz == 32768
    cm.write(cm_off(0x48005040), 4, 0x01)
    assert timers[1].hz == 13_000_000 and timers[2].hz == 32768
    cm.write(cm_off(0x48004A40), 4, cm.read(cm_off(0x48004A40), 4) | (1 << 7))
    assert timers[10].hz == 13_000_000 and timers[9].hz == 32768


def test_gptimers_may_come_later() -> None:
    timers: list[FakeTimer] = []
    cm = Cm(gptimers=lambda: timers)
    timers.extend(FakeTimer() for _ in range(12))
    cm.sync_gptimers()
    assert timers[0].hz == 32768 and timers[1].hz == 13_000_000
