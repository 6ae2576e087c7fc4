"""GDB remote commands: one packet payload in, the replies (and what the server must do) out.

:class:`CommandHandler` is synchronous and owns the per-connection protocol state (no-ack mode
negotiated, physical-memory mode, the last stop, whether gdb understands ``swbreak``). It calls
the :class:`~.target.Target`, which may block: the server runs :meth:`CommandHandler.handle` in a
worker thread. Malformed arguments give ``E01``, an inaccessible address ``E14`` (EFAULT, as
gdbserver and QEMU answer), an unknown command the empty reply.
"""

from __future__ import annotations

import binascii
import logging
from dataclasses import dataclass, field

from . import tdesc
from .monitor_cmds import MonitorContext, run_monitor
from .packets import MAX_PACKET, escape
from .target import SIGTRAP, BpType, StopEvent, Target

log = logging.getLogger("hvd.gdbstub")

E_ARG = b"E01"
E_FAULT = b"E14"
E_NOT_RUNNING = b"E03"
OK = b"OK"
THREAD_ID = 1


class BadArgs(Exception):
    """A packet's arguments do not parse."""


@dataclass
class Response:
    """What to send and do after a packet.

    ``packets`` are payloads to frame and send in order. ``resume`` is ``"c"`` or ``"s"`` when the
    target was resumed (the stop reply comes later, from the stop callback). ``no_ack`` asks the
    framing layer to leave ack mode after sending the first packet; ``close`` ends the session.
    """

    packets: list[bytes] = field(default_factory=list)
    resume: str | None = None
    no_ack: bool = False
    close: bool = False


def _hex_int(text: bytes) -> int:
    if not text or len(text) > 16:
        raise BadArgs(text)
    try:
        return int(text, 16)
    except ValueError:
        raise BadArgs(text) from None


def _unhex(text: bytes) -> bytes:
    try:
        return binascii.unhexlify(text)
    except (binascii.Error, ValueError):
        raise BadArgs(text) from None


def _le_hex(value: int, size: int) -> bytes:
    return (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little").hex().encode()


def stop_reply(ev: StopEvent, *, swbreak: bool = True) -> bytes:
    """The ``T``/``W``/``X`` packet for a stop."""
    if ev.kind == "exited":
        return b"W%02x" % (ev.status & 0xFF)
    if ev.kind == "terminated":
        return b"X%02x" % (ev.signal & 0xFF)
    out = b"T%02xthread:%02x;" % (ev.signal & 0xFF, THREAD_ID)
    if ev.kind == "swbreak" and swbreak:
        out += b"swbreak:;"
    elif ev.kind == "hwbreak" and swbreak:
        out += b"hwbreak:;"
    elif ev.kind in ("watch", "rwatch", "awatch"):
        out += ev.kind.encode() + b":%x;" % ev.addr
    return out


def _addr_len(args: bytes) -> tuple[int, int]:
    a, sep, n = args.partition(b",")
    if not sep:
        raise BadArgs(args)
    return _hex_int(a), _hex_int(n)


class CommandHandler:
    """The command dispatcher of one gdb connection."""

    def __init__(self, target: Target, *, max_packet: int = MAX_PACKET) -> None:
        self.target = target
        self.max_packet = max_packet
        self.phys_mode = False
        self.swbreak = False          # gdb said swbreak+ in qSupported
        self.last_stop = StopEvent("signal", SIGTRAP)
        self.breakpoints: set[tuple[int, int, int]] = set()

    # -- entry point -------------------------------------------------------------------------
    def handle(self, payload: bytes) -> Response:
        """Answer one packet. Never raises for anything the client sends."""
        try:
            return self._dispatch(payload)
        except BadArgs:
            return Response([E_ARG])
        except Exception:  # noqa: BLE001 - a target failure must not end the session
            log.exception("gdb command %r failed", payload[:40])
            return Response([b"E.internal error"])

    def _dispatch(self, p: bytes) -> Response:
        if not p:
            return Response([b""])
        c = p[:1]
        rest = p[1:]
        simple = self._SIMPLE.get(c)
        if simple is not None:
            return simple(self, rest)
        if c == b"q" or c == b"Q":
            return self._query(p)
        if c == b"v":
            return self._v(p)
        return Response([b""])

    # -- stop state ----------------------------------------------------------------------
    def record_stop(self, ev: StopEvent) -> bytes:
        """Remember a stop and return its stop reply (the server sends it)."""
        self.last_stop = ev
        return stop_reply(ev, swbreak=self.swbreak)

    def _status(self, _rest: bytes) -> Response:
        return Response([stop_reply(self.last_stop, swbreak=self.swbreak)])

    # -- registers -----------------------------------------------------------------------
    def _read_regs(self, _rest: bytes) -> Response:
        out = bytearray()
        for reg in tdesc.REGISTERS:
            v = self.target.read_register(reg.regnum)
            out += b"xx" * reg.size if v is None else _le_hex(v, reg.size)
        return Response([bytes(out)])

    def _write_regs(self, rest: bytes) -> Response:
        data = _unhex(rest)
        if len(data) < tdesc.G_PACKET_BYTES // 2 or len(data) > tdesc.G_PACKET_BYTES:
            # gdb sends the whole block; accept at least the core registers
            raise BadArgs(rest)
        off = 0
        for reg in tdesc.REGISTERS:
            if off + reg.size > len(data):
                break
            chunk = data[off:off + reg.size]
            off += reg.size
            if not self.target.write_register(reg.regnum, int.from_bytes(chunk, "little")):
                return Response([E_FAULT])
        return Response([OK])

    def _read_reg(self, rest: bytes) -> Response:
        reg = tdesc.BY_NUM.get(_hex_int(rest))
        if reg is None:
            return Response([E_ARG])
        v = self.target.read_register(reg.regnum)
        return Response([b"xx" * reg.size if v is None else _le_hex(v, reg.size)])

    def _write_reg(self, rest: bytes) -> Response:
        num, sep, val = rest.partition(b"=")
        if not sep:
            raise BadArgs(rest)
        reg = tdesc.BY_NUM.get(_hex_int(num))
        data = _unhex(val)
        if reg is None or len(data) != reg.size:
            return Response([E_ARG])
        ok = self.target.write_register(reg.regnum, int.from_bytes(data, "little"))
        return Response([OK if ok else E_FAULT])

    # -- memory --------------------------------------------------------------------------
    def _read_mem(self, rest: bytes) -> Response:
        addr, length = _addr_len(rest)
        if addr > 0xFFFFFFFF:
            return Response([E_FAULT])
        length = min(length, (self.max_packet - 4) // 2, 0x1_0000_0000 - addr)
        if length == 0:
            return Response([b""])
        data = self.target.read_memory(addr, length, phys=self.phys_mode)
        if not data:
            return Response([E_FAULT])
        return Response([data.hex().encode()])

    def _write_mem_hex(self, rest: bytes) -> Response:
        head, sep, hexdata = rest.partition(b":")
        if not sep:
            raise BadArgs(rest)
        addr, length = _addr_len(head)
        data = _unhex(hexdata)
        if len(data) != length:
            raise BadArgs(rest)
        return self._write_mem(addr, data)

    def _write_mem_bin(self, rest: bytes) -> Response:
        head, sep, data = rest.partition(b":")
        if not sep:
            raise BadArgs(rest)
        addr, length = _addr_len(head)
        if len(data) != length:
            raise BadArgs(rest)
        return self._write_mem(addr, data)

    def _write_mem(self, addr: int, data: bytes) -> Response:
        if not data:
            return Response([OK])
        if addr + len(data) > 0x1_0000_0000:
            return Response([E_FAULT])
        ok = self.target.write_memory(addr, data, phys=self.phys_mode)
        return Response([OK if ok else E_FAULT])

    # -- execution -----------------------------------------------------------------------
    def _resume(self, step: bool, addr_text: bytes) -> Response:
        if self.last_stop.finished:
            return Response([E_NOT_RUNNING])
        if addr_text:
            addr = _hex_int(addr_text)
            thumb = (self.target.read_register(tdesc.CPSR_REGNUM) or 0) & 0x20
            self.target.write_register(15, addr | (1 if thumb else 0))
        return Response(resume="s" if step else "c")

    def _continue(self, rest: bytes) -> Response:
        return self._resume(False, rest)

    def _step(self, rest: bytes) -> Response:
        return self._resume(True, rest)

    def _continue_sig(self, rest: bytes) -> Response:
        # "Csig[;addr]": the signal means nothing to a bare-metal CPU; resume as 'c'
        _sig, _, addr = rest.partition(b";")
        return self._resume(False, addr)

    def _step_sig(self, rest: bytes) -> Response:
        _sig, _, addr = rest.partition(b";")
        return self._resume(True, addr)

    def _vcont(self, rest: bytes) -> Response:
        # vCont;action[:thread];action[:thread]... — the first action that applies to our one
        # thread (no thread given, -1, 0 or our id) wins
        for item in rest.split(b";")[1:]:
            action, _, tid = item.partition(b":")
            if tid and tid not in (b"-1", b"0") and _hex_int(tid) != THREAD_ID:
                continue
            if not action:
                raise BadArgs(rest)
            a = action[:1]
            if a in (b"c", b"C"):
                return self._resume(False, b"")
            if a in (b"s", b"S"):
                return self._resume(True, b"")
            if a == b"t":
                return Response([OK])   # already stopped (all-stop)
            return Response([E_ARG])
        raise BadArgs(rest)

    def _kill(self, _rest: bytes) -> Response:
        self.target.kill()
        self.last_stop = StopEvent("terminated", 9)
        # 'k' has no reply in all-stop mode; the connection closes
        return Response([], close=True)

    def _detach(self, _rest: bytes) -> Response:
        self.target.detach()
        self.breakpoints.clear()
        return Response([OK], close=True)

    # -- breakpoints ---------------------------------------------------------------------
    def _z(self, rest: bytes, insert: bool) -> Response:
        fields = rest.split(b";", 1)[0].split(b",")
        if len(fields) != 3:
            raise BadArgs(rest)
        kind_i = _hex_int(fields[0])
        addr = _hex_int(fields[1])
        length = _hex_int(fields[2])
        if kind_i > 4:
            return Response([b""])
        if addr > 0xFFFFFFFF or length == 0 or length > 0x1000:
            return Response([E_ARG])
        kind = BpType(kind_i)
        key = (kind_i, addr, length)
        if insert:
            ok = self.target.insert_breakpoint(kind, addr, length, phys=self.phys_mode)
            if ok:
                self.breakpoints.add(key)
        else:
            ok = self.target.remove_breakpoint(kind, addr, length)
            self.breakpoints.discard(key)
        return Response([OK if ok else E_FAULT])

    def _insert(self, rest: bytes) -> Response:
        return self._z(rest, True)

    def _remove(self, rest: bytes) -> Response:
        return self._z(rest, False)

    # -- threads -------------------------------------------------------------------------
    def _set_thread(self, _rest: bytes) -> Response:
        return Response([OK])

    def _thread_alive(self, rest: bytes) -> Response:
        try:
            tid = _hex_int(rest)
        except BadArgs:
            return Response([E_ARG])
        return Response([OK if tid == THREAD_ID else b"E01"])

    _SIMPLE = {
        b"?": _status,
        b"g": _read_regs,
        b"G": _write_regs,
        b"p": _read_reg,
        b"P": _write_reg,
        b"m": _read_mem,
        b"M": _write_mem_hex,
        b"X": _write_mem_bin,
        b"c": _continue,
        b"s": _step,
        b"C": _continue_sig,
        b"S": _step_sig,
        b"k": _kill,
        b"D": _detach,
        b"Z": _insert,
        b"z": _remove,
        b"H": _set_thread,
        b"T": _thread_alive,
    }

    # -- q / Q ----------------------------------------------------------------------------
    def _query(self, p: bytes) -> Response:
        name, _, args = p.partition(b":")
        if name == b"qSupported":
            features = args.split(b";") if args else []
            self.swbreak = b"swbreak+" in features
            reply = (b"PacketSize=%x;qXfer:features:read+;vContSupported+;swbreak+;hwbreak+;"
                     b"QStartNoAckMode+" % self.max_packet)
            return Response([reply])
        if p == b"QStartNoAckMode":
            return Response([OK], no_ack=True)
        if p == b"qAttached" or name == b"qAttached":
            return Response([b"1"])
        if p == b"qC":
            return Response([b"QC%x" % THREAD_ID])
        if p == b"qfThreadInfo":
            return Response([b"m%x" % THREAD_ID])
        if p == b"qsThreadInfo":
            return Response([b"l"])
        if p == b"qOffsets":
            return Response([b"Text=0;Data=0;Bss=0"])
        if name == b"qXfer":
            return self._qxfer(args)
        if name.startswith(b"qRcmd,"):
            return self._rcmd(name[6:])
        if name == b"qqemu.PhyMemMode":
            return Response([b"1" if self.phys_mode else b"0"])
        if name.startswith(b"Qqemu.PhyMemMode"):
            return self._set_phys(args)
        if name.startswith(b"qThreadExtraInfo,"):
            return Response([b"CPU#0 [running]".hex().encode()])
        if p == b"qSymbol::":
            return Response([OK])
        return Response([b""])

    def _set_phys(self, args: bytes) -> Response:
        if args == b"1":
            self.phys_mode = True
        elif args == b"0":
            self.phys_mode = False
        else:
            return Response([E_ARG])
        return Response([OK])

    def _qxfer(self, args: bytes) -> Response:
        # features:read:ANNEX:OFFSET,LENGTH
        parts = args.split(b":")
        if len(parts) != 4 or parts[0] != b"features":
            return Response([b""])
        if parts[1] != b"read":
            return Response([b"E00" if parts[1] == b"write" else b""])
        doc = tdesc.DOCUMENTS.get(parts[2].decode("latin-1"))
        if doc is None:
            return Response([b"E00"])
        offset, length = _addr_len(parts[3])
        length = min(length, self.max_packet // 2 - 8)
        chunk = doc[offset:offset + length]
        more = offset + length < len(doc)
        return Response([(b"m" if more else b"l") + escape(chunk)])

    def _rcmd(self, hex_cmd: bytes) -> Response:
        command = _unhex(hex_cmd).decode("utf-8", "replace")
        ctx = MonitorContext(self.target, phys_mode=self.phys_mode)
        output, ok = run_monitor(command, ctx)
        self.phys_mode = ctx.phys_mode
        packets = []
        # long outputs go as several 'O' packets, each within the packet size
        step = (self.max_packet - 8) // 2
        data = output.encode()
        for i in range(0, len(data), step):
            packets.append(b"O" + data[i:i + step].hex().encode())
        # gdb turns an E reply into "Protocol error with Rcmd"; the text already says what
        # went wrong, so the command always ends with OK, as QEMU's monitor does
        del ok
        packets.append(OK)
        return Response(packets)

    # -- v -------------------------------------------------------------------------------
    def _v(self, p: bytes) -> Response:
        if p == b"vCont?":
            return Response([b"vCont;c;C;s;S"])
        if p.startswith(b"vCont;"):
            return self._vcont(p[5:])
        if p == b"vMustReplyEmpty":
            return Response([b""])
        if p.startswith(b"vKill"):
            self.target.kill()
            self.last_stop = StopEvent("terminated", 9)
            return Response([OK], close=True)
        return Response([b""])
