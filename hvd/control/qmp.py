"""QMP framing and sessions over a trio stream (QEMU's ``interop/qmp-spec`` behaviour).

A session:

1. sends the greeting ``{"QMP": {"version": ..., "capabilities": []}}``;
2. accepts only ``qmp_capabilities`` until negotiated (anything else: ``CommandNotFound``);
3. then runs commands in order: ``{"execute": NAME, "arguments": {...}, "id": ANY}`` is answered
   with ``{"return": ...}`` or ``{"error": {"class": ..., "desc": ...}}``, the ``id`` echoed;
4. delivers events ``{"event": NAME, "data": {...}, "timestamp": {"seconds", "microseconds"}}``
   once negotiated.

Input is split into JSON values by bracket counting (like QEMU's streamer), so newline-delimited
and back-to-back messages both work. Garbage is answered with an error and the connection stays
usable. One message may be at most ``max_message`` bytes and ``MAX_DEPTH`` deep: bigger input is
answered with an error and skipped without being stored. Replies and events go through a bounded
queue; a client that stops reading while events pile up is disconnected.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any, Awaitable, Callable

import trio

log = logging.getLogger("hvd.qmp")

MAX_MESSAGE = 1 << 20
MAX_DEPTH = 1024
QUEUE_SIZE = 512
_GARBAGE_KEEP = 64


class QmpError(Exception):
    """A command failure, sent as ``{"error": {"class": cls, "desc": desc}}``."""

    def __init__(self, desc: str, cls: str = "GenericError") -> None:
        super().__init__(desc)
        self.cls = cls
        self.desc = desc


def timestamp() -> dict[str, int]:
    ns = time.time_ns()
    return {"seconds": ns // 1_000_000_000, "microseconds": (ns // 1000) % 1_000_000}


def event_message(name: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    msg: dict[str, Any] = {"event": name, "timestamp": timestamp()}
    if data is not None:
        msg["data"] = data
    return msg


def encode(msg: dict[str, Any]) -> bytes:
    return json.dumps(msg, separators=(", ", ": ")).encode() + b"\r\n"


# --------------------------------------------------------------------------------------------
# framing
# --------------------------------------------------------------------------------------------
_OUTSIDE = re.compile(rb'[{}\[\]"]')
_INSIDE_STR = re.compile(rb'["\\]')
_WS = b" \t\r\n"


class JsonSplitter:
    """Incrementally split a byte stream into top-level JSON values.

    :meth:`feed` returns a list of ``("value", bytes)`` and ``("error", reason)`` items.
    Memory is bounded by ``max_message`` whatever the input.
    """

    def __init__(self, max_message: int = MAX_MESSAGE, max_depth: int = MAX_DEPTH) -> None:
        self.max_message = max_message
        self.max_depth = max_depth
        self.depth = 0
        self.in_string = False
        self.escape = False
        self.buf = bytearray()
        self.discarding = False
        self.garbage = bytearray()
        self.garbage_len = 0

    def _flush_garbage(self, out: list[tuple[str, Any]]) -> None:
        if not self.garbage_len:
            return
        text = bytes(self.garbage)
        try:
            json.loads(text)
        except (ValueError, RecursionError):
            shown = text[:_GARBAGE_KEEP].decode("utf-8", "replace")
            more = "..." if self.garbage_len > len(text) else ""
            out.append(("error", f"JSON parse error, unexpected input {shown!r}{more}"))
        else:
            out.append(("error", "QMP input must be a JSON object"))
        self.garbage.clear()
        self.garbage_len = 0

    def feed(self, data: bytes) -> list[tuple[str, Any]]:
        out: list[tuple[str, Any]] = []
        i, n = 0, len(data)
        while i < n:
            if self.depth == 0:
                c = data[i]
                if c in _WS:
                    if c == 0x0A:
                        self._flush_garbage(out)
                    i += 1
                    continue
                if c in (0x7B, 0x5B):  # { [
                    self._flush_garbage(out)
                    self.depth = 1
                    self.discarding = False
                    self.buf = bytearray(data[i : i + 1])
                    i += 1
                    continue
                if len(self.garbage) < 4096:
                    self.garbage.append(c)
                self.garbage_len += 1
                i += 1
                continue
            # inside a value
            start = i
            if self.in_string:
                if self.escape:
                    self.escape = False
                    i += 1
                else:
                    m = _INSIDE_STR.search(data, i)
                    if m is None:
                        i = n
                    else:
                        i = m.end()
                        if data[m.start()] == 0x5C:
                            self.escape = True
                        else:
                            self.in_string = False
                self._keep(data, start, i, out)
                continue
            m = _OUTSIDE.search(data, i)
            if m is None:
                i = n
                self._keep(data, start, i, out)
                continue
            i = m.end()
            c = data[m.start()]
            done = False
            if c == 0x22:
                self.in_string = True
            elif c in (0x7B, 0x5B):
                self.depth += 1
                if self.depth > self.max_depth and not self.discarding:
                    self.discarding = True
                    self.buf = bytearray()
                    out.append(("error", f"JSON nesting deeper than {self.max_depth} levels"))
            else:
                self.depth -= 1
                done = self.depth == 0
            self._keep(data, start, i, out)
            if done:
                if not self.discarding:
                    out.append(("value", bytes(self.buf)))
                self.buf = bytearray()
                self.discarding = False
        return out

    def _keep(self, data: bytes, start: int, end: int, out: list[tuple[str, Any]]) -> None:
        if self.discarding:
            return
        self.buf += data[start:end]
        if len(self.buf) > self.max_message:
            self.discarding = True
            self.buf = bytearray()
            out.append(("error", f"QMP input larger than {self.max_message} bytes, discarded"))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_value(raw: bytes) -> Any:
    """Parse one framed value; raises QmpError(GenericError) for bad JSON."""
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise QmpError("JSON parse error, input is not valid UTF-8") from None
    except RecursionError:
        raise QmpError("JSON parse error, nesting too deep") from None
    except ValueError as e:
        raise QmpError(f"JSON parse error, {e}") from None


def _is_disconnect(e: BaseException) -> bool:
    if isinstance(e, BaseExceptionGroup):
        return all(_is_disconnect(x) for x in e.exceptions)
    return isinstance(e, (trio.BrokenResourceError, trio.ClosedResourceError, OSError))


# --------------------------------------------------------------------------------------------
# session
# --------------------------------------------------------------------------------------------
Dispatch = Callable[[str, dict[str, Any]], Awaitable[Any]]


class QmpSession:
    """One client connection. ``dispatch(name, arguments)`` runs a command or raises QmpError."""

    def __init__(
        self,
        stream: trio.abc.Stream,
        dispatch: Dispatch,
        greeting: dict[str, Any],
        *,
        max_message: int = MAX_MESSAGE,
        queue_size: int = QUEUE_SIZE,
        peer: str = "client",
    ) -> None:
        self.stream = stream
        self.dispatch = dispatch
        self.greeting = greeting
        self.max_message = max_message
        self.peer = peer
        self.negotiated = False
        self.closed = False
        self._send, self._recv = trio.open_memory_channel[Any](queue_size)
        self._cancel: trio.CancelScope | None = None
        self._flushes: set[trio.Event] = set()

    # -- called by the daemon --------------------------------------------------------------
    def post_event(self, msg: dict[str, Any]) -> bool:
        """Queue an event (never blocks). A client too slow to take it is disconnected."""
        if self.closed or not self.negotiated:
            return False
        try:
            self._send.send_nowait(msg)
            return True
        except trio.WouldBlock:
            log.warning("QMP %s does not read its events; disconnecting it", self.peer)
            self.close()
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            pass
        return False

    async def flush(self) -> None:
        """Wait until everything queued so far has been written (or the session ended)."""
        if self.closed:
            return
        done = trio.Event()
        try:
            self._send.send_nowait(done)
        except (trio.WouldBlock, trio.ClosedResourceError, trio.BrokenResourceError):
            return
        self._flushes.add(done)
        await done.wait()
        self._flushes.discard(done)

    def close(self) -> None:
        self.closed = True
        if self._cancel is not None:
            self._cancel.cancel()

    # -- the connection --------------------------------------------------------------------
    async def run(self) -> None:
        try:
            with trio.CancelScope() as scope:
                self._cancel = scope
                if self.closed:
                    scope.cancel()
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._writer)
                    await self._send.send(self.greeting)
                    await self._reader()
                    # EOF: let queued replies go out, then stop the writer
                    with trio.move_on_after(1):
                        await self.flush()
                    nursery.cancel_scope.cancel()
        except Exception as e:  # a broken connection must never reach the daemon
            if not _is_disconnect(e):
                log.exception("QMP %s: session failed", self.peer)
        finally:
            self.closed = True
            self._send.close()
            for ev in list(self._flushes):
                ev.set()
            with trio.CancelScope(shield=True):
                with trio.move_on_after(1):
                    await self.stream.aclose()

    async def _writer(self) -> None:
        try:
            async for item in self._recv:
                if isinstance(item, trio.Event):
                    item.set()
                    continue
                await self.stream.send_all(encode(item))
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            self.close()

    async def _reader(self) -> None:
        splitter = JsonSplitter(self.max_message)
        while True:
            try:
                data = await self.stream.receive_some(65536)
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
                return
            if not data:
                return
            for kind, item in splitter.feed(data):
                if kind == "error":
                    await self._reply({"error": {"class": "GenericError", "desc": item}})
                else:
                    await self._handle(item)

    async def _reply(self, msg: dict[str, Any]) -> None:
        await self._send.send(msg)

    async def _handle(self, raw: bytes) -> None:
        msg: Any = None
        try:
            msg = parse_value(raw)
            name, args = self._check(msg)
            if not self.negotiated:
                if name != "qmp_capabilities":
                    raise QmpError(
                        "Expecting capabilities negotiation with 'qmp_capabilities'",
                        "CommandNotFound",
                    )
                result = self._negotiate(args)
            elif name == "qmp_capabilities":
                raise QmpError(
                    "Capabilities negotiation is already complete, command ignored",
                    "CommandNotFound",
                )
            else:
                result = await self.dispatch(name, args)
            reply: dict[str, Any] = {"return": {} if result is None else result}
        except QmpError as e:
            reply = {"error": {"class": e.cls, "desc": e.desc}}
        except Exception as e:  # a command bug must not kill the connection or the daemon
            log.exception("QMP command failed")
            reply = {"error": {"class": "GenericError", "desc": f"internal error: {e}"}}
        if isinstance(msg, dict) and "id" in msg:
            reply["id"] = msg["id"]
        await self._reply(reply)

    @staticmethod
    def _check(msg: Any) -> tuple[str, dict[str, Any]]:
        if not isinstance(msg, dict):
            raise QmpError("QMP input must be a JSON object")
        if "exec-oob" in msg:
            raise QmpError("QMP input member 'exec-oob' is unexpected: out-of-band is not enabled")
        if "execute" not in msg:
            raise QmpError("QMP input lacks member 'execute'")
        for k in msg:
            if k not in ("execute", "arguments", "id"):
                raise QmpError(f"QMP input member '{k}' is unexpected")
        name = msg["execute"]
        if not isinstance(name, str):
            raise QmpError("QMP input member 'execute' must be a string")
        args = msg.get("arguments", {})
        if not isinstance(args, dict):
            raise QmpError("QMP input member 'arguments' must be an object")
        return name, args

    def _negotiate(self, args: dict[str, Any]) -> dict[str, Any]:
        for k in args:
            if k != "enable":
                raise QmpError(f"Parameter '{k}' is unexpected")
        enable = args.get("enable", [])
        if not isinstance(enable, list) or not all(isinstance(c, str) for c in enable):
            raise QmpError("Invalid parameter type for 'enable', expected: array of strings")
        for cap in enable:
            raise QmpError(f"Capability '{cap}' not available")
        self.negotiated = True
        return {}
