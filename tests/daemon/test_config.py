"""Configuration: valid files, one error line per mistake, shared validation with `hvd run`."""

from __future__ import annotations

from pathlib import Path

import pytest

from hvd.config import ConfigError, VmConfig, load_config, parse_size, parse_tcp
from hvd.errors import UsageError


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "hvd.toml"
    p.write_text(text)
    return p


def test_full_config(tmp_path: Path) -> None:
    (tmp_path / "k.elf").write_bytes(b"x")
    (tmp_path / "b.dtb").write_bytes(b"x")
    p = write(tmp_path, """
[daemon]
control = "run/control.sock"
state_dir = "/var/tmp/hvd-state"
log_level = "debug"
[vm.web]
kernel = "k.elf"
dtb = "b.dtb"
append = "console=ttyS2"
memory = "256M"
mmu = "native"
shadow_sync = "wp"
semihosting = true
serial = "tcp:127.0.0.1:4321"
gdb = "tcp::1234"
autostart = true
load_addr = "0x80008000"
entry = 2147516416
clock = "warp"
[vm.db]
kernel = "k.elf"
""")
    cfg = load_config(p)
    assert cfg.control == tmp_path / "run/control.sock"
    assert cfg.state_dir == Path("/var/tmp/hvd-state")
    assert cfg.log_level == "debug"
    web = cfg.vms["web"]
    assert web.kernel == tmp_path / "k.elf" and web.dtb == tmp_path / "b.dtb"
    assert web.memory == 256 << 20 and web.mmu == "native" and web.shadow_sync == "wp"
    assert web.semihosting and web.autostart and web.clock == "warp"
    assert web.serial_tcp == ("127.0.0.1", 4321)
    assert web.gdb_tcp == ("127.0.0.1", 1234)
    assert web.load_addr == 0x80008000 and web.entry == 0x80008000
    db = cfg.vms["db"]
    assert (db.memory, db.mmu, db.shadow_sync, db.serial, db.autostart) == (
        512 << 20, "shadow", "tlb", "none", False)
    # round trip through the mapping form used for persistence
    again = VmConfig.from_mapping(web.to_mapping(), "x")
    assert again == web


def test_every_mistake_gets_its_own_line(tmp_path: Path) -> None:
    p = write(tmp_path, """
[daemon]
contrl = "x"
log_level = "loud"
[vm.a]
kernel = "missing.elf"
memory = "lots"
mmu = "shadw"
shadow_sync = 3
serial = "stdio"
gdb = "tcp:127.0.0.1:70000"
autostart = "yes"
colour = "red"
[vm."bad name"]
kernel = "/etc/hostname"
[extra]
""")
    with pytest.raises(ConfigError) as ei:
        load_config(p)
    err = ei.value
    assert isinstance(err, UsageError) and err.status == 2
    lines = str(err).splitlines()
    assert len(lines) == len(err.errors) == 12
    assert all(line.startswith(f"{p}: ") for line in lines)
    text = str(err)
    for key in ("daemon.contrl", "daemon.log_level", "vm.a.kernel", "vm.a.memory", "vm.a.mmu",
                "vm.a.shadow_sync", "vm.a.serial", "vm.a.gdb", "vm.a.autostart", "vm.a.colour",
                "vm.bad name.name", "extra"):
        assert f": {key}: " in text, key
    assert "did you mean 'control'" in text
    assert "stdio is not available in the daemon" in text


def test_toml_syntax_error_is_one_line(tmp_path: Path) -> None:
    p = write(tmp_path, "[vm.a\nkernel = 1\n")
    with pytest.raises(ConfigError) as ei:
        load_config(p)
    assert len(str(ei.value).splitlines()) == 1
    assert str(ei.value).startswith(f"{p}: not valid TOML")


def test_missing_file() -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config("/nonexistent/hvd.toml")


def test_port_clash(tmp_path: Path) -> None:
    p = write(tmp_path, """
[vm.a]
kernel = "/etc/hostname"
serial = "tcp:127.0.0.1:5555"
[vm.b]
kernel = "/etc/hostname"
gdb = "tcp:127.0.0.1:5555"
""")
    with pytest.raises(ConfigError, match="vm.b.gdb: 127.0.0.1:5555 is already used by vm.a.serial"):
        load_config(p)


def test_defaults_without_config() -> None:
    cfg = load_config(None)
    assert cfg.vms == {}
    assert cfg.control.name == "control.sock"


def test_command_line_style_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as ei:
        VmConfig.from_mapping({"kernel": str(tmp_path / "nope"), "shadow_sync": "never",
                               "memory": "2G"}, "hvd run", name="run", flags=True)
    text = str(ei.value)
    assert "hvd run: --shadow-sync: 'never' is not one of: tlb, wp" in text
    assert "hvd run: --memory: " in text and "hvd run: --kernel: " in text
    ok = VmConfig.from_mapping({"kernel": "/etc/hostname", "serial": "stdio", "memory": 64 << 20},
                               "hvd run", name="run", flags=True)
    assert ok.serial == "stdio" and ok.memory == 64 << 20


@pytest.mark.parametrize("text,value", [
    ("512M", 512 << 20), ("1G", 1 << 30), ("64MiB", 64 << 20), ("4096", 4096), ("8k", 8192),
    (1048576, 1 << 20),
])
def test_sizes(text: object, value: int) -> None:
    assert parse_size(text) == value


@pytest.mark.parametrize("bad", ["12Q", "", "-5M", True, 1.5])
def test_bad_sizes(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_size(bad)


def test_memory_bounds() -> None:
    for bad in ("2G", "512K", "1536K"):
        with pytest.raises(ConfigError, match="memory"):
            VmConfig.from_mapping({"kernel": "/etc/hostname", "memory": bad}, "x", name="a")


def test_tcp_endpoints() -> None:
    assert parse_tcp("tcp:0.0.0.0:80") == ("0.0.0.0", 80)
    assert parse_tcp("tcp::80") == ("127.0.0.1", 80)
    assert parse_tcp("tcp:[::1]:80") == ("::1", 80)
    for bad in ("udp:1.2.3.4:5", "tcp:host", "tcp:h:port", 42):
        with pytest.raises(ValueError):
            parse_tcp(bad)
