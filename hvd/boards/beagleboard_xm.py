"""BeagleBoard-xM: TI DM3730 (one Cortex-A8) with 512 MiB DDR, as Debian's omap3-beagle-xm.dtb
describes it.

Physical memory map (DM3730 TRM, chapter 2 "Memory Mapping", table 2-1 L3/L4 maps):

=====================  ===========  ===========================================
range                  what         hvd
=====================  ===========  ===========================================
0x4000_0000 +112 KiB   boot ROM     read-only zeros (never executed on a GP boot)
0x4020_0000 +64 KiB    OCM SRAM     RAM
0x4800_0000 +16 MiB    L4-Core      MMIO window (includes L4-Wakeup 0x4830_0000)
0x4900_0000 +1 MiB     L4-Per       MMIO window
0x5000_0000 +64 KiB    SGX          MMIO window
0x5400_0000 +8 MiB     L4-Emu       MMIO window
0x5C00_0000 +48 MiB    IVA2.2       MMIO window
0x6800_0000 +16 MiB    L3 config    MMIO window
0x6C00_0000 +48 MiB    SMS/SDRC/GPMC MMIO window
0x8000_0000 +RAM       SDRC CS0     DDR (``--memory``, default 512 MiB, at most 1 GiB)
=====================  ===========  ===========================================

Anything else is not mapped: an access there is a synchronous external abort in the guest.
"""

from __future__ import annotations

import logging
from typing import Callable

from hvd.clock import VirtualClock
from hvd.devices.base import Device, IrqLine
from hvd.devices.counter32k import Counter32k
from hvd.devices.gptimer import GpTimer
from hvd.devices.intc import Intc
from hvd.devices.uart import OmapUart

from .bus import Bus

log = logging.getLogger("hvd.board")

RAM_BASE = 0x8000_0000
DEFAULT_RAM_SIZE = 512 << 20
MAX_RAM_SIZE = 1 << 30
SRAM_BASE = 0x4020_0000
SRAM_SIZE = 64 << 10

WINDOWS = [
    ("l4-core", 0x4800_0000, 0x0100_0000),
    ("l4-per", 0x4900_0000, 0x0010_0000),
    ("sgx", 0x5000_0000, 0x0001_0000),
    ("l4-emu", 0x5400_0000, 0x0080_0000),
    ("iva2", 0x5C00_0000, 0x0300_0000),
    ("l3", 0x6800_0000, 0x0100_0000),
    ("sms-sdrc-gpmc", 0x6C00_0000, 0x0300_0000),
]

INTC_BASE = 0x4820_0000
COUNTER32K_BASE = 0x4832_0000
#: (name, base, INTC line) of UART1-4 (TRM 19.3; UART4 is the 36xx addition)
UARTS = [
    ("uart1", 0x4806_A000, 72),
    ("uart2", 0x4806_C000, 73),
    ("uart3", 0x4902_0000, 74),
    ("uart4", 0x4904_2000, 80),
]
#: (name, base, INTC line) of GPTIMER1-12 (TRM 16.2)
GPTIMERS = [
    ("gptimer1", 0x4831_8000, 37),
    ("gptimer2", 0x4903_2000, 38),
    ("gptimer3", 0x4903_4000, 39),
    ("gptimer4", 0x4903_6000, 40),
    ("gptimer5", 0x4903_8000, 41),
    ("gptimer6", 0x4903_A000, 42),
    ("gptimer7", 0x4903_C000, 43),
    ("gptimer8", 0x4903_E000, 44),
    ("gptimer9", 0x4904_0000, 45),
    ("gptimer10", 0x4808_6000, 46),
    ("gptimer11", 0x4808_8000, 47),
    ("gptimer12", 0x4830_4000, 95),
]


class BeagleBoardXM:
    """The board: bus, devices and their interrupt wiring. A pure model: no sockets, no files."""

    name = "beagleboard-xm"

    def __init__(self, clock: VirtualClock, ram_size: int = DEFAULT_RAM_SIZE) -> None:
        self.clock = clock
        self.ram_base = RAM_BASE
        self.ram_size = ram_size
        self.bus = Bus()
        self.bus.add_ram("ddr", RAM_BASE, ram_size)
        self.bus.add_ram("sram", SRAM_BASE, SRAM_SIZE)
        self.bus.add_ram("bootrom", 0x4000_0000, 0x1C000, readonly=True)
        for name, base, size in WINDOWS:
            self.bus.add_window(name, base, size)
        #: callbacks the VM installs
        self.on_poweroff: Callable[[], None] | None = None
        self.on_reset: Callable[[], None] | None = None
        self.on_irq_output: Callable[[bool, bool], None] | None = None

        self.intc = Intc("intc")
        self.intc.on_output = self._intc_output
        self.bus.attach(INTC_BASE, self.intc)
        self.counter32k = Counter32k("counter32k", clock)
        self.bus.attach(COUNTER32K_BASE, self.counter32k)
        self.uarts: list[OmapUart] = []
        for name, base, line in UARTS:
            u = OmapUart(name, self.intc.line(line))
            self.bus.attach(base, u)
            self.uarts.append(u)
        self.console_uart = self.uarts[2]
        self.gptimers: list[GpTimer] = []
        for name, base, line in GPTIMERS:
            t = GpTimer(name, clock, self.intc.line(line))
            self.bus.attach(base, t)
            self.gptimers.append(t)
        self._attach_soc_devices()

    # -- the rest of the SoC (PRCM, SCM, GPIO, I2C/TWL4030, SDRC, ...) ----------------------------
    def irq(self, n: int) -> IrqLine:
        return self.intc.line(n)

    def poweroff(self) -> None:
        log.info("board powered off")
        if self.on_poweroff is not None:
            self.on_poweroff()

    def reset(self) -> None:
        log.info("board reset requested by the guest")
        if self.on_reset is not None:
            self.on_reset()

    def _attach_soc_devices(self) -> None:
        try:
            from .dm3730_map import SOC_DEVICES
        except ImportError:  # pragma: no cover - during bring-up only
            return
        self.soc_devices: dict[str, Device] = {}
        for spec in SOC_DEVICES:
            dev = spec.factory(self)
            self.bus.attach(spec.base, dev, spec.size)
            self.soc_devices[spec.name] = dev

    def _intc_output(self, irq: bool, fiq: bool) -> None:
        if self.on_irq_output is not None:
            self.on_irq_output(irq, fiq)

    def reset_devices(self) -> None:
        for _base, dev in self.bus.devices:
            dev.reset()
