"""Editing the guest's flattened device tree (DTB) with libfdt before boot.

What a boot loader tells the kernel through the device tree (Linux
``Documentation/devicetree/usage-model.rst``, the Devicetree Specification sections 3.4-3.6):

- ``/chosen/bootargs``: the kernel command line (``--append``); an existing one is kept when
  no ``--append`` is given.
- ``/chosen/linux,initrd-start`` and ``linux,initrd-end``: physical start and end (exclusive)
  of the initrd, one 32-bit cell each; stale ones are removed when there is no initrd.
- ``/chosen/stdout-path = "serial2:115200n8"``: only when the tree has a ``serial2`` alias
  (UART3 on the BeagleBoard-xM, hvd's console) and ``/chosen`` names no console yet.
- The memory node (``/memory`` or ``/memory@...``, ``device_type = "memory"``): ``reg`` is set
  to the VM's RAM using the root's ``#address-cells`` / ``#size-cells``; extra memory nodes
  are removed, a missing one is created.

``/chosen`` is created when missing. The result is packed (no free space left inside).
"""

from __future__ import annotations

import libfdt

from hvd.errors import UsageError

FDT_MAGIC = 0xD00DFEED
CONSOLE_ALIAS = "serial2"
CONSOLE_PATH = "serial2:115200n8"
_QUIET = (libfdt.NOTFOUND,)


def is_dtb(data: bytes) -> bool:
    return len(data) >= 4 and int.from_bytes(data[:4], "big") == FDT_MAGIC


def _err(exc: libfdt.FdtException) -> str:
    return libfdt.fdt_strerror(exc.err)


def open_dtb(blob: bytes, name: str) -> libfdt.Fdt:
    """Parse and fully check a DTB; raise UsageError naming the problem."""
    if not is_dtb(blob):
        raise UsageError(f"{name}: not a device tree blob (no FDT magic 0xd00dfeed; "
                         f"compile .dts files with dtc)")
    try:
        fdt = libfdt.Fdt(blob)
        if fdt.totalsize() > len(blob):
            raise UsageError(f"{name}: truncated device tree blob (header says "
                             f"{fdt.totalsize()} bytes, file has {len(blob)})")
        libfdt.check_err(libfdt.fdt_check_full(fdt.as_bytearray(), fdt.totalsize()))
        fdt.get_name(0)  # the root node must be there (an FDT_END-only tree passes the check)
    except libfdt.FdtException as exc:
        raise UsageError(f"{name}: unparsable device tree blob ({_err(exc)})") from None
    return fdt


def _cells(fdt: libfdt.Fdt, prop: str, default: int) -> int:
    val = fdt.getprop(0, prop, quiet=_QUIET)
    if isinstance(val, int):
        return default
    return val.as_uint32()


def _encode(value: int, cells: int) -> bytes:
    return value.to_bytes(4 * cells, "big")


def _memory_nodes(fdt: libfdt.Fdt) -> list[str]:
    nodes = []
    off = fdt.first_subnode(0, quiet=_QUIET)
    while off >= 0:
        node = fdt.get_name(off)
        dtype = fdt.getprop(off, "device_type", quiet=_QUIET)
        if node == "memory" or node.startswith("memory@") or (
                not isinstance(dtype, int) and bytes(dtype).rstrip(b"\0") == b"memory"):
            nodes.append("/" + node)
        off = fdt.next_subnode(off, quiet=_QUIET)
    return nodes


def _edit(fdt: libfdt.Fdt, *, ram_base: int, ram_size: int, append: str | None,
          initrd_range: tuple[int, int] | None) -> None:
    chosen = fdt.path_offset("/chosen", quiet=_QUIET)
    if chosen < 0:
        chosen = fdt.add_subnode(0, "chosen")
    if append is not None:
        fdt.setprop_str(chosen, "bootargs", append)
        chosen = fdt.path_offset("/chosen")
    if initrd_range is not None:
        fdt.setprop_u32(chosen, "linux,initrd-start", initrd_range[0])
        fdt.setprop_u32(chosen, "linux,initrd-end", initrd_range[1])
    else:
        fdt.delprop(chosen, "linux,initrd-start", quiet=_QUIET)
        fdt.delprop(chosen, "linux,initrd-end", quiet=_QUIET)
    chosen = fdt.path_offset("/chosen")
    has_console = fdt.hasprop(chosen, "stdout-path") or fdt.hasprop(chosen, "linux,stdout-path")
    if not has_console and fdt.get_alias(CONSOLE_ALIAS):
        fdt.setprop_str(chosen, "stdout-path", CONSOLE_PATH)

    acells = _cells(fdt, "#address-cells", 2)
    scells = _cells(fdt, "#size-cells", 1)
    if ram_base >> (32 * acells) or ram_size >> (32 * scells):
        raise UsageError(f"the device tree's #address-cells/#size-cells ({acells}/{scells}) "
                         f"cannot describe RAM at 0x{ram_base:x} of 0x{ram_size:x} bytes")
    reg = _encode(ram_base, acells) + _encode(ram_size, scells)
    nodes = _memory_nodes(fdt)
    for extra in reversed(nodes[1:]):
        fdt.del_node(fdt.path_offset(extra))
    if nodes:
        mem = fdt.path_offset(nodes[0])
    else:
        mem = fdt.add_subnode(0, f"memory@{ram_base:x}")
        fdt.setprop_str(mem, "device_type", "memory")
        mem = fdt.path_offset(f"/memory@{ram_base:x}")
    fdt.setprop(mem, "reg", reg)


def prepare_dtb(blob: bytes, name: str, *, ram_base: int, ram_size: int,
                append: str | None = None,
                initrd_range: tuple[int, int] | None = None) -> bytes:
    """Return ``blob`` with /chosen and the memory node set for this boot (see module doc).

    The size of the result does not depend on the initrd addresses, only on whether there is an
    initrd: callers may prepare once with a placeholder range to learn the size, place the
    blob, and prepare again with the real range.
    """
    fdt = open_dtb(blob, name)
    room = fdt.totalsize() + len(append or "") + 1024
    try:
        fdt.resize(room)
        _edit(fdt, ram_base=ram_base, ram_size=ram_size, append=append,
              initrd_range=initrd_range)
        fdt.pack()
    except libfdt.FdtException as exc:
        raise UsageError(f"{name}: cannot edit the device tree ({_err(exc)})") from None
    return bytes(fdt.as_bytearray())


def read_chosen(blob: bytes) -> dict[str, object]:
    """The /chosen properties hvd sets and the memory node's reg, decoded (for tests/stats)."""
    fdt = libfdt.Fdt(blob)
    out: dict[str, object] = {}
    chosen = fdt.path_offset("/chosen", quiet=_QUIET)
    if chosen >= 0:
        for prop in ("bootargs", "stdout-path"):
            val = fdt.getprop(chosen, prop, quiet=_QUIET)
            if not isinstance(val, int):
                out[prop] = val.as_str()
        for prop in ("linux,initrd-start", "linux,initrd-end"):
            val = fdt.getprop(chosen, prop, quiet=_QUIET)
            if not isinstance(val, int):
                out[prop] = int.from_bytes(bytes(val), "big")
    nodes = _memory_nodes(fdt)
    if nodes:
        acells = _cells(fdt, "#address-cells", 2)
        reg = bytes(fdt.getprop(fdt.path_offset(nodes[0]), "reg"))
        a = 4 * acells
        out["memory"] = (int.from_bytes(reg[:a], "big"), int.from_bytes(reg[a:], "big"))
        out["memory_nodes"] = nodes
    return out
