"""ELF executables: 32-bit, little-endian, EM_ARM; PT_LOAD segments become boot segments.

Format facts (System V gABI, "ELF for the Arm Architecture"): e_ident holds the magic
``\\x7fELF``, EI_CLASS (1 = ELFCLASS32), EI_DATA (1 = little endian); e_machine 40 is EM_ARM.
Each PT_LOAD program header (p_type 1) copies p_filesz bytes from p_offset and zero-fills up to
p_memsz. Segments go to p_paddr (the load address); when p_paddr is 0 and p_vaddr lies in
memory, p_vaddr is used. An entry point with bit 0 set is a Thumb entry. An e_entry that is a
virtual address inside a segment loaded elsewhere is translated to that segment's load address,
since the guest starts with the MMU off.
"""

from __future__ import annotations

from construct import Bytes, Const, ConstructError, Int8ul, Int16ul, Int32ul, Struct

from hvd.errors import UsageError
from hvd.loader.image import BootImage, GuestMemory, Segment, hexrange

ELF_MAGIC = b"\x7fELF"
EM_ARM = 40
PT_LOAD = 1
ET_NAMES = {0: "no file type", 1: "relocatable object", 2: "executable", 3: "shared object",
            4: "core dump"}
MACHINES = {2: "SPARC", 3: "x86 (i386)", 8: "MIPS", 20: "PowerPC", 21: "PowerPC64", 22: "S/390",
            40: "ARM", 42: "SuperH", 50: "IA-64", 62: "x86-64", 183: "AArch64", 243: "RISC-V"}

ElfIdent = Struct(
    "magic" / Const(ELF_MAGIC),
    "ei_class" / Int8ul,
    "ei_data" / Int8ul,
    "ei_version" / Int8ul,
    "ei_osabi" / Int8ul,
    "ei_pad" / Bytes(8),
)

# Every Elf32 header field after e_ident is little endian (EI_DATA checked first).
Elf32Header = Struct(
    "ident" / ElfIdent,
    "e_type" / Int16ul,
    "e_machine" / Int16ul,
    "e_version" / Int32ul,
    "e_entry" / Int32ul,
    "e_phoff" / Int32ul,
    "e_shoff" / Int32ul,
    "e_flags" / Int32ul,
    "e_ehsize" / Int16ul,
    "e_phentsize" / Int16ul,
    "e_phnum" / Int16ul,
    "e_shentsize" / Int16ul,
    "e_shnum" / Int16ul,
    "e_shstrndx" / Int16ul,
)

Elf32Phdr = Struct(
    "p_type" / Int32ul,
    "p_offset" / Int32ul,
    "p_vaddr" / Int32ul,
    "p_paddr" / Int32ul,
    "p_filesz" / Int32ul,
    "p_memsz" / Int32ul,
    "p_flags" / Int32ul,
    "p_align" / Int32ul,
)


def is_elf(data: bytes) -> bool:
    return data[:4] == ELF_MAGIC


def _machine_name(machine: int) -> str:
    return MACHINES.get(machine, f"machine {machine}")


def check_header(data: bytes, name: str):
    """Parse and validate the ELF header; return it (a construct Container)."""
    if len(data) < 16:
        raise UsageError(f"{name}: truncated ELF file ({len(data)} bytes)")
    ident = ElfIdent.parse(data[:16])
    if ident.ei_class != 1:
        what = "64-bit (ELFCLASS64)" if ident.ei_class == 2 else f"EI_CLASS {ident.ei_class}"
        machine = ""
        if len(data) >= 20:
            order = "little" if ident.ei_data == 1 else "big"
            machine = f" for {_machine_name(int.from_bytes(data[18:20], order))}"
        raise UsageError(f"{name}: {what} ELF{machine}; hvd runs 32-bit ARM (EM_ARM) executables")
    if ident.ei_data != 1:
        what = "big-endian" if ident.ei_data == 2 else f"EI_DATA {ident.ei_data}"
        raise UsageError(f"{name}: {what} ELF; hvd runs little-endian ARM executables")
    try:
        hdr = Elf32Header.parse(data)
    except ConstructError:
        raise UsageError(f"{name}: truncated ELF header") from None
    if hdr.e_machine != EM_ARM:
        raise UsageError(f"{name}: ELF for {_machine_name(hdr.e_machine)} (e_machine "
                         f"{hdr.e_machine}); hvd runs ARM (EM_ARM = 40) executables")
    if hdr.e_type not in (2, 3):
        raise UsageError(f"{name}: ELF {ET_NAMES.get(hdr.e_type, f'type {hdr.e_type}')}, "
                         f"not an executable (link it first)")
    if hdr.e_phnum == 0:
        raise UsageError(f"{name}: ELF has no program headers")
    if hdr.e_phentsize < Elf32Phdr.sizeof():
        raise UsageError(f"{name}: ELF program header size {hdr.e_phentsize} is too small")
    return hdr


def load_elf(data: bytes, name: str, mem: GuestMemory, *, load_addr: int | None,
             entry: int | None) -> BootImage:
    if load_addr is not None:
        raise UsageError(f"{name}: --load-addr does not apply to an ELF file "
                         f"(its program headers give the addresses)")
    hdr = check_header(data, name)
    segments: list[Segment] = []
    vranges: list[tuple[int, int, int]] = []  # (vaddr, memsz, paddr) for entry translation
    for i in range(hdr.e_phnum):
        off = hdr.e_phoff + i * hdr.e_phentsize
        if off + Elf32Phdr.sizeof() > len(data):
            raise UsageError(f"{name}: truncated ELF (program header {i} beyond end of file)")
        ph = Elf32Phdr.parse(data[off:off + Elf32Phdr.sizeof()])
        if ph.p_type != PT_LOAD or ph.p_memsz == 0:
            continue
        if ph.p_filesz > ph.p_memsz:
            raise UsageError(f"{name}: ELF segment {i} has p_filesz > p_memsz")
        if ph.p_offset + ph.p_filesz > len(data):
            raise UsageError(f"{name}: truncated ELF (segment {i} data beyond end of file)")
        addr = ph.p_paddr
        if addr == 0 and ph.p_vaddr != 0 and mem.contains(ph.p_vaddr, ph.p_memsz):
            addr = ph.p_vaddr
        what = f"ELF segment {i}"
        mem.check_fits(ph.p_memsz, f"{name}: {what}")
        try:
            mem.claim(addr, ph.p_memsz, what)
        except UsageError as exc:
            raise UsageError(f"{name}: {exc}") from None
        body = data[ph.p_offset:ph.p_offset + ph.p_filesz]
        if ph.p_memsz > ph.p_filesz:
            body += bytes(ph.p_memsz - ph.p_filesz)
        segments.append(Segment(addr, body))
        vranges.append((ph.p_vaddr, ph.p_memsz, addr))
    if not segments:
        raise UsageError(f"{name}: ELF has no loadable (PT_LOAD) segments")

    if entry is None:
        entry = hdr.e_entry
        target = entry & ~1
        if not any(s.addr <= target < s.end for s in segments):
            for vaddr, size, paddr in vranges:
                if vaddr <= target < vaddr + size:
                    entry = (target - vaddr + paddr) | (entry & 1)
                    break
    thumb = bool(entry & 1)
    entry &= ~1
    if not mem.contains(entry, 2):
        raise UsageError(f"{name}: entry point 0x{entry:08x} is outside the VM's memory "
                         f"({mem.describe_ram()})")
    total = sum(len(s.data) for s in segments)
    desc = (f"ELF, {len(segments)} segment(s) ({total} bytes): "
            + ", ".join(hexrange(s.addr, len(s.data)) for s in segments)
            + f"; entry 0x{entry:08x}{' (Thumb)' if thumb else ''}")
    return BootImage(segments=segments, entry=entry, thumb=thumb, kind="elf", description=desc)
