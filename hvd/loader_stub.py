# temporary bring-up helper (removed once hvd.loader lands)
import struct
from dataclasses import dataclass, field
@dataclass
class Seg: addr: int; data: bytes
@dataclass
class Boot:
    segments: list; entry: int; regs: dict = field(default_factory=dict); thumb: bool = False
def load_elf_stub(path, **kw):
    d = open(path,'rb').read()
    entry, phoff = struct.unpack_from('<II', d, 24)[0], struct.unpack_from('<I', d, 28)[0]
    phnum = struct.unpack_from('<H', d, 44)[0]
    segs = []
    for i in range(phnum):
        t, off, va, pa, fsz, msz = struct.unpack_from('<6I', d, phoff + 32*i)
        if t == 1: segs.append(Seg(pa, d[off:off+fsz] + bytes(msz-fsz)))
    return Boot(segs, entry & ~1, {}, bool(entry & 1))
