"""``hvd run``: one VM in the foreground, its console on stdio, TCP or a file.

With ``--serial stdio`` on a terminal, the terminal is put in raw mode and Ctrl-A x quits (as in
QEMU); Ctrl-A h lists the escapes; Ctrl-A Ctrl-A sends a literal Ctrl-A.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

import trio

from hvd.config import VmConfig
from hvd.errors import UsageError
from hvd.vm import VM

EXIT_TIMEOUT = 124
CTRL_A = 0x01


class _StdioConsole:
    """stdin -> guest, guest -> stdout, with QEMU-like Ctrl-A escapes on a terminal."""

    def __init__(self, vm: VM, on_quit) -> None:
        self.vm = vm
        self.on_quit = on_quit
        self.tty = os.isatty(0)
        self._saved = None
        self._escape = False
        self._out = sys.stdout.buffer

    def output(self, data: bytes) -> None:
        try:
            self._out.write(data)
            self._out.flush()
        except (BrokenPipeError, ValueError, OSError):
            pass

    def start(self) -> None:
        if self.tty:
            import termios
            import tty

            self._saved = termios.tcgetattr(0)
            tty.setraw(0)
        threading.Thread(target=self._reader, name="stdin", daemon=True).start()

    def restore(self) -> None:
        if self._saved is not None:
            import termios

            termios.tcsetattr(0, termios.TCSADRAIN, self._saved)
            self._saved = None

    def _reader(self) -> None:
        while True:
            try:
                data = os.read(0, 1024)
            except OSError:
                return
            if not data:
                return
            if self.tty:
                data = self._filter(data)
            if data:
                self.vm.console_input(data)

    def _filter(self, data: bytes) -> bytes:
        out = bytearray()
        for b in data:
            if self._escape:
                self._escape = False
                if b in (ord("x"), ord("X")):
                    self.on_quit()
                    return bytes(out)
                if b in (ord("h"), ord("H"), ord("?")):
                    self.output(b"\r\nC-a x    exit hvd\r\nC-a h    this help\r\nC-a C-a  send C-a\r\n")
                elif b == CTRL_A:
                    out.append(CTRL_A)
                continue
            if b == CTRL_A:
                self._escape = True
                continue
            out.append(b)
        return bytes(out)


def run_vm(config: VmConfig, *, timeout: float | None = None, stats: bool = False,
           stats_json: str | None = None) -> int:
    if stats_json:
        parent = Path(stats_json).resolve().parent
        if not parent.is_dir():
            raise UsageError(f"--stats-json: {parent}: no such directory")
    out = sys.stdout.buffer

    def semihost_out(data: bytes) -> None:
        try:
            out.write(data)
            out.flush()
        except (BrokenPipeError, ValueError, OSError):
            pass

    vm = VM(config, semihost_sink=semihost_out)
    console: _StdioConsole | None = None
    quit_requested = threading.Event()

    def request_quit() -> None:
        quit_requested.set()
        vm.shutdown("host-ui")

    serial = config.serial
    log_file = None
    if serial == "stdio":
        console = _StdioConsole(vm, request_quit)
        vm.add_console_listener(console.output)
    elif serial.startswith("file:"):
        try:
            log_file = open(serial[5:], "ab", buffering=0)
        except OSError as e:
            raise UsageError(f"--serial: {serial[5:]}: {e.strerror}") from None
        vm.add_console_listener(log_file.write)

    status: int = 0
    try:
        if console is not None:
            console.start()
        try:
            status = trio.run(_run_async, vm, config, timeout, quit_requested)
        except BaseExceptionGroup as group:
            # a task of the nursery failed (a port in use, say): report its own error
            raise _first_leaf(group) from None
    finally:
        if console is not None:
            console.restore()
        vm.shutdown("host-ui")
        if log_file is not None:
            log_file.close()
    if stats or stats_json:
        report = vm.stats()
        if stats:
            from hvd.monitor.report import print_stats

            print_stats(report)
        if stats_json:
            Path(stats_json).write_text(json.dumps(report, indent=2) + "\n")
    return status


def _first_leaf(group: BaseExceptionGroup) -> BaseException:
    from hvd.errors import HvdError

    leaves: list[BaseException] = []

    def walk(e: BaseException) -> None:
        if isinstance(e, BaseExceptionGroup):
            for sub in e.exceptions:
                walk(sub)
        else:
            leaves.append(e)

    walk(group)
    for e in leaves:
        if isinstance(e, HvdError):
            return e
    return leaves[0] if leaves else group


async def _run_async(vm: VM, config: VmConfig, timeout: float | None,
                     quit_requested: threading.Event) -> int:
    async with trio.open_nursery() as nursery:
        if config.serial.startswith("tcp:"):
            from hvd.console import ConsoleHub, serve_console

            host, port = config.serial_tcp
            hub = ConsoleHub(vm.name, send_input=vm.console_input)
            vm.add_console_listener(hub.guest_output)
            nursery.start_soon(hub.pump)
            try:
                await nursery.start(serve_console, hub, host, port)
            except OSError as e:
                raise UsageError(f"--serial: cannot listen on {host}:{port}: {e.strerror}") from None
        gdb_wait = False
        if config.gdb:
            from hvd.gdbstub.server import serve_gdb

            host, port = config.gdb_tcp
            gdb_wait = config.gdb_wait
            try:
                await nursery.start(lambda task_status=trio.TASK_STATUS_IGNORED: serve_gdb(
                    vm, host, port, wait=gdb_wait, task_status=task_status))
            except OSError as e:
                raise UsageError(f"--gdb: cannot listen on {host}:{port}: {e.strerror}") from None
        if not gdb_wait:
            vm.start()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                status = EXIT_TIMEOUT
                break
            step = 0.5 if left is None else min(0.5, left)
            done = await trio.to_thread.run_sync(vm.wait, step, abandon_on_cancel=True)
            if done:
                if quit_requested.is_set():
                    status = 0
                elif vm.status == "internal-error":
                    print(f"hvd: internal error: {vm.error}", file=sys.stderr)
                    status = 1
                else:
                    status = vm.exit_status or 0
                break
        nursery.cancel_scope.cancel()
    return status
