"""The TAP / identification block at 0x4830_A000 (L4-Wakeup), DM3730 TRM chapter 13.4
("System Control Module" register manual, CONTROL_IDCODE / DIE_ID) and chapter 1.5 (device
identification).

=================  ======  ===  ==============================================================
register           offset  r/w  model
=================  ======  ===  ==============================================================
CONTROL_IDCODE     0x204   r    0x2B89102F: version 2 (ES1.2), hawkeye 0xB891 (36xx), TI
                                manufacturer 0x017, bit 0 = 1
CONTROL_PRODUCTION 0x208   r    0x00000000 (production ID, standard part)
_ID
DIE_ID 0..3        0x218   r    fixed, non-zero die id (0x218, 0x21C, 0x220, 0x224): the
                                kernel derives stable MAC addresses from it
anything else      -       r    0, writes ignored
=================  ======  ===  ==============================================================
"""

from __future__ import annotations

from hvd.devices.base import Device

IDCODE_OFFSET = 0x204
PROD_ID_OFFSET = 0x208
DIE_ID_OFFSETS = (0x218, 0x21C, 0x220, 0x224)

#: DM3730 ES1.2: bits 31:28 version 2, 27:12 hawkeye 0xB891, 11:1 manufacturer 0x017, bit 0
IDCODE_DM3730_ES12 = 0x2B89102F
DIE_ID = (0x4856_4400, 0x0000_0001, 0x0123_4567, 0x89AB_CDEF)


class IdCode(Device):
    """Read-only identification registers."""

    size = 0x1000

    def __init__(self, name: str = "tap-id", idcode: int = IDCODE_DM3730_ES12) -> None:
        super().__init__(name)
        self.idcode = idcode
        self._regs = {IDCODE_OFFSET: idcode, PROD_ID_OFFSET: 0}
        self._regs.update(zip(DIE_ID_OFFSETS, DIE_ID))

    def read(self, offset: int, size: int) -> int:
        word = self._regs.get(offset & ~3)
        if word is None:
            self.unmodeled("read", offset)
            return 0
        return (word >> ((offset & 3) * 8)) & ((1 << (size * 8)) - 1)

    def write(self, offset: int, size: int, value: int) -> None:
        self.unmodeled("write", offset, value)
