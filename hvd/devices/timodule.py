"""A generic TI OCP module: the common interconnect registers and nothing else.

Follows the DM3730 TRM's common module description (chapter 1.4 "Module Integration" /
chapter 3.4.2 "Module-level clock and reset management": ``SYSCONFIG``, ``SYSSTATUS``) and the
per-module register maps of the chapters listed in :data:`CLASSES`. Used for every module the
kernel's omap_hwmod / ti-sysc code resets but that hvd does not model: sDMA, mailbox, McSPI,
MMC, USB host/TLL/OTG, HDQ, McBSP (+sidetone), SmartReflex, DSS/DISPC/DSI/RFBI, ISP and IVA MMUs,
SSI, AES, RNG, SHA, SGX and the L3 interconnect / firewall block.

=================  =========  ===  ==========================================================
register           offset     r/w  model
=================  =========  ===  ==========================================================
REVISION           class rev  r    a fixed revision value (bits 31:16 = 0: legacy layout)
SYSCONFIG          class sysc rw   SOFTRESET (bit 1) self-clears and puts every register of
                                   the module back to its reset value; other bits stored
SYSSTATUS          class syss r    bit 0 RESETDONE = 1 (the reset finishes at once)
anything else      -          rw   read-as-written (8/16/32-bit accesses merge into words)
=================  =========  ===  ==========================================================

A module window may hold several OCP ports (DSS core, DISPC, RFBI, VENC share 0x4805_0000);
each (sysc, syss) pair in ``ports`` is handled the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from hvd.devices.base import Device

SOFTRESET = 1 << 1
RESETDONE = 1 << 0


@dataclass(frozen=True)
class Port:
    """One OCP port: where its revision, SYSCONFIG and SYSSTATUS registers are (None: absent)."""

    rev: int | None = 0x00
    sysc: int | None = 0x10
    syss: int | None = 0x14
    rev_value: int = 0x10


#: register offsets by module class (DM3730 TRM chapters; omap3-notes §5.7/§5.8)
CLASSES: dict[str, Port] = {
    # GPT3-11, GPIO, McSPI, mailbox, USB host/TLL, ISP/IVA MMU, SSI, GPMC, DSS, DISPC, DSI
    "std": Port(0x00, 0x10, 0x14),
    "mmc": Port(0x1FC, 0x10, 0x14, 0x31),  # TRM 22.4 (MMCHS_REV at 0x1FC)
    "hdq": Port(0x00, 0x14, 0x18),  # TRM 20.5 HDQ/1-Wire
    "otg": Port(0x400, 0x404, 0x408),  # TRM 22.1 USB OTG (OTG_REVISION/SYSCONFIG/SYSSTATUS)
    "sha": Port(0x5C, 0x60, 0x64),  # SHA2MD5 (SHAM_REV/SYSCONFIG/SYSSTATUS)
    "mcbsp": Port(None, 0x8C, None),  # TRM 21.6 McBSP SYSCONFIG_REG, no status register
    "sidetone": Port(None, 0x10, None),  # McBSP2/3 sidetone ST_SYSCONFIG
    "smartreflex": Port(None, 0x38, None),  # 36xx SmartReflex ERRCONFIG-style SYSCONFIG
    "sdma": Port(0x00, 0x2C, 0x28, 0x40),  # TRM 11.5 DMA4_REVISION/OCP_SYSCONFIG/SYSSTATUS
    "aes": Port(0x44, 0x48, 0x4C),  # AES_REV/SYSCONFIG/SYSSTATUS
    "rng": Port(0x3C, 0x40, 0x44),  # RNG_REV/SYSCONFIG/SYSSTATUS
    "sgx": Port(0xFE00, 0xFE10, None, 0x00010205),  # SGX OCP wrapper (REV, SYSCONFIG)
    "none": Port(None, None, None),  # plain storage (L3 interconnect, firewalls)
}


def _merge(old: int, offset: int, size: int, value: int) -> int:
    """Merge a ``size``-byte write at byte ``offset & 3`` into the 32-bit word ``old``."""
    shift = (offset & 3) * 8
    mask = ((1 << (size * 8)) - 1) << shift
    return (old & ~mask) | ((value << shift) & mask)


def _extract(word: int, offset: int, size: int) -> int:
    return (word >> ((offset & 3) * 8)) & ((1 << (size * 8)) - 1)


class RegFile(Device):
    """Word-addressed read-as-written storage with reset values; the base of most models here.

    Subclasses override :meth:`read_reg` / :meth:`write_reg` (whole 32-bit words, offsets
    word-aligned) for their special registers and call ``super()`` for the rest.
    """

    def __init__(self, name: str, size: int, reset_values: dict[int, int] | None = None) -> None:
        super().__init__(name)
        self.size = size
        self._reset_values: dict[int, int] = dict(reset_values or {})
        self.regs: dict[int, int] = {}
        RegFile.reset(self)

    def reset(self) -> None:
        self.regs = dict(self._reset_values)

    # -- word level ------------------------------------------------------------------------------
    def read_reg(self, off: int) -> int:
        return self.regs.get(off, 0)

    def write_reg(self, off: int, value: int) -> None:
        self.regs[off] = value & 0xFFFFFFFF

    # -- bus level -------------------------------------------------------------------------------
    def read(self, offset: int, size: int) -> int:
        word = self.read_reg(offset & ~3)
        if size == 4 and not offset & 3:
            return word
        return _extract(word, offset, size)

    def write(self, offset: int, size: int, value: int) -> None:
        off = offset & ~3
        if size == 4 and not offset & 3:
            self.write_reg(off, value)
        else:
            self.write_reg(off, _merge(self.read_reg(off), offset, size, value))


class TiModule(RegFile):
    """An otherwise unmodeled TI module: REVISION, SYSCONFIG with SOFTRESET, SYSSTATUS."""

    def __init__(
        self,
        name: str,
        size: int = 0x1000,
        ports: tuple[Port, ...] | Port | str = "std",
        reset_values: dict[int, int] | None = None,
    ) -> None:
        if isinstance(ports, str):
            ports = CLASSES[ports]
        if isinstance(ports, Port):
            ports = (ports,)
        self.ports = ports
        values = dict(reset_values or {})
        self._revs: dict[int, int] = {}
        self._syscs: set[int] = set()
        self._sysss: set[int] = set()
        for p in ports:
            if p.rev is not None:
                self._revs[p.rev] = p.rev_value
            if p.sysc is not None:
                self._syscs.add(p.sysc)
            if p.syss is not None:
                self._sysss.add(p.syss)
        super().__init__(name, size, values)

    def read_reg(self, off: int) -> int:
        rev = self._revs.get(off)
        if rev is not None:
            return rev
        if off in self._sysss:
            return RESETDONE
        if off not in self._syscs:
            self.unmodeled("read", off)  # logged once: storage stands in for the real register
        return self.regs.get(off, 0)

    def write_reg(self, off: int, value: int) -> None:
        if off in self._syscs:
            if value & SOFTRESET:
                self.reset()
                return
        elif off in self._revs or off in self._sysss:
            return  # read-only
        else:
            self.unmodeled("write", off, value)
        self.regs[off] = value & 0xFFFFFFFF
