"""The DM3730 SoC devices beyond the CPU core's own (INTC, GPTIMERs, UARTs, 32k counter): where
each sits (DM3730 TRM chapter 2 "Memory Mapping", L4-Core / L4-Wakeup / L4-Per / L3 tables),
how big its window is, how to build it, and its INTC line.

The board walks :data:`SOC_DEVICES`, calls ``factory(ctx)`` with itself as the
:class:`BoardContext`, and maps the result at ``base`` for ``size`` bytes. ``irq`` is
documentation of the wiring (factories connect their lines through ``ctx.irq``); None = no line
or not connected (as for the TWL4030's INTC 7, kept low).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Protocol, Sequence

from hvd.clock import VirtualClock
from hvd.devices.base import Device, IrqLine
from hvd.devices.cm import Cm
from hvd.devices.gpio import Gpio
from hvd.devices.gpmc import Gpmc
from hvd.devices.i2c import I2cController
from hvd.devices.idcode import IdCode
from hvd.devices.prm import Prm
from hvd.devices.scm import SystemControlModule
from hvd.devices.sdrc import Sdrc, Sms
from hvd.devices.timodule import CLASSES, Port, TiModule
from hvd.devices.twl4030 import Twl4030
from hvd.devices.wdt import Watchdog


class BoardContext(Protocol):
    """What a device factory may use from the board."""

    clock: VirtualClock
    #: GPTIMER1-12 models (index 0 = GPT1), each with ``set_source_hz(hz)``
    gptimers: Sequence[Any]

    def irq(self, n: int) -> IrqLine:
        """The INTC input line ``n``."""
        ...

    def poweroff(self) -> None:
        """The board loses power (TWL4030 DEVOFF): the VM stops, ``hvd run`` exits 0."""
        ...

    def reset(self) -> None:
        """Warm reset of the whole board (PRM global software reset, watchdog)."""
        ...


@dataclass(frozen=True)
class DeviceSpec:
    name: str
    base: int
    size: int
    factory: Callable[[BoardContext], Device]
    irq: int | None = None


def _module(name: str, ports: tuple[Port, ...] | Port | str, size: int = 0x1000
            ) -> Callable[[BoardContext], Device]:
    return lambda ctx: TiModule(name, size, ports)


def _i2c1(ctx: BoardContext) -> Device:
    ctrl = I2cController("i2c1", ctx.irq(56))
    twl = Twl4030(poweroff=ctx.poweroff)
    twl.attach_to(ctrl)
    ctrl.twl = twl  # type: ignore[attr-defined]  # reachable for the board and tests
    return ctrl


def _gpio(n: int, line: int) -> Callable[[BoardContext], Device]:
    return lambda ctx: Gpio(f"gpio{n}", ctx.irq(line))


_std = CLASSES["std"]

SOC_DEVICES: list[DeviceSpec] = [
    # PRCM, control module, identification (TRM chapters 3, 13)
    DeviceSpec("prm", 0x4830_6000, 0x4000, lambda ctx: Prm("prm", ctx.reset), 11),
    DeviceSpec("cm", 0x4800_4000, 0x4000,
               lambda ctx: Cm("cm", lambda: getattr(ctx, "gptimers", ()))),
    DeviceSpec("scm", 0x4800_2000, 0x2000, lambda ctx: SystemControlModule("scm")),
    DeviceSpec("tap-id", 0x4830_A000, 0x1000, lambda ctx: IdCode("tap-id")),
    # GPIO (chapter 25)
    DeviceSpec("gpio1", 0x4831_0000, 0x1000, _gpio(1, 29), 29),
    *(DeviceSpec(f"gpio{n}", 0x4905_0000 + 0x2000 * (n - 2), 0x1000, _gpio(n, 28 + n), 28 + n)
      for n in range(2, 7)),
    # I2C (chapter 18); the TWL4030 sits on I2C1
    DeviceSpec("i2c1", 0x4807_0000, 0x1000, _i2c1, 56),
    DeviceSpec("i2c2", 0x4807_2000, 0x1000, lambda ctx: I2cController("i2c2", ctx.irq(57)), 57),
    DeviceSpec("i2c3", 0x4806_0000, 0x1000, lambda ctx: I2cController("i2c3", ctx.irq(61)), 61),
    # memory subsystem (chapter 10)
    DeviceSpec("sms", 0x6C00_0000, 0x1000, lambda ctx: Sms("sms")),
    DeviceSpec("sdrc", 0x6D00_0000, 0x1000, lambda ctx: Sdrc("sdrc")),
    DeviceSpec("gpmc", 0x6E00_0000, 0x1000, lambda ctx: Gpmc("gpmc", ctx.irq(20)), 20),
    # watchdog (chapter 16.4)
    DeviceSpec("wdt2", 0x4831_4000, 0x1000,
               lambda ctx: Watchdog("wdt2", ctx.clock, ctx.reset)),
    # modules the kernel resets through hwmod / ti-sysc but hvd does not model
    DeviceSpec("sdma", 0x4805_6000, 0x1000, _module("sdma", "sdma")),
    DeviceSpec("mailbox", 0x4809_4000, 0x1000, _module("mailbox", "std")),
    DeviceSpec("mcspi1", 0x4809_8000, 0x1000, _module("mcspi1", "std")),
    DeviceSpec("mcspi2", 0x4809_A000, 0x1000, _module("mcspi2", "std")),
    DeviceSpec("mcspi3", 0x480B_8000, 0x1000, _module("mcspi3", "std")),
    DeviceSpec("mcspi4", 0x480B_A000, 0x1000, _module("mcspi4", "std")),
    DeviceSpec("hdq", 0x480B_2000, 0x1000, _module("hdq", "hdq")),
    DeviceSpec("mmc1", 0x4809_C000, 0x1000, _module("mmc1", "mmc")),
    DeviceSpec("mmc2", 0x480B_4000, 0x1000, _module("mmc2", "mmc")),
    DeviceSpec("mmc3", 0x480A_D000, 0x1000, _module("mmc3", "mmc")),
    DeviceSpec("isp", 0x480B_C000, 0x4000,
               _module("isp", Port(0x1400, 0x1410, 0x1414, 0x11), 0x4000)),  # MMU at +0x1400
    DeviceSpec("mmu-iva", 0x5D00_0000, 0x1000, _module("mmu-iva", "std")),
    DeviceSpec("mcbsp1", 0x4807_4000, 0x1000, _module("mcbsp1", "mcbsp")),
    DeviceSpec("mcbsp5", 0x4809_6000, 0x1000, _module("mcbsp5", "mcbsp")),
    DeviceSpec("mcbsp2", 0x4902_2000, 0x1000, _module("mcbsp2", "mcbsp")),
    DeviceSpec("mcbsp3", 0x4902_4000, 0x1000, _module("mcbsp3", "mcbsp")),
    DeviceSpec("mcbsp4", 0x4902_6000, 0x1000, _module("mcbsp4", "mcbsp")),
    DeviceSpec("mcbsp2-st", 0x4902_8000, 0x1000, _module("mcbsp2-st", "sidetone")),
    DeviceSpec("mcbsp3-st", 0x4902_A000, 0x1000, _module("mcbsp3-st", "sidetone")),
    DeviceSpec("sham", 0x480C_3000, 0x1000, _module("sham", "sha")),
    DeviceSpec("aes1", 0x480A_6000, 0x1000, _module("aes1", "aes")),
    DeviceSpec("aes2", 0x480C_5000, 0x1000, _module("aes2", "aes")),
    DeviceSpec("rng", 0x480A_0000, 0x1000, _module("rng", "rng")),
    DeviceSpec("usb-tll", 0x4806_2000, 0x1000, _module("usb-tll", "std")),
    DeviceSpec("usb-host", 0x4806_4000, 0x1000, _module("usb-host", "std")),
    DeviceSpec("usb-otg", 0x480A_B000, 0x1000, _module("usb-otg", "otg")),
    # DSS core, DISPC, RFBI, VENC share one 4 KiB window; DSI sits just below it
    DeviceSpec("dss", 0x4805_0000, 0x1000, _module("dss", (
        _std, Port(0x400, 0x410, 0x414), Port(0x800, 0x810, 0x814), Port(0xC00, None, None)))),
    DeviceSpec("dsi", 0x4804_F000, 0x1000, _module("dsi", Port(0xC00, 0xC10, 0xC14))),
    DeviceSpec("ssi", 0x4805_8000, 0x2000, _module("ssi", "std", 0x2000)),
    DeviceSpec("smartreflex-mpu", 0x480C_9000, 0x1000, _module("smartreflex-mpu", "smartreflex")),
    DeviceSpec("smartreflex-core", 0x480C_B000, 0x1000,
               _module("smartreflex-core", "smartreflex")),
    DeviceSpec("sgx", 0x5000_0000, 0x10000, _module("sgx", "sgx", 0x10000)),
    # L3 interconnect agents and the SRAM/SMS firewalls (0x6801_xxxx)
    DeviceSpec("l3", 0x6800_0000, 0x20000, _module("l3", "none", 0x20000)),
]

#: the same table under the SoC's name
DM3730_DEVICES = SOC_DEVICES


def device_by_name(name: str) -> DeviceSpec:
    for spec in SOC_DEVICES:
        if spec.name == name:
            return spec
    raise KeyError(name)
