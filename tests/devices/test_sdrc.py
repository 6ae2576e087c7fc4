"""SDRC/SMS, GPMC and WDT2: the polled bits of omap3-notes §5.7, §5.8, §5.11."""

from __future__ import annotations

from hvd.clock import VirtualClock
from hvd.devices.gpmc import Gpmc
from hvd.devices.sdrc import Sdrc, Sms
from hvd.devices.wdt import Watchdog


def test_dll_locked_for_the_idle_path() -> None:
    sdrc = Sdrc()
    ctrl, status = sdrc.read(0x60, 4), sdrc.read(0x64, 4)
    assert ctrl & 4 or status & 4  # the WFI exit path never loops
    assert status & 4
    sdrc.write(0x60, 4, ctrl & ~(1 << 3))  # kick_dll: disable
    sdrc.write(0x60, 4, ctrl | (1 << 3))  # and re-enable
    assert sdrc.read(0x64, 4) & 4


def test_sdrc_power_and_sysconfig() -> None:
    sdrc = Sdrc()
    p = sdrc.read(0x70, 4)
    sdrc.write(0x70, 4, p | 0x40)
    assert sdrc.read(0x70, 4) & 0x40
    sdrc.write(0x70, 4, p & ~0x40)
    assert sdrc.read(0x70, 4) == p & ~0x40
    assert sdrc.read(0x14, 4) & 1
    sdrc.write(0x10, 4, 0x10)
    assert sdrc.read(0x10, 4) == 0x10
    assert sdrc.read(0x80, 4) != 0  # MCFG as U-Boot programmed it


def test_sms_firewall_and_reset() -> None:
    sms = Sms()
    sms.write(0x48, 4, 0xFFFFFFFF)  # SMS_RG_ATT0
    assert sms.read(0x48, 4) == 0xFFFFFFFF
    assert sms.read(0x14, 4) & 1


def test_gpmc_probe_registers() -> None:
    g = Gpmc()
    assert g.read(0x00, 4) == 0x50
    assert g.read(0x14, 4) & 1
    for cs in range(8):
        assert g.read(0x78 + 0x30 * cs, 4) & (1 << 6) == 0  # CSVALID = 0
    g.write(0x1C, 4, 0x303)
    assert g.read(0x1C, 4) == 0x303 and g.read(0x18, 4) == 0


def test_wdt_disable_sequence_never_posts() -> None:
    clock = VirtualClock("warp")
    resets = []
    wdt = Watchdog("wdt2", clock, lambda: resets.append(1))
    for v in (0xAAAA, 0x5555):
        wdt.write(0x48, 4, v)
        assert wdt.read(0x34, 4) & (1 << 4) == 0
    assert not wdt.running
    assert wdt.read(0x14, 4) & 1


def test_wdt_started_expires_and_resets_board() -> None:
    clock = VirtualClock("warp")
    clock.freeze()
    resets = []
    wdt = Watchdog("wdt2", clock, lambda: resets.append(1))
    wdt.write(0x24, 4, 0x20)  # PRE, PTV 0: 32768 Hz
    wdt.write(0x2C, 4, 0xFFFF0000)  # 65536 ticks = 2 s
    wdt.write(0x30, 4, 1)  # trigger: reload
    wdt.write(0x48, 4, 0xBBBB)
    wdt.write(0x48, 4, 0x4444)
    assert wdt.running
    c0 = wdt.read(0x28, 4)
    assert c0 == 0xFFFF0000
    clock.thaw()
    clock.warp_to(clock.now_ns() + 1_000_000_000)
    assert wdt.read(0x28, 4) > c0
    clock.warp_to(clock.now_ns() + 1_100_000_000)
    clock.run_due()
    assert resets == [1]
    assert wdt.read(0x18, 4) & 1
