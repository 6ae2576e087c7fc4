"""``hvd ctl``: the command-line client of a running ``hvd serve``.

It speaks QMP over the control socket (a small blocking client: greeting, ``qmp_capabilities``,
``execute`` with ids, events skipped) and telnet to a VM's console.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import select
import socket
import sys
import time
from pathlib import Path
from typing import Any, Iterator

from hvd.config import default_control
from hvd.errors import HvdError, UsageError

ESCAPE = 0x1D  # Ctrl-]


class CtlError(HvdError):
    status = 1


# --------------------------------------------------------------------------------------------
# QMP client
# --------------------------------------------------------------------------------------------
class QmpClient:
    def __init__(self, path: str | os.PathLike[str], timeout: float = 60.0) -> None:
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(self.path)
        except OSError as e:
            self.sock.close()
            raise CtlError(
                f"cannot connect to {self.path}: {e.strerror or e} (is 'hvd serve' running?)"
            ) from None
        self._buf = b""
        self._ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []
        self.greeting = self._read()
        if "QMP" not in self.greeting:
            raise CtlError(f"{self.path}: not a QMP server")
        self.execute("qmp_capabilities")

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "QmpClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _read(self) -> dict[str, Any]:
        while b"\n" not in self._buf:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                raise CtlError(f"{self.path}: no answer from the daemon") from None
            if not data:
                raise CtlError(f"{self.path}: the daemon closed the connection")
            self._buf += data
        line, self._buf = self._buf.split(b"\n", 1)
        try:
            msg = json.loads(line)
        except ValueError:
            raise CtlError(f"{self.path}: malformed reply from the daemon") from None
        if not isinstance(msg, dict):
            raise CtlError(f"{self.path}: malformed reply from the daemon")
        return msg

    def execute(self, name: str, args: dict[str, Any] | None = None) -> Any:
        ident = f"ctl-{next(self._ids)}"
        msg: dict[str, Any] = {"execute": name, "id": ident}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            reply = self._read()
            if "event" in reply:
                self.events.append(reply)
                continue
            if reply.get("id") != ident:
                continue
            if "error" in reply:
                err = reply["error"]
                raise CtlError(f"{err.get('desc', 'error')} ({err.get('class', 'GenericError')})")
            return reply.get("return")


# --------------------------------------------------------------------------------------------
# telnet client for `hvd ctl console`
# --------------------------------------------------------------------------------------------
class TelnetClientFilter:
    """Strips telnet commands from server output and produces the client's replies."""

    def __init__(self) -> None:
        self.state = 0  # 0 data, 1 IAC, 2 option, 3 SB, 4 SB-IAC
        self.cmd = 0
        self.cr = False

    def feed(self, data: bytes) -> tuple[bytes, bytes]:
        out, reply = bytearray(), bytearray()
        for b in data:
            if self.state == 0:
                if b == 255:
                    self.state = 1
                elif self.cr and b == 0:
                    self.cr = False
                else:
                    self.cr = b == 13
                    out.append(b)
            elif self.state == 1:
                if b == 255:
                    out.append(255)
                    self.state = 0
                elif b in (251, 252, 253, 254):
                    self.cmd = b
                    self.state = 2
                elif b == 250:
                    self.state = 3
                else:
                    self.state = 0
            elif self.state == 2:
                self.state = 0
                if self.cmd == 251:  # WILL: we accept ECHO and SGA
                    reply += bytes([255, 253 if b in (1, 3) else 254, b])
                elif self.cmd == 253:  # DO: we perform nothing but SGA
                    reply += bytes([255, 251 if b == 3 else 252, b])
            elif self.state == 3:
                if b == 255:
                    self.state = 4
            else:
                self.state = 0 if b == 240 else 3
        return bytes(out), bytes(reply)


def encode_input(data: bytes) -> bytes:
    data = data.replace(b"\xff", b"\xff\xff")
    return data.replace(b"\r", b"\r\x00").replace(b"\r\x00\n", b"\r\n")


def run_console(host: str, port: int, name: str) -> int:
    try:
        sock = socket.create_connection((host, port), timeout=10)
    except OSError as e:
        raise CtlError(f"cannot connect to the console of {name} at {host}:{port}: {e}") from None
    sock.settimeout(None)
    stdin = sys.stdin.fileno()
    stdout = sys.stdout.buffer
    tty_state = None
    if os.isatty(stdin):
        import termios
        import tty

        tty_state = termios.tcgetattr(stdin)
        tty.setraw(stdin)
        stdout.write(f"Connected to {name}; escape character is '^]'.\r\n".encode())
        stdout.flush()
    filt = TelnetClientFilter()
    stdin_open = True
    try:
        while True:
            rl = [sock] + ([stdin] if stdin_open else [])
            # once input has ended, linger only while output keeps coming
            ready, _, _ = select.select(rl, [], [], None if stdin_open else 1.0)
            if not ready:
                break
            if sock in ready:
                data = sock.recv(65536)
                if not data:
                    break
                text, reply = filt.feed(data)
                if reply:
                    sock.sendall(reply)
                if text:
                    stdout.write(text)
                    stdout.flush()
            if stdin in ready:
                data = os.read(stdin, 4096)
                if not data:
                    stdin_open = False  # keep showing output until the server closes
                    continue
                if tty_state is not None and ESCAPE in data:
                    data = data[: data.index(ESCAPE)]
                    if data:
                        sock.sendall(encode_input(data))
                    break
                sock.sendall(encode_input(data))
    except KeyboardInterrupt:
        pass
    finally:
        if tty_state is not None:
            import termios

            termios.tcsetattr(stdin, termios.TCSADRAIN, tty_state)
            sys.stdout.write("\r\nConnection closed.\n")
            sys.stdout.flush()
        sock.close()
    return 0


# --------------------------------------------------------------------------------------------
# rendering
# --------------------------------------------------------------------------------------------
def _flatten(d: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(d, dict):
        for k, v in d.items():
            yield from _flatten(v, f"{prefix}{k}.")
    else:
        yield prefix.rstrip("."), d


def flatten(d: Any) -> dict[str, Any]:
    return dict(_flatten(d))


#: counters `top` turns into rates: column -> key in the flattened query-hvd-stats result
RATE_KEYS = {
    "instr/s": "cpu.instructions",
    "fills/s": "shadow.fills",
    "TLB ops/s": "shadow.tlb_ops",
    "faults/s": "shadow.guest_faults",
}


def _pick(flat: dict[str, Any], key: str) -> float | None:
    v = flat.get(key)
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    return None  # e.g. shadow counters of a native VM


def _fmt_rate(v: float | None) -> str:
    if v is None:
        return "-"
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if v >= div:
            return f"{v / div:.2f}{unit}"
    return f"{v:.0f}"


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=2))


def cmd_list(c: QmpClient, a: argparse.Namespace) -> int:
    vms = c.execute("hvd-vm-list")
    if a.json:
        _print_json(vms)
        return 0
    from rich.console import Console
    from rich.table import Table

    t = Table(title="hvd VMs")
    for col in ("name", "status", "console", "gdb", "mmu", "memory", "source"):
        t.add_column(col)
    for vm in vms:
        cfg = vm.get("config", {})
        con = vm.get("console")
        gdb = vm.get("gdb")
        t.add_row(
            vm["name"], vm["status"],
            f"{con['host']}:{con['port']}" if con else "-",
            f"{gdb['host']}:{gdb['port']}" if gdb else "-",
            f"{cfg.get('mmu')}/{cfg.get('shadow_sync')}" if cfg.get("mmu") == "shadow"
            else str(cfg.get("mmu")),
            f"{int(cfg.get('memory', 0)) >> 20}M",
            vm.get("source", ""),
        )
    Console().print(t)
    return 0


def _vm_args(a: argparse.Namespace) -> dict[str, Any]:
    return {"vm": a.vm} if getattr(a, "vm", None) else {}


def cmd_status(c: QmpClient, a: argparse.Namespace) -> int:
    r = c.execute("query-status", _vm_args(a))
    if a.json:
        _print_json(r)
    else:
        print(f"{r.get('vm', '')}: {r['status']}")
    return 0


def _simple(name: str):  # type: ignore[no-untyped-def]
    def run(c: QmpClient, a: argparse.Namespace) -> int:
        c.execute(name, _vm_args(a))
        return 0

    return run


def cmd_create(c: QmpClient, a: argparse.Namespace) -> int:
    args: dict[str, Any] = {"name": a.name}
    for k in ("kernel", "dtb", "initrd"):
        v = getattr(a, k)
        if v:
            args[k] = str(Path(v).absolute())
    for k in ("append", "memory", "mmu", "shadow_sync", "serial", "gdb", "clock",
              "load_addr", "entry"):
        v = getattr(a, k)
        if v is not None:
            args[k] = v
    for k in ("semihosting", "autostart"):
        if getattr(a, k):
            args[k] = True
    r = c.execute("hvd-vm-create", args)
    if a.json:
        _print_json(r)
    else:
        con = r.get("console")
        print(f"created {r['name']} ({r['status']})"
              + (f", console on {con['host']}:{con['port']}" if con else ""))
    return 0


def cmd_destroy(c: QmpClient, a: argparse.Namespace) -> int:
    c.execute("hvd-vm-destroy", {"vm": a.vm})
    return 0


def _stats_of(c: QmpClient, vm: str | None) -> list[dict[str, Any]]:
    if vm:
        return [c.execute("query-hvd-stats", {"vm": vm})]
    return [c.execute("query-hvd-stats", {"vm": v["name"]}) for v in c.execute("hvd-vm-list")]


def cmd_stats(c: QmpClient, a: argparse.Namespace) -> int:
    all_stats = _stats_of(c, a.vm)
    if a.json:
        _print_json(all_stats)
        return 0
    from rich.console import Console
    from rich.table import Table

    flats = [flatten(s.get("stats", {})) for s in all_stats]
    keys: list[str] = []
    for f in flats:
        keys += [k for k in f if k not in keys]
    t = Table(title="hvd statistics")
    t.add_column("counter")
    for s in all_stats:
        t.add_column(f"{s['vm']} ({s['status']})", justify="right")
    for k in keys:
        t.add_row(k, *[str(f.get(k, "-")) for f in flats])
    Console().print(t)
    return 0


def cmd_hmp(c: QmpClient, a: argparse.Namespace) -> int:
    args: dict[str, Any] = {"command-line": " ".join(a.command)}
    args.update(_vm_args(a))
    out = c.execute("human-monitor-command", args)
    sys.stdout.write(str(out).replace("\r\n", "\n"))
    return 0


def cmd_console(c: QmpClient, a: argparse.Namespace) -> int:
    vms = {v["name"]: v for v in c.execute("hvd-vm-list")}
    vm = vms.get(a.vm)
    if vm is None:
        raise CtlError(f"VM '{a.vm}' not found")
    con = vm.get("console")
    if not con:
        raise CtlError(f"VM '{a.vm}' has no TCP console (set serial = \"tcp:HOST:PORT\")")
    c.close()
    return run_console(con["host"], con["port"], a.vm)


def cmd_quit(c: QmpClient, a: argparse.Namespace) -> int:
    c.execute("quit")
    return 0


def top_rows(prev: dict[str, tuple[float, dict[str, Any]]], samples: list[dict[str, Any]],
             now: float) -> list[list[str]]:
    """One row per VM: name, status, then the RATE_KEYS rates since the previous sample."""
    rows = []
    for s in samples:
        flat = flatten(s.get("stats", {}))
        row = [s["vm"], s["status"]]
        before = prev.get(s["vm"])
        for keys in RATE_KEYS.values():
            cur = _pick(flat, keys)
            if before is None or cur is None:
                row.append("-")
                continue
            old = _pick(before[1], keys)
            dt = now - before[0]
            row.append(_fmt_rate(max(0.0, (cur - old) / dt)) if old is not None and dt > 0
                       else "-")
        prev[s["vm"]] = (now, flat)
        rows.append(row)
    return rows


def cmd_top(c: QmpClient, a: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.live import Live
    from rich.table import Table

    prev: dict[str, tuple[float, dict[str, Any]]] = {}

    def render() -> Table:
        rows = top_rows(prev, _stats_of(c, None), time.monotonic())
        t = Table(title=f"hvd top — {time.strftime('%H:%M:%S')}")
        for col in ("VM", "status", *RATE_KEYS):
            t.add_column(col, justify="left" if col in ("VM", "status") else "right")
        for r in rows:
            t.add_row(*r)
        return t

    count = 0
    try:
        with Live(render(), console=Console(), auto_refresh=False) as live:
            while a.iterations == 0 or count < a.iterations:
                time.sleep(a.interval)
                live.update(render(), refresh=True)
                count += 1
    except KeyboardInterrupt:
        pass
    return 0


# --------------------------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------------------------
def add_ctl_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--control", metavar="PATH", help="control socket of the daemon")
    p.add_argument("--json", action="store_true", help="print raw JSON results")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print raw JSON results")
    sub = p.add_subparsers(dest="ctl_command", metavar="COMMAND", required=True)
    _add = sub.add_parser

    def add_parser(name: str, **kw: Any) -> argparse.ArgumentParser:
        return _add(name, parents=[common], **kw)

    sub.add_parser = add_parser  # type: ignore[method-assign]
    sub.add_parser("list", help="list VMs").set_defaults(run=cmd_list)
    for name, qmp, text in (
        ("status", None, "show a VM's status"),
        ("start", "hvd-vm-start", "start (or resume) a VM"),
        ("stop", "stop", "pause a VM"),
        ("cont", "cont", "resume a VM"),
        ("reset", "system_reset", "reset a VM's board"),
        ("powerdown", "system_powerdown", "press a VM's power button"),
    ):
        sp = sub.add_parser(name, help=text)
        sp.add_argument("vm", nargs="?", help="VM name (optional with one VM)")
        sp.set_defaults(run=cmd_status if qmp is None else _simple(qmp))
    cp = sub.add_parser("create", help="create a VM (kept across daemon restarts)")
    cp.add_argument("name")
    cp.add_argument("--kernel", required=True)
    cp.add_argument("--dtb")
    cp.add_argument("--initrd")
    cp.add_argument("--append")
    cp.add_argument("--memory")
    cp.add_argument("--load-addr", dest="load_addr")
    cp.add_argument("--entry")
    cp.add_argument("--mmu", choices=("shadow", "native"))
    cp.add_argument("--shadow-sync", dest="shadow_sync", choices=("tlb", "wp"))
    cp.add_argument("--serial", help="tcp:HOST:PORT, file:PATH or none")
    cp.add_argument("--gdb", help="tcp:HOST:PORT")
    cp.add_argument("--clock", choices=("realtime", "warp"))
    cp.add_argument("--semihosting", action="store_true")
    cp.add_argument("--autostart", action="store_true", help="start it right away")
    cp.set_defaults(run=cmd_create)
    dp = sub.add_parser("destroy", help="stop and remove a VM")
    dp.add_argument("vm")
    dp.set_defaults(run=cmd_destroy)
    sp = sub.add_parser("stats", help="the monitor's counters (table)")
    sp.add_argument("vm", nargs="?")
    sp.set_defaults(run=cmd_stats)
    hp = sub.add_parser("hmp", help="human monitor command, e.g. \"info shadow\"")
    hp.add_argument("--vm")
    hp.add_argument("command", nargs="+")
    hp.set_defaults(run=cmd_hmp)
    op = sub.add_parser("console", help="attach to a VM's console (escape: Ctrl-])")
    op.add_argument("vm")
    op.set_defaults(run=cmd_console)
    tp = sub.add_parser("top", help="live view of all VMs: status, guest instructions/s, shadow "
                                     "fills/s, TLB operations/s, guest faults/s")
    tp.add_argument("--interval", type=float, default=1.0, help="seconds between updates")
    tp.add_argument("--iterations", type=int, default=0, help="stop after N updates (0: never)")
    tp.set_defaults(run=cmd_top)
    sub.add_parser("quit", help="stop the daemon").set_defaults(run=cmd_quit)


def add_ctl_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``ctl`` on an argparse sub-parser set; the handler is ``args.func(args)``."""
    p = sub.add_parser(
        "ctl", help="control a running hvd daemon",
        description="Talk to a running 'hvd serve' over its QMP control socket (default: "
        "$HVD_CONTROL, else the daemon's default path for this user).")
    add_ctl_arguments(p)
    p.set_defaults(func=ctl_from_args)
    return p


def ctl_from_args(a: argparse.Namespace) -> int:
    path = Path(a.control) if a.control else Path(
        os.environ.get("HVD_CONTROL") or default_control()
    )
    if getattr(a, "ctl_command", None) == "top" and a.interval <= 0:
        raise UsageError("--interval must be positive")
    client = QmpClient(path)
    try:
        return a.run(client, a)
    finally:
        client.close()


def ctl_main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="hvd ctl", description="control a running hvd daemon")
    add_ctl_arguments(p)
    a = p.parse_args(argv)
    try:
        return ctl_from_args(a)
    except HvdError as e:
        print(f"hvd ctl: {e}", file=sys.stderr)
        return e.status
    except BrokenPipeError:
        return 1


if __name__ == "__main__":
    sys.exit(ctl_main())
