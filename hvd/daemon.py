"""``hvd serve``: the daemon hosting several VMs.

One trio nursery holds: the QMP control server on a Unix socket (created 0600, or inherited
from systemd socket activation), per-VM services (console fan-out, console TCP server, GDB
server), and the signal watcher (SIGTERM/SIGINT: stop every VM, exit 0). Each VM runs its vCPU
in its own OS thread; every blocking VM call is made from a worker thread so the event loop
never stalls.

VMs come from the config file's ``[vm.NAME]`` tables and from ``hvd-vm-create``; the latter are
written to ``STATE_DIR/vms/NAME.json`` (definition and whether the client wants it running) and
restored on the next start. Console output is logged to ``STATE_DIR/consoles/NAME.log``.

systemd: ``READY=1`` once the socket is listening and VMs are loaded, ``STATUS=`` on changes,
``STOPPING=1`` at shutdown, through ``$NOTIFY_SOCKET``. Log lines carry ``<N>`` priority
prefixes when stderr is connected to the journal.
"""

from __future__ import annotations

import argparse
import functools
import inspect
import json
import logging
import os
import signal
import socket
import stat
import sys
import threading
from pathlib import Path
from typing import Any, Callable

import trio

from hvd.config import ConfigError, DaemonConfig, VmConfig, load_config, LOG_LEVELS
from hvd.console import ConsoleHub, serve_console
from hvd.control.commands import CommandTable, version_info
from hvd.control.qmp import QmpError, QmpSession, encode, event_message
from hvd.errors import HvdError, UsageError

log = logging.getLogger("hvd.daemon")

CALL_TIMEOUT = 30.0
QMP_QUEUE = 4096
MAX_QMP_SESSIONS = 64
SHUTDOWN_TIMEOUT = 10.0


# --------------------------------------------------------------------------------------------
# systemd and logging helpers
# --------------------------------------------------------------------------------------------
def sd_notify(state: str) -> bool:
    """Send a state line to systemd's $NOTIFY_SOCKET; False when not under systemd."""
    addr = os.environ.get("NOTIFY_SOCKET")
    if not addr:
        return False
    if addr.startswith("@"):
        addr = "\0" + addr[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
            s.connect(addr)
            s.sendall(state.encode())
        return True
    except OSError as e:
        log.warning("sd_notify to %s failed: %s", addr, e)
        return False


class _JournalFormatter(logging.Formatter):
    PRIO = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3,
            logging.CRITICAL: 2}

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        prio = self.PRIO.get(record.levelno, 6)
        return "\n".join(f"<{prio}>{line}" for line in text.splitlines())


def _stderr_is_journal() -> bool:
    js = os.environ.get("JOURNAL_STREAM")
    if not js:
        return False
    try:
        dev, ino = (int(x) for x in js.split(":"))
        st = os.fstat(sys.stderr.fileno())
        return st.st_dev == dev and st.st_ino == ino
    except (ValueError, OSError):
        return False


def setup_logging(level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if _stderr_is_journal():
        handler.setFormatter(_JournalFormatter("%(name)s: %(message)s"))
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
        )
    root = logging.getLogger("hvd")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


# --------------------------------------------------------------------------------------------
# the control socket
# --------------------------------------------------------------------------------------------
def _activated_socket() -> socket.socket | None:
    """The control socket passed by systemd socket activation (LISTEN_FDS), if any."""
    try:
        if int(os.environ.get("LISTEN_PID", "0")) != os.getpid():
            return None
        if int(os.environ.get("LISTEN_FDS", "0")) < 1:
            return None
    except ValueError:
        return None
    for k in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):
        os.environ.pop(k, None)
    s = socket.socket(fileno=3)
    s.setblocking(False)
    return s


def bind_control(path: Path) -> socket.socket:
    """Create the Unix control socket with owner-only permissions (refusing a live one)."""
    if len(os.fsencode(path)) >= 107:
        raise UsageError(f"{path}: control socket path is too long (at most 106 bytes)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as e:
        raise UsageError(f"{path.parent}: cannot create directory: {e.strerror}") from None
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        pass
    else:
        if not stat.S_ISSOCK(st.st_mode):
            raise UsageError(f"{path}: exists and is not a socket")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        probe.settimeout(1)
        try:
            probe.connect(str(path))
        except OSError:
            os.unlink(path)  # stale socket of a daemon that is gone
        else:
            raise UsageError(f"{path}: another hvd daemon is listening there")
        finally:
            probe.close()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    old = os.umask(0o177)
    try:
        s.bind(str(path))
    except OSError as e:
        s.close()
        raise UsageError(f"{path}: cannot create control socket: {e.strerror}") from None
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    s.listen(64)
    s.setblocking(False)
    return s


# --------------------------------------------------------------------------------------------
# VM registry
# --------------------------------------------------------------------------------------------
def default_vm_factory(cfg: VmConfig) -> Any:
    from hvd.vm import VM

    return VM(cfg)


class VmEntry:
    def __init__(self, cfg: VmConfig, vm: Any, source: str) -> None:
        self.name = cfg.name
        self.config = cfg
        self.vm = vm
        self.source = source  # "config" or "qmp"
        self.wanted_running = cfg.autostart
        self.hub: ConsoleHub | None = None
        self.console_addr: tuple[str, int] | None = None
        self.gdb_addr: tuple[str, int] | None = None
        self.scope: trio.CancelScope | None = None
        self.services_done = trio.Event()
        self.prev_ports: tuple[tuple[str, int] | None, tuple[str, int] | None] = (None, None)

    @property
    def status(self) -> str:
        try:
            return str(self.vm.status)
        except Exception:
            return "internal-error"


class Daemon:
    """The registry of VMs plus the servers; implements :class:`hvd.control.commands.Context`."""

    def __init__(
        self, cfg: DaemonConfig, vm_factory: Callable[[VmConfig], Any] | None = None
    ) -> None:
        self.cfg = cfg
        self.vm_factory = vm_factory or default_vm_factory
        self.entries: dict[str, VmEntry] = {}
        self.sessions: set[QmpSession] = set()
        self.commands = CommandTable(self)
        self.quit_reason = "host-signal"
        self._restoring = False
        #: replies+events a QMP client may leave unread before it is disconnected
        self.qmp_queue_size = QMP_QUEUE
        self._quit: trio.Event | None = None
        self._nursery: trio.Nursery | None = None
        self._token: trio.lowlevel.TrioToken | None = None
        self._registry_lock: trio.Lock | None = None
        self.control_path: Path | None = None

    # -- paths -----------------------------------------------------------------------------
    @property
    def vms_dir(self) -> Path:
        return self.cfg.state_dir / "vms"

    def console_log(self, name: str) -> Path:
        return self.cfg.state_dir / "consoles" / f"{name}.log"

    # -- main ------------------------------------------------------------------------------
    async def run(self, *, task_status: trio.TaskStatus[Any] = trio.TASK_STATUS_IGNORED) -> None:
        self._quit = trio.Event()
        self._token = trio.lowlevel.current_trio_token()
        self._registry_lock = trio.Lock()
        try:
            self.cfg.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as e:
            raise UsageError(f"{self.cfg.state_dir}: cannot create state directory: {e.strerror}")
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                # signals first: once the socket exists a client (or systemd) may send SIGTERM
                if threading.current_thread() is threading.main_thread():
                    await nursery.start(self._watch_signals)
                sock = _activated_socket()
                if sock is None:
                    sock = bind_control(self.cfg.control)
                    self.control_path = self.cfg.control
                listener = trio.SocketListener(trio.socket.from_stdlib_socket(sock))
                log.info("%s: control socket %s", version_info()["package"], self.cfg.control)
                # clients that connect meanwhile wait in the backlog until every VM is back
                await self._restore()
                nursery.start_soon(trio.serve_listeners, self._serve_qmp, [listener])
                sd_notify("READY=1\n" + self._status_line())
                task_status.started(self)
                await self._quit.wait()
                await self._shutdown()
                nursery.cancel_scope.cancel()
        finally:
            if self.control_path is not None:
                try:
                    os.unlink(self.control_path)
                except OSError:
                    pass
        log.info("stopped")

    def request_quit(self, reason: str = "host-qmp-quit") -> None:
        self.quit_reason = reason
        if self._quit is not None:
            self._quit.set()

    async def _watch_signals(self, *, task_status: trio.TaskStatus[None]) -> None:
        with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
            task_status.started()
            async for sig in signals:
                log.info("%s received: stopping all VMs", signal.Signals(sig).name)
                self.request_quit("host-signal")

    async def _shutdown(self) -> None:
        sd_notify("STOPPING=1\nSTATUS=stopping")
        self.emit("SHUTDOWN", {"guest": False, "reason": self.quit_reason})
        with trio.move_on_after(1):
            async with trio.open_nursery() as n:
                for s in list(self.sessions):
                    n.start_soon(s.flush)
        with trio.move_on_after(SHUTDOWN_TIMEOUT):
            async with trio.open_nursery() as n:
                for e in list(self.entries.values()):
                    n.start_soon(self._stop_vm_thread, e)

    async def _stop_vm_thread(self, e: VmEntry) -> None:
        try:
            await trio.to_thread.run_sync(e.vm.shutdown, abandon_on_cancel=True)
        except Exception as err:
            log.error("VM %s: shutdown failed: %s", e.name, err)
        if e.scope is not None:
            e.scope.cancel()

    # -- QMP -------------------------------------------------------------------------------
    async def _serve_qmp(self, stream: trio.SocketStream) -> None:
        try:  # bound what the kernel holds for a client that stops reading
            stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
        except (OSError, AttributeError):
            pass
        if len(self.sessions) >= MAX_QMP_SESSIONS:
            log.warning("refusing a control connection: %d already open", len(self.sessions))
            with trio.move_on_after(1):
                try:
                    await stream.send_all(encode({"error": {
                        "class": "GenericError", "desc": "too many control connections"}}))
                except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
                    pass
            await trio.aclose_forcefully(stream)
            return
        greeting = {"QMP": {"version": version_info(), "capabilities": []}}
        s = QmpSession(stream, self.commands.dispatch, greeting, peer="control client",
                       queue_size=self.qmp_queue_size)
        self.sessions.add(s)
        try:
            await s.run()
        finally:
            self.sessions.discard(s)

    def emit(self, name: str, data: dict[str, Any] | None = None) -> None:
        msg = event_message(name, data)
        for s in list(self.sessions):
            s.post_event(msg)

    def _vm_event(self, vm_name: str, event: str, data: Any) -> None:
        """VM event listener: called from any thread."""
        payload = dict(data) if isinstance(data, dict) else {}
        payload["vm"] = vm_name
        token = self._token
        if token is None:
            return
        try:
            token.run_sync_soon(self._deliver_vm_event, vm_name, str(event), payload)
        except trio.RunFinishedError:
            pass

    def _deliver_vm_event(self, vm_name: str, event: str, payload: dict[str, Any]) -> None:
        log.info("VM %s: %s %s", vm_name, event, {k: v for k, v in payload.items() if k != "vm"})
        self.emit(event, payload)
        sd_notify(self._status_line())

    def _status_line(self) -> str:
        running = sum(1 for e in self.entries.values() if e.status == "running")
        return f"STATUS={len(self.entries)} VMs, {running} running"

    # -- Context for the command table -----------------------------------------------------
    def list_entries(self) -> list[VmEntry]:
        return [self.entries[k] for k in sorted(self.entries)]

    def lookup(self, name: str | None) -> VmEntry:
        if name is None:
            if len(self.entries) == 1:
                return next(iter(self.entries.values()))
            if not self.entries:
                raise QmpError("No VM exists")
            raise QmpError(
                f"Parameter 'vm' is missing: {len(self.entries)} VMs exist "
                f"({', '.join(sorted(self.entries))})"
            )
        e = self.entries.get(name)
        if e is None:
            raise QmpError(f"VM '{name}' not found")
        return e

    def describe(self, e: VmEntry) -> dict[str, Any]:
        st = e.status
        d: dict[str, Any] = {
            "name": e.name,
            "status": st,
            "running": st == "running",
            "source": e.source,
            "console": None,
            "gdb": None,
            "config": e.config.to_mapping(),
        }
        if e.console_addr:
            d["console"] = {"host": e.console_addr[0], "port": e.console_addr[1]}
        if e.gdb_addr:
            d["gdb"] = {"host": e.gdb_addr[0], "port": e.gdb_addr[1]}
        try:
            es = e.vm.exit_status
        except Exception:
            es = None
        if es is not None:
            d["exit-status"] = es
        return d

    async def call(self, e: VmEntry, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a blocking VM method in a worker thread; errors become QmpError."""
        what = getattr(fn, "__name__", "call")
        with trio.move_on_after(CALL_TIMEOUT) as scope:
            try:
                return await trio.to_thread.run_sync(
                    functools.partial(fn, *args), abandon_on_cancel=True
                )
            except QmpError:
                raise
            except HvdError as err:
                raise QmpError(f"VM '{e.name}': {err}") from None
            except Exception as err:
                log.exception("VM %s: %s failed", e.name, what)
                raise QmpError(f"VM '{e.name}': {what} failed: {err}") from None
        assert scope.cancelled_caught
        raise QmpError(f"VM '{e.name}': {what} did not finish within {CALL_TIMEOUT:.0f} s")

    async def start_vm(self, e: VmEntry) -> None:
        await self.call(e, e.vm.start)
        await self.set_wanted(e, True)
        sd_notify(self._status_line())

    async def set_wanted(self, e: VmEntry, running: bool) -> None:
        """Remember whether the client wants the VM running, across daemon restarts."""
        if e.wanted_running == running and e.name in self.entries and not self._restoring:
            return
        e.wanted_running = running
        if e.name not in self.entries:
            return
        if e.source == "qmp":
            self._persist(e)
        elif not self._restoring:
            self._save_config_runstate()

    @property
    def runstate_file(self) -> Path:
        return self.cfg.state_dir / "config-vms.json"

    def _save_config_runstate(self) -> None:
        """Run state of the config file's VMs as clients left it (overrides ``autostart``)."""
        data = {n: e.wanted_running for n, e in self.entries.items() if e.source == "config"}
        try:
            _write_private(self.runstate_file, json.dumps(data, indent=2) + "\n", sync=False)
        except OSError as err:
            log.error("cannot save %s: %s", self.runstate_file, err)

    def _load_config_runstate(self) -> dict[str, bool]:
        try:
            data = json.loads(self.runstate_file.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as err:
            log.error("%s: ignored: %s", self.runstate_file, err)
            return {}
        if not isinstance(data, dict):
            return {}
        return {k: v for k, v in data.items() if isinstance(v, bool)}

    async def create_vm(self, cfg: VmConfig) -> VmEntry:
        assert self._registry_lock is not None
        async with self._registry_lock:
            if self._quit is not None and self._quit.is_set():
                raise QmpError("the daemon is shutting down")
            if cfg.name in self.entries:
                raise QmpError(f"VM '{cfg.name}' already exists")
            e = await self._add(cfg, "qmp")
            self._persist(e)
        if cfg.autostart:
            await self.start_vm(e)
        return e

    async def destroy_vm(self, e: VmEntry) -> None:
        assert self._registry_lock is not None
        if e.source == "config":
            raise QmpError(
                f"VM '{e.name}' is defined in {self.cfg.source}: remove it there, not over QMP"
            )
        async with self._registry_lock:
            if self.entries.get(e.name) is not e:
                raise QmpError(f"VM '{e.name}' not found")
            del self.entries[e.name]
            try:
                (self.vms_dir / f"{e.name}.json").unlink()
            except FileNotFoundError:
                pass
            await self._stop_vm_thread(e)
            await e.services_done.wait()
        self.emit("HVD_VM_DESTROYED", {"vm": e.name})
        sd_notify(self._status_line())
        log.info("VM %s destroyed", e.name)

    # -- building VMs ----------------------------------------------------------------------
    def _check_ports(self, cfg: VmConfig) -> None:
        mine = [ep for ep in (cfg.serial_tcp, cfg.gdb_tcp) if ep and ep[1]]
        for other in self.entries.values():
            theirs = {
                other.console_addr, other.gdb_addr, other.config.serial_tcp, other.config.gdb_tcp
            }
            for ep in mine:
                if ep in theirs:
                    raise QmpError(f"{ep[0]}:{ep[1]} is already used by VM '{other.name}'")

    async def _build(self, cfg: VmConfig) -> Any:
        try:
            return await trio.to_thread.run_sync(self.vm_factory, cfg)
        except HvdError as err:
            raise QmpError(f"VM '{cfg.name}': {err}") from None
        except Exception as err:
            log.exception("VM %s: cannot be built", cfg.name)
            raise QmpError(f"VM '{cfg.name}': cannot be built: {err}") from None

    async def _attach(self, e: VmEntry, scrollback: bytes = b"") -> None:
        """Connect a freshly built VM to its console hub, events and services."""
        cfg, vm = e.config, e.vm
        e.hub = ConsoleHub(cfg.name, vm.console_input, cfg.serial_file or self.console_log(cfg.name))
        e.hub.scrollback += scrollback
        e.services_done = trio.Event()
        # a rebuilt VM keeps the ports it had (matters when the config asked for port 0)
        e.prev_ports = (e.console_addr, e.gdb_addr)
        e.console_addr = e.gdb_addr = None
        vm.add_console_listener(e.hub.guest_output)
        vm.add_event_listener(functools.partial(self._vm_event, cfg.name))
        assert self._nursery is not None
        try:
            await self._nursery.start(self._vm_services, e)
        except BaseException as err:
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(vm.shutdown, abandon_on_cancel=True)
            hvderr = _find(err, HvdError)
            if hvderr is not None:
                raise QmpError(f"VM '{cfg.name}': {hvderr}") from None
            oserr = _find(err, OSError)
            if oserr is not None:
                raise QmpError(
                    f"VM '{cfg.name}': cannot listen: {oserr.strerror or oserr}"
                ) from None
            raise

    async def _add(self, cfg: VmConfig, source: str) -> VmEntry:
        self._check_ports(cfg)
        e = VmEntry(cfg, await self._build(cfg), source)
        await self._attach(e)
        self.entries[cfg.name] = e
        self.emit("HVD_VM_CREATED", {"vm": cfg.name})
        sd_notify(self._status_line())
        log.info("VM %s created (%s)", cfg.name, source)
        return e

    async def rebuild_vm(self, e: VmEntry) -> None:
        """Replace a VM that shut down or failed with a fresh one from its definition (status
        ``prelaunch``); console clients reconnect, the scrollback is kept."""
        assert self._registry_lock is not None
        async with self._registry_lock:
            if self.entries.get(e.name) is not e:
                raise QmpError(f"VM '{e.name}' not found")
            await self._stop_vm_thread(e)
            await e.services_done.wait()
            scrollback = bytes(e.hub.scrollback) if e.hub else b""
            try:
                e.vm = await self._build(e.config)
            except QmpError:
                # keep the entry (status of the old VM) so the client can see and destroy it
                raise
            await self._attach(e, scrollback)
        log.info("VM %s rebuilt", e.name)

    async def _vm_services(self, e: VmEntry, *, task_status: trio.TaskStatus[None]) -> None:
        assert e.hub is not None
        started = False
        try:
            with trio.CancelScope() as scope:
                e.scope = scope
                async with trio.open_nursery() as n:
                    n.start_soon(e.hub.pump)
                    ep = e.config.serial_tcp
                    if ep is not None and ep[1] == 0 and e.prev_ports[0]:
                        ep = (ep[0], e.prev_ports[0][1])
                    if ep is not None:
                        e.console_addr = await n.start(serve_console, e.hub, ep[0], ep[1])
                        log.info("VM %s: console on %s:%d", e.name, *e.console_addr)
                    if e.config.gdb_tcp is not None:
                        await self._start_gdb(n, e)
                    task_status.started()
                    started = True
        except Exception as err:
            if not started:
                raise
            log.error("VM %s: console/gdb service failed: %r", e.name, err)
        finally:
            e.services_done.set()

    async def _start_gdb(self, n: trio.Nursery, e: VmEntry) -> None:
        try:
            from hvd.gdbstub.server import serve_gdb  # type: ignore[import-not-found]
        except ImportError:
            log.warning("VM %s: no GDB stub in this build; gdb port not opened", e.name)
            return
        assert e.config.gdb_tcp is not None
        host, port = e.config.gdb_tcp
        if port == 0 and e.prev_ports[1]:
            port = e.prev_ports[1][1]
        fn = functools.partial(serve_gdb, e.vm, host, port, wait=e.config.gdb_wait)
        if inspect.iscoroutinefunction(serve_gdb):
            if "task_status" in inspect.signature(serve_gdb).parameters:
                try:
                    addr = await n.start(fn)
                except Exception as group:  # a stub still being written
                    err = _find(group, ImportError)
                    if err is None:
                        raise
                    log.warning("VM %s: GDB stub unavailable (%s); gdb port not opened",
                                e.name, err)
                    return
                if isinstance(addr, int):
                    e.gdb_addr = (host, addr)
                elif isinstance(addr, (tuple, list)) and len(addr) >= 2:
                    e.gdb_addr = (str(addr[0]), int(addr[1]))
                else:
                    e.gdb_addr = (host, port)
            else:
                n.start_soon(fn)
                e.gdb_addr = (host, port)
        else:
            n.start_soon(functools.partial(trio.to_thread.run_sync, fn, abandon_on_cancel=True))
            e.gdb_addr = (host, port)
        log.info("VM %s: gdb on %s:%d", e.name, *e.gdb_addr)

    # -- persistence -----------------------------------------------------------------------
    def _persist(self, e: VmEntry) -> None:
        data = {"version": 1, "config": e.config.to_mapping(), "running": e.wanted_running}
        try:
            self.vms_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            _write_private(self.vms_dir / f"{e.name}.json", json.dumps(data, indent=2) + "\n")
        except OSError as err:
            log.error("VM %s: cannot save definition: %s", e.name, err)

    def _load_persisted(self) -> list[tuple[VmConfig, bool]]:
        out = []
        if not self.vms_dir.is_dir():
            return out
        for p in sorted(self.vms_dir.glob("*.json")):
            try:
                data = json.loads(p.read_text())
                if not isinstance(data, dict) or not isinstance(data.get("config"), dict):
                    raise ValueError("not an hvd VM definition")
                conf = dict(data["config"])
                conf.pop("name", None)
                cfg = VmConfig.from_mapping(conf, str(p), name=p.stem, daemon=True)
                out.append((cfg, bool(data.get("running", False))))
            except ConfigError as err:
                for line in err.errors:
                    log.error("%s", line)
            except (OSError, ValueError) as err:
                log.error("%s: cannot restore: %s", p, err)
        return out

    async def _restore(self) -> None:
        self._restoring = True
        try:
            await self._restore_all()
        finally:
            self._restoring = False

    async def _restore_all(self) -> None:
        runstate = self._load_config_runstate()
        todo: list[tuple[VmConfig, str, bool]] = [
            (cfg, "config", runstate.get(cfg.name, cfg.autostart))
            for cfg in self.cfg.vms.values()
        ]
        for cfg, running in self._load_persisted():
            if cfg.name in self.cfg.vms:
                log.warning("VM %s: defined in the config file; ignoring the saved one", cfg.name)
                continue
            todo.append((cfg, "qmp", running))
        for cfg, source, running in todo:
            try:
                e = await self._add(cfg, source)
                e.wanted_running = running
                if running:
                    await self.start_vm(e)
            except QmpError as err:
                log.error("VM %s: %s", cfg.name, err.desc)
            except Exception as err:  # one broken VM must not keep the others down
                log.exception("VM %s: cannot be restored: %r", cfg.name, err)


def _write_private(path: Path, text: str, *, sync: bool = True) -> None:
    """Atomically replace ``path`` with ``text``, readable by the owner only."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
        f.flush()
        if sync:
            os.fsync(f.fileno())
    os.replace(tmp, path)


def _find(err: BaseException, kind: type[Any]) -> Any:
    """The first ``kind`` exception in ``err`` or its (nested) exception groups."""
    if isinstance(err, kind):
        return err
    if isinstance(err, BaseExceptionGroup):
        for sub in err.exceptions:
            found = _find(sub, kind)
            if found is not None:
                return found
    return None


# --------------------------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------------------------
def add_serve_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", "-c", metavar="FILE", help="TOML configuration file")
    p.add_argument("--control", metavar="PATH", help="control socket (overrides [daemon] control)")
    p.add_argument("--state-dir", metavar="DIR", help="state directory (overrides [daemon])")
    p.add_argument("--log-level", choices=LOG_LEVELS, help="log verbosity")


def add_serve_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``serve`` on an argparse sub-parser set; the handler is ``args.func(args)``."""
    p = sub.add_parser(
        "serve", help="run the daemon hosting the configured VMs",
        description="Host the VMs of a TOML config file and those created over the QMP control "
        "socket; SIGTERM or SIGINT stops every VM and exits 0. See examples/hvd.toml.")
    add_serve_arguments(p)
    p.set_defaults(func=serve_from_args)
    return p


def serve_from_args(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    if args.control:
        cfg.control = Path(args.control).absolute()
    if args.state_dir:
        cfg.state_dir = Path(args.state_dir).absolute()
    if args.log_level:
        cfg.log_level = args.log_level
    setup_logging(cfg.log_level)
    daemon = Daemon(cfg)
    try:
        trio.run(daemon.run)
    except KeyboardInterrupt:
        pass
    except BaseExceptionGroup as group:
        err = _find(group, HvdError)
        if err is not None:
            raise err from None
        if _find(group, KeyboardInterrupt) is None:
            raise
    _exit_if_threads_linger()
    return 0


def _exit_if_threads_linger() -> None:
    """Every VM has been told to stop. A vCPU thread that is still inside the emulator would
    crash the interpreter's teardown, so in that case leave at once (state is already saved)."""
    stuck = [
        t.name for t in threading.enumerate()
        if t is not threading.main_thread() and t.is_alive()
        and not t.name.startswith("Trio thread ")
    ]
    if stuck:
        log.warning("threads still running after shutdown (%s); exiting now", ", ".join(stuck))
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def serve_main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="hvd serve", description="hvd daemon")
    add_serve_arguments(p)
    args = p.parse_args(argv)
    try:
        return serve_from_args(args)
    except HvdError as e:
        print(f"hvd serve: {e}", file=sys.stderr)
        return e.status


if __name__ == "__main__":
    sys.exit(serve_main())
