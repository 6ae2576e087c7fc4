"""The QMP command table: argument specifications and handlers.

Every command's arguments are checked against its specification (unknown, missing and mistyped
arguments are ``GenericError``) before the handler runs, so a refused command has no side effect.
Commands that act on a VM take it as ``vm``; it may be left out when exactly one VM exists.

Handlers talk to the daemon through :class:`Context` (implemented by :class:`hvd.daemon.Daemon`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Protocol

import hvd
from hvd.config import ConfigError, VmConfig
from hvd.control.qmp import QmpError

# QMP RunState names that mean "the vCPU thread exists and can be paused/resumed"
LIVE = ("running", "paused", "debug")
# states a VM only leaves by being rebuilt from its definition
DEAD = ("shutdown", "internal-error")


class Entry(Protocol):
    """One registered VM as the daemon knows it."""

    name: str
    config: VmConfig
    vm: Any

    @property
    def status(self) -> str: ...


class Context(Protocol):
    def lookup(self, name: str | None) -> Entry: ...
    def describe(self, entry: Entry) -> dict[str, Any]: ...
    def list_entries(self) -> list[Entry]: ...
    async def call(self, entry: Entry, fn: Callable[..., Any], *args: Any) -> Any: ...
    async def create_vm(self, cfg: VmConfig) -> Entry: ...
    async def destroy_vm(self, entry: Entry) -> None: ...
    async def start_vm(self, entry: Entry) -> None: ...
    async def set_wanted(self, entry: Entry, running: bool) -> None: ...
    async def rebuild_vm(self, entry: Entry) -> None: ...
    def request_quit(self) -> None: ...


# --------------------------------------------------------------------------------------------
# argument specifications
# --------------------------------------------------------------------------------------------
_TYPE_NAMES = {
    "str": "string",
    "int": "integer",
    "bool": "boolean",
    "size": "size (string or integer)",
    "u32": "address (string or integer)",
}


def _type_ok(kind: str, v: Any) -> bool:
    if kind == "str":
        return isinstance(v, str)
    if kind == "int":
        return isinstance(v, int) and not isinstance(v, bool)
    if kind == "bool":
        return isinstance(v, bool)
    if kind in ("size", "u32"):
        return isinstance(v, (str, int)) and not isinstance(v, bool)
    return True


@dataclass
class Arg:
    name: str
    kind: str = "str"
    required: bool = False


Handler = Callable[[Context, dict[str, Any]], Awaitable[Any]]


@dataclass
class Command:
    name: str
    handler: Handler
    args: list[Arg] = field(default_factory=list)
    takes_vm: bool = False

    def check(self, args: dict[str, Any]) -> None:
        spec = {a.name: a for a in self.args}
        if self.takes_vm:
            spec["vm"] = Arg("vm", "str")
        for k, v in args.items():
            a = spec.get(k)
            if a is None:
                raise QmpError(f"Parameter '{k}' is unexpected")
            if not _type_ok(a.kind, v):
                raise QmpError(
                    f"Invalid parameter type for '{k}', expected: {_TYPE_NAMES[a.kind]}"
                )
        for a in spec.values():
            if a.required and a.name not in args:
                raise QmpError(f"Parameter '{a.name}' is missing")


class CommandTable:
    """Name -> Command; :meth:`dispatch` is what a :class:`~hvd.control.qmp.QmpSession` calls."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.commands: dict[str, Command] = {c.name: c for c in COMMANDS}

    async def dispatch(self, name: str, args: dict[str, Any]) -> Any:
        cmd = self.commands.get(name)
        if cmd is None:
            raise QmpError(f"The command {name} has not been found", "CommandNotFound")
        cmd.check(args)
        return await cmd.handler(self.ctx, args)


# --------------------------------------------------------------------------------------------
# handlers
# --------------------------------------------------------------------------------------------
def _need_live(entry: Entry, what: str) -> None:
    st = entry.status
    if st not in LIVE:
        raise QmpError(f"VM '{entry.name}' is {st}: cannot {what}")


async def query_status(ctx: Context, a: dict[str, Any]) -> Any:
    e = ctx.lookup(a.get("vm"))
    st = e.status
    return {"status": st, "running": st == "running", "vm": e.name}


async def stop(ctx: Context, a: dict[str, Any]) -> Any:
    e = ctx.lookup(a.get("vm"))
    st = e.status
    if st == "prelaunch":
        return {}
    _need_live(e, "stop")
    await ctx.call(e, e.vm.pause)
    await ctx.set_wanted(e, False)
    return {}


async def cont(ctx: Context, a: dict[str, Any]) -> Any:
    e = ctx.lookup(a.get("vm"))
    st = e.status
    if st == "prelaunch":
        await ctx.start_vm(e)
        return {}
    if st in DEAD:
        raise QmpError(f"VM '{e.name}' is {st}: use system_reset or hvd-vm-start to boot it again")
    _need_live(e, "continue")
    await ctx.call(e, e.vm.resume)
    await ctx.set_wanted(e, True)
    return {}


async def system_reset(ctx: Context, a: dict[str, Any]) -> Any:
    e = ctx.lookup(a.get("vm"))
    if e.status in DEAD:  # like QEMU: a reset boots a machine that has shut down
        await ctx.rebuild_vm(e)
        await ctx.start_vm(e)
        return {}
    await ctx.call(e, e.vm.reset)
    return {}


async def system_powerdown(ctx: Context, a: dict[str, Any]) -> Any:
    e = ctx.lookup(a.get("vm"))
    _need_live(e, "power down")
    await ctx.call(e, e.vm.powerdown)
    return {}


async def quit_(ctx: Context, a: dict[str, Any]) -> Any:
    ctx.request_quit()
    return {}


async def query_version(ctx: Context, a: dict[str, Any]) -> Any:
    return version_info()


def version_info() -> dict[str, Any]:
    parts = (hvd.__version__.split(".") + ["0", "0", "0"])[:3]
    nums = [int(p) if p.isdigit() else 0 for p in parts]
    return {
        "qemu": {"major": nums[0], "minor": nums[1], "micro": nums[2]},
        "package": f"hvd {hvd.__version__}",
    }


async def query_commands(ctx: Context, a: dict[str, Any]) -> Any:
    return [{"name": n} for n in sorted(set(c.name for c in COMMANDS) | {"qmp_capabilities"})]


HMP_HELP = (
    "info status    -- show the VM status\r\n"
    "info registers -- show the vCPU registers\r\n"
    "info shadow    -- show the shadow-paging monitor state\r\n"
    "info tlb       -- show the guest's mappings\r\n"
)
HMP_VM = ("info registers", "info shadow", "info tlb")


async def human_monitor_command(ctx: Context, a: dict[str, Any]) -> Any:
    line = " ".join(a["command-line"].split())
    if a.get("cpu-index", 0) != 0:
        raise QmpError(f"Parameter 'cpu-index' expects a CPU index (this board has one CPU: 0)")
    e = ctx.lookup(a.get("vm"))
    if line == "":
        return ""
    if line in ("help", "info", "help info"):
        return HMP_HELP
    if line == "info status":
        st = e.status
        return f"VM status: {st}\r\n"
    if " ".join(line.split()[:2]) in HMP_VM:  # may carry arguments for the VM to parse
        out = await ctx.call(e, e.vm.hmp, line)
        out = str(out)
        return out if out.endswith("\n") else out + "\r\n"
    return f"unknown command: '{line}'\r\n"


async def vm_list(ctx: Context, a: dict[str, Any]) -> Any:
    return [ctx.describe(e) for e in ctx.list_entries()]


async def vm_create(ctx: Context, a: dict[str, Any]) -> Any:
    for k in ("kernel", "dtb", "initrd"):
        v = a.get(k)
        if isinstance(v, str) and not os.path.isabs(v):
            raise QmpError(f"hvd-vm-create: {k}: {v!r} must be an absolute path")
    try:
        cfg = VmConfig.from_mapping(a, "hvd-vm-create", daemon=True)
    except ConfigError as err:
        raise QmpError("; ".join(err.errors)) from None
    e = await ctx.create_vm(cfg)
    return ctx.describe(e)


async def vm_destroy(ctx: Context, a: dict[str, Any]) -> Any:
    e = ctx.lookup(a["vm"])
    await ctx.destroy_vm(e)
    return {}


async def vm_start(ctx: Context, a: dict[str, Any]) -> Any:
    e = ctx.lookup(a.get("vm"))
    st = e.status
    if st == "prelaunch":
        await ctx.start_vm(e)
    elif st == "paused":
        await ctx.call(e, e.vm.resume)
        await ctx.set_wanted(e, True)
    elif st in DEAD:
        await ctx.rebuild_vm(e)
        await ctx.start_vm(e)
    return {}


async def query_hvd_stats(ctx: Context, a: dict[str, Any]) -> Any:
    e = ctx.lookup(a.get("vm"))
    stats = await ctx.call(e, e.vm.stats)
    return {"vm": e.name, "status": e.status, "stats": stats}


_CREATE_ARGS = [Arg("name", "str", True), Arg("kernel", "str", True)] + [
    Arg(k, {"memory": "size", "load_addr": "u32", "entry": "u32",
            "semihosting": "bool", "autostart": "bool", "gdb_wait": "bool"}.get(k, "str"))
    for k in VmConfig.KEYS
    if k != "kernel"
]

COMMANDS: list[Command] = [
    Command("query-status", query_status, takes_vm=True),
    Command("stop", stop, takes_vm=True),
    Command("cont", cont, takes_vm=True),
    Command("system_reset", system_reset, takes_vm=True),
    Command("system_powerdown", system_powerdown, takes_vm=True),
    Command("quit", quit_),
    Command("query-version", query_version),
    Command("query-commands", query_commands),
    Command(
        "human-monitor-command",
        human_monitor_command,
        [Arg("command-line", "str", True), Arg("cpu-index", "int")],
        takes_vm=True,
    ),
    Command("hvd-vm-list", vm_list),
    Command("hvd-vm-create", vm_create, _CREATE_ARGS),
    Command("hvd-vm-destroy", vm_destroy, [Arg("vm", "str", True)]),
    Command("hvd-vm-start", vm_start, takes_vm=True),
    Command("query-hvd-stats", query_hvd_stats, takes_vm=True),
]
