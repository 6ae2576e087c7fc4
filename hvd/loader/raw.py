"""Raw binaries: the file's bytes at ``--load-addr``, started at ``--entry``.

Defaults: load address = the base of RAM (0x8000_0000 on the BeagleBoard-xM), entry = the load
address, ARM state (an entry with bit 0 set starts in Thumb state). This is what
``arm-none-eabi-objcopy -O binary`` output linked at the base of RAM expects.
"""

from __future__ import annotations

from hvd.errors import UsageError
from hvd.loader.image import BootImage, GuestMemory, Segment, hexrange
from hvd.sizes import format_size


def load_raw(data: bytes, name: str, mem: GuestMemory, *, load_addr: int | None,
             entry: int | None, what: str = "image") -> BootImage:
    addr = mem.ram_base if load_addr is None else load_addr
    mem.check_fits(len(data), f"{name}: {what}")
    try:
        mem.claim(addr, len(data), what)
    except UsageError as exc:
        raise UsageError(f"{name}: {exc}") from None
    if entry is None:
        entry = addr
    thumb = bool(entry & 1)
    entry &= ~1
    if not mem.contains(entry, 2):
        raise UsageError(f"{name}: entry point 0x{entry:08x} is outside the VM's memory "
                         f"({mem.describe_ram()})")
    desc = (f"raw image {hexrange(addr, len(data))} ({format_size(len(data))}), "
            f"entry 0x{entry:08x}{' (Thumb)' if thumb else ''}")
    return BootImage(segments=[Segment(addr, data)], entry=entry, thumb=thumb, kind="raw",
                     description=desc)
