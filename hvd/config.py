"""Typed, validated configuration for ``hvd serve`` and the VMs it hosts.

One TOML file describes the daemon and any number of VMs::

    [daemon]
    control = "/run/hvd/control.sock"   # Unix socket (QMP), created 0600
    state_dir = "/var/lib/hvd"          # VM definitions, console logs
    log_level = "info"                  # optional: debug, info, warning, error

    [vm.NAME]
    kernel = "guest.elf"                # relative paths are relative to the config file
    memory = "512M"
    mmu = "shadow"                      # or "native"
    shadow_sync = "tlb"                 # or "wp"
    serial = "tcp:127.0.0.1:4321"
    gdb = "tcp:127.0.0.1:1234"
    autostart = true

Every mistake becomes one line ``FILE: KEY: reason``; all mistakes of a file are reported
together by :class:`ConfigError` (a :class:`~hvd.errors.UsageError`, exit status 2).

:class:`VmConfig` is shared with ``hvd run``: the command line builds one with
``VmConfig.from_mapping(values, where="hvd run", flags=True)`` so that flags and TOML keys are
validated by the same code (errors then name ``--shadow-sync`` instead of ``shadow_sync``).
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from hvd.errors import UsageError
from hvd.sizes import parse_size  # noqa: F401 (the one size parser; re-exported here)

DDR_BASE = 0x8000_0000
MAX_MEMORY = 1 << 30  # the DM3730 SDRC addresses at most 1 GiB of DDR
MIN_MEMORY = 1 << 20
DEFAULT_MEMORY = 512 << 20
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
BOARDS = ("beagleboard-xm",)
LOG_LEVELS = ("debug", "info", "warning", "error")



class ConfigError(UsageError):
    """One or more configuration mistakes; ``str()`` is one line per mistake."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


# --------------------------------------------------------------------------------------------
# value parsers: each returns the parsed value or raises ValueError(reason)
# --------------------------------------------------------------------------------------------
def parse_u32(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("expected an address")
    if isinstance(value, str):
        try:
            value = int(value.strip().replace("_", ""), 0)
        except ValueError:
            raise ValueError(f"{value!r} is not a number (use e.g. 0x80008000)") from None
    if not isinstance(value, int):
        raise ValueError("expected an address")
    if not 0 <= value <= 0xFFFF_FFFF:
        raise ValueError(f"{value:#x} is not a 32-bit address")
    return value


def parse_tcp(value: Any, default_host: str = "127.0.0.1") -> tuple[str, int]:
    """``tcp:HOST:PORT`` (or ``tcp::PORT``) -> (host, port). Port 0 means "any free port"."""
    if not isinstance(value, str) or not value.startswith("tcp:"):
        raise ValueError(f"{value!r} is not tcp:HOST:PORT")
    rest = value[4:]
    host, sep, port_s = rest.rpartition(":")
    if not sep:
        raise ValueError(f"{value!r} is not tcp:HOST:PORT")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not port_s.isdigit() or not 0 <= int(port_s) <= 65535:
        raise ValueError(f"{value!r}: port must be a number from 0 to 65535")
    return (host or default_host, int(port_s))


def _choice(value: Any, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{value!r} is not one of: {', '.join(choices)}")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("expected true or false")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected a string")
    return value


# --------------------------------------------------------------------------------------------
# VM configuration
# --------------------------------------------------------------------------------------------
@dataclass
class VmConfig:
    """Everything needed to build one VM. Paths are absolute after validation."""

    name: str
    kernel: Path
    dtb: Path | None = None
    initrd: Path | None = None
    append: str | None = None
    load_addr: int | None = None
    entry: int | None = None
    memory: int = DEFAULT_MEMORY
    mmu: str = "shadow"
    shadow_sync: str = "tlb"
    semihosting: bool = False
    serial: str = "none"
    gdb: str | None = None
    gdb_wait: bool = False
    autostart: bool = False
    clock: str = "realtime"
    board: str = "beagleboard-xm"

    # keys accepted in a [vm.NAME] table / hvd-vm-create (name comes from the table header)
    KEYS = (
        "kernel", "dtb", "initrd", "append", "load_addr", "entry", "memory", "mmu", "shadow_sync",
        "semihosting", "serial", "gdb", "gdb_wait", "autostart", "clock", "board",
    )

    # -- derived views ---------------------------------------------------------------------
    @property
    def serial_tcp(self) -> tuple[str, int] | None:
        return parse_tcp(self.serial) if self.serial.startswith("tcp:") else None

    @property
    def serial_file(self) -> Path | None:
        return Path(self.serial[5:]) if self.serial.startswith("file:") else None

    @property
    def gdb_tcp(self) -> tuple[str, int] | None:
        return parse_tcp(self.gdb) if self.gdb else None

    def to_mapping(self) -> dict[str, Any]:
        """The inverse of :meth:`from_mapping` (JSON/TOML-friendly; ``None`` values left out)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if v is None:
                continue
            out[f.name] = str(v) if isinstance(v, Path) else v
        return out

    # -- construction ----------------------------------------------------------------------
    @classmethod
    def from_mapping(
        cls,
        d: Mapping[str, Any],
        where: str,
        *,
        name: str | None = None,
        base_dir: Path | None = None,
        daemon: bool = False,
        flags: bool = False,
        check_files: bool = True,
        key_prefix: str = "",
    ) -> "VmConfig":
        """Validate ``d`` (TOML table, QMP arguments or command-line values) into a VmConfig.

        ``where`` starts every error line (for example ``"/etc/hvd.toml"``) and ``key_prefix``
        precedes each key (``"vm.web."``); ``name``
        overrides ``d["name"]``; relative paths are resolved against ``base_dir`` (default: the
        current directory); ``daemon`` refuses ``serial = "stdio"``; ``flags`` names keys as
        command-line options. Raises :class:`ConfigError` listing every mistake.
        """
        errors: list[str] = []

        def keyname(k: str) -> str:
            return "--" + k.replace("_", "-") if flags else k

        def err(k: str, reason: str) -> None:
            errors.append(f"{where}: {key_prefix}{keyname(k)}: {reason}")

        if not isinstance(d, Mapping):
            raise ConfigError([f"{where}: {key_prefix.rstrip('.') or 'arguments'}: expected a table"])
        base = base_dir or Path.cwd()
        values: dict[str, Any] = {}
        allowed = set(cls.KEYS) | ({"name"} if name is None else set())
        for k in d:
            if k not in allowed:
                err(str(k), "unknown key" + _suggest(str(k), allowed))

        vm_name = name if name is not None else d.get("name")
        if vm_name is None:
            err("name", "missing")
        elif not isinstance(vm_name, str) or not NAME_RE.match(vm_name):
            err("name", f"{vm_name!r} is not a valid VM name (letters, digits, '.', '_', '-')")
        values["name"] = vm_name

        def path(k: str, required: bool = False) -> None:
            v = d.get(k)
            if v is None:
                if required:
                    err(k, "missing (the guest image to run)")
                return
            if not isinstance(v, (str, os.PathLike)) or str(v) == "":
                err(k, "expected a file path")
                return
            p = Path(os.path.expanduser(str(v)))
            if not p.is_absolute():
                p = base / p
            if check_files and not p.is_file():
                err(k, f"{p}: no such file")
                return
            values[k] = p

        path("kernel", required=True)
        path("dtb")
        path("initrd")

        def conv(k: str, fn: Any) -> None:
            if k in d and d[k] is not None:
                try:
                    values[k] = fn(d[k])
                except ValueError as e:
                    err(k, str(e))

        conv("append", _text)
        conv("load_addr", parse_u32)
        conv("entry", parse_u32)
        conv("memory", parse_size)
        if "memory" in values:
            mem = values["memory"]
            if not MIN_MEMORY <= mem <= MAX_MEMORY:
                err("memory", f"{mem} bytes is outside 1M..1G (the DM3730 addresses 1 GiB of DDR)")
                del values["memory"]
            elif mem % MIN_MEMORY:
                err("memory", f"{mem} bytes is not a whole number of MiB")
                del values["memory"]
        conv("mmu", lambda v: _choice(v, ("shadow", "native")))
        conv("shadow_sync", lambda v: _choice(v, ("tlb", "wp")))
        conv("clock", lambda v: _choice(v, ("realtime", "warp")))
        conv("board", lambda v: _choice(v, BOARDS))
        for k in ("semihosting", "autostart", "gdb_wait"):
            conv(k, _bool)
        conv("serial", lambda v: _serial(v, daemon, base))
        conv("gdb", lambda v: (parse_tcp(v), v)[1])
        if errors:
            raise ConfigError(errors)
        return cls(**values)


def _serial(v: Any, daemon: bool, base: Path) -> str:
    if not isinstance(v, str):
        raise ValueError("expected tcp:HOST:PORT, file:PATH, stdio or none")
    if v == "none":
        return v
    if v == "stdio":
        if daemon:
            raise ValueError("stdio is not available in the daemon (use tcp:HOST:PORT)")
        return v
    if v.startswith("tcp:"):
        parse_tcp(v)
        return v
    if v.startswith("file:") and len(v) > 5:
        p = Path(os.path.expanduser(v[5:]))
        return "file:" + str(p if p.is_absolute() else base / p)
    raise ValueError(f"{v!r} is not tcp:HOST:PORT, file:PATH, stdio or none")


def _suggest(key: str, allowed: set[str]) -> str:
    import difflib

    close = difflib.get_close_matches(key, sorted(allowed), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# --------------------------------------------------------------------------------------------
# daemon configuration
# --------------------------------------------------------------------------------------------
def default_control() -> Path:
    if os.geteuid() == 0:
        return Path("/run/hvd/control.sock")
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        return Path(runtime) / "hvd" / "control.sock"
    return Path(f"/tmp/hvd-{os.geteuid()}") / "control.sock"


def default_state_dir() -> Path:
    if os.geteuid() == 0:
        return Path("/var/lib/hvd")
    state = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return Path(state) / "hvd"


@dataclass
class DaemonConfig:
    control: Path = field(default_factory=default_control)
    state_dir: Path = field(default_factory=default_state_dir)
    log_level: str = "info"
    vms: dict[str, VmConfig] = field(default_factory=dict)
    source: Path | None = None


def load_config(path: str | os.PathLike[str] | None, *, check_files: bool = True) -> DaemonConfig:
    """Read and validate a config file (``None``: defaults, no VMs)."""
    if path is None:
        return DaemonConfig()
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([f"{p}: no such file"]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError([f"{p}: cannot read: {getattr(e, 'strerror', None) or e}"]) from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError([f"{p}: not valid TOML: {e}"]) from None
    return config_from_mapping(raw, p, check_files=check_files)


def config_from_mapping(
    raw: Mapping[str, Any], p: Path, *, check_files: bool = True
) -> DaemonConfig:
    errors: list[str] = []
    base = p.resolve().parent
    cfg = DaemonConfig(source=p)
    for k in raw:
        if k not in ("daemon", "vm"):
            errors.append(f"{p}: {k}: unknown table" + _suggest(k, {"daemon", "vm"}))
    daemon = raw.get("daemon", {})
    if not isinstance(daemon, Mapping):
        errors.append(f"{p}: daemon: expected a table")
        daemon = {}
    for k, v in daemon.items():
        if k in ("control", "state_dir"):
            if not isinstance(v, str) or not v:
                errors.append(f"{p}: daemon.{k}: expected a path")
                continue
            q = Path(os.path.expanduser(v))
            setattr(cfg, k, q if q.is_absolute() else base / q)
        elif k == "log_level":
            try:
                cfg.log_level = _choice(v, LOG_LEVELS)
            except ValueError as e:
                errors.append(f"{p}: daemon.log_level: {e}")
        else:
            errors.append(
                f"{p}: daemon.{k}: unknown key" + _suggest(k, {"control", "state_dir", "log_level"})
            )
    vms = raw.get("vm", {})
    if not isinstance(vms, Mapping):
        errors.append(f"{p}: vm: expected tables [vm.NAME]")
        vms = {}
    for name, table in vms.items():
        if not isinstance(table, Mapping):
            errors.append(f"{p}: vm.{name}: expected a table [vm.{name}]")
            continue
        try:
            cfg.vms[name] = VmConfig.from_mapping(
                table, str(p), name=name, base_dir=base, daemon=True,
                check_files=check_files, key_prefix=f"vm.{name}.",
            )
        except ConfigError as e:
            errors.extend(e.errors)
    errors.extend(_port_clashes(cfg.vms.values(), str(p)))
    if errors:
        raise ConfigError(errors)
    return cfg


def _port_clashes(vms: Any, where: str) -> list[str]:
    seen: dict[tuple[str, int], str] = {}
    errors = []
    for vm in vms:
        for key, ep in (("serial", vm.serial_tcp), ("gdb", vm.gdb_tcp)):
            if ep is None or ep[1] == 0:
                continue
            if ep in seen:
                errors.append(f"{where}: vm.{vm.name}.{key}: {ep[0]}:{ep[1]} is already used by {seen[ep]}")
            else:
                seen[ep] = f"vm.{vm.name}.{key}"
    return errors
