"""The QMP control socket, driven by the real qemu.qmp client and by raw sockets (fake VM)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import stat
import threading
from pathlib import Path
from typing import Any

import pytest
from qemu.qmp import EventListener, QMPClient
from qemu.qmp.legacy import QEMUMonitorProtocol

from .conftest import wait_for
from .fakevm import FakeVM

ONE_VM = '[vm.a]\nkernel = "{k}"\nserial = "tcp:127.0.0.1:0"\n'
TWO_VMS = ONE_VM + '[vm.b]\nkernel = "{k}"\nautostart = true\n'


def qmp(d: Any) -> QEMUMonitorProtocol:
    q = QEMUMonitorProtocol(d.control)
    q.connect()
    return q


class Raw:
    """A raw control-socket client for protocol-level checks."""

    def __init__(self, path: str, negotiate: bool = True) -> None:
        self.s = socket.socket(socket.AF_UNIX)
        self.s.settimeout(10)
        self.s.connect(path)
        self.f = self.s.makefile("rb")
        self.greeting = self.recv()
        if negotiate:
            assert self.ask({"execute": "qmp_capabilities"}) == {"return": {}}

    def send(self, data: bytes) -> None:
        self.s.sendall(data)

    def recv(self) -> dict[str, Any]:
        line = self.f.readline()
        assert line.endswith(b"\n"), line
        return json.loads(line)

    def reply(self) -> dict[str, Any]:
        while True:
            m = self.recv()
            if "event" not in m:
                return m

    def ask(self, msg: Any) -> dict[str, Any]:
        self.send(json.dumps(msg).encode() + b"\n")
        return self.reply()

    def close(self) -> None:
        self.f.close()
        self.s.close()


def err_class(reply: dict[str, Any]) -> str:
    return reply["error"]["class"]


# --------------------------------------------------------------------------------------------
def test_greeting_socket_permissions_and_negotiation(make_daemon: Any, kernel: Path) -> None:
    d = make_daemon(ONE_VM.format(k=kernel))
    st = os.stat(d.control)
    assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
    r = Raw(d.control, negotiate=False)
    assert r.greeting == {"QMP": {"version": {"qemu": {"major": 0, "minor": 1, "micro": 0},
                                              "package": "hvd 0.1.0"}, "capabilities": []}}
    rep = r.ask({"execute": "query-status", "id": 1})
    assert err_class(rep) == "CommandNotFound" and rep["id"] == 1
    rep = r.ask({"execute": "qmp_capabilities", "arguments": {"enable": ["oob"]}})
    assert err_class(rep) == "GenericError"
    assert r.ask({"execute": "qmp_capabilities", "id": "neg"}) == {"return": {}, "id": "neg"}
    rep = r.ask({"execute": "qmp_capabilities"})
    assert err_class(rep) == "CommandNotFound"
    assert r.ask({"execute": "query-status"})["return"]["status"] == "prelaunch"
    r.close()


def test_ids_echoed_and_input_errors(make_daemon: Any, kernel: Path) -> None:
    d = make_daemon(ONE_VM.format(k=kernel))
    r = Raw(d.control)
    for ident in (7, "x", {"a": [1, 2]}, None, 1.5):
        rep = r.ask({"execute": "query-version", "id": ident})
        assert rep["id"] == ident and rep["return"]["package"] == "hvd 0.1.0"
    # errors keep the id too
    rep = r.ask({"execute": "no-such-command", "id": 99})
    assert rep == {"error": {"class": "CommandNotFound",
                             "desc": "The command no-such-command has not been found"}, "id": 99}
    # malformed requests
    cases = [
        ([1, 2], "must be a JSON object"),
        ({"arguments": {}}, "lacks member 'execute'"),
        ({"execute": 5}, "'execute' must be a string"),
        ({"execute": "stop", "arguments": [1]}, "'arguments' must be an object"),
        ({"execute": "stop", "extra": 1}, "member 'extra' is unexpected"),
        ({"exec-oob": "stop"}, "exec-oob"),
    ]
    for msg, text in cases:
        rep = r.ask(msg)
        assert err_class(rep) == "GenericError" and text in rep["error"]["desc"], (msg, rep)
    assert FakeVM.instances[0].calls == []
    r.close()


def test_garbage_and_oversized_input_keep_connection(make_daemon: Any, kernel: Path) -> None:
    d = make_daemon(ONE_VM.format(k=kernel))
    r = Raw(d.control)
    r.send(b"this is not json\n")
    assert "JSON parse error" in r.reply()["error"]["desc"]
    r.send(b'{"execute": "query-status", "id": }\n')
    assert err_class(r.reply()) == "GenericError"
    r.send(b'{"execute": "query-status", "id": "\xff\xfe"}\n')
    assert "UTF-8" in r.reply()["error"]["desc"]
    r.send(b"42\n")
    assert r.reply()["error"]["desc"] == "QMP input must be a JSON object"
    # two messages in one write, no newline between them
    r.send(b'{"execute":"query-status","id":1}{"execute":"query-version","id":2}')
    assert r.reply()["id"] == 1 and r.reply()["id"] == 2
    # 3 MiB in one value: one error, nothing stored, still usable
    big = b'{"execute": "stop", "arguments": {"vm": "' + b"A" * (3 << 20) + b'"}}'
    r.send(big)
    rep = r.reply()
    assert "larger than" in rep["error"]["desc"]
    assert r.ask({"execute": "query-status", "id": "after"})["id"] == "after"
    assert "pause" not in FakeVM.instances[0].calls
    r.close()


def test_strict_arguments_before_side_effects(make_daemon: Any, kernel: Path) -> None:
    d = make_daemon(ONE_VM.format(k=kernel))
    q = qmp(d)
    vm = FakeVM.instances[0]
    for name, args, text in [
        ("cont", {"bogus": 1}, "Parameter 'bogus' is unexpected"),
        ("cont", {"vm": 3}, "Invalid parameter type for 'vm', expected: string"),
        ("hvd-vm-destroy", {}, "Parameter 'vm' is missing"),
        ("human-monitor-command", {}, "Parameter 'command-line' is missing"),
        ("human-monitor-command", {"command-line": 1}, "expected: string"),
        ("hvd-vm-create", {"name": "n"}, "Parameter 'kernel' is missing"),
        ("hvd-vm-create", {"name": "n", "kernel": "/k", "memory": True}, "expected: size"),
        ("hvd-vm-create", {"name": "n", "kernel": "/k", "autostart": "yes"}, "boolean"),
        ("quit", {"now": True}, "Parameter 'now' is unexpected"),
        ("cont", {"vm": "zz"}, "VM 'zz' not found"),
    ]:
        rep = q.cmd_raw(name, args)
        assert rep["error"]["class"] == "GenericError", (name, rep)
        assert text in rep["error"]["desc"], (name, rep)
    assert vm.calls == [] and vm.status == "prelaunch"
    q.close()


def test_every_lifecycle_command(make_daemon: Any, kernel: Path) -> None:
    d = make_daemon(ONE_VM.format(k=kernel))
    q = qmp(d)
    vm = FakeVM.instances[0]
    assert q.cmd("query-status") == {"status": "prelaunch", "running": False, "vm": "a"}
    assert q.cmd("stop") == {}  # nothing to stop yet
    assert q.cmd("cont") == {}  # cont starts a prelaunch VM, as QEMU's -S
    assert q.cmd("query-status")["status"] == "running"
    assert q.cmd("stop") == {} and vm.status == "paused"
    assert q.cmd("query-status") == {"status": "paused", "running": False, "vm": "a"}
    assert q.cmd("hvd-vm-start", vm="a") == {} and vm.status == "running"
    assert q.cmd("stop") == {} and q.cmd("cont") == {} and vm.status == "running"
    assert q.cmd("system_reset") == {} and q.cmd("system_powerdown") == {}
    assert vm.calls == ["start", "pause", "resume", "pause", "resume", "reset", "powerdown"]
    names = {c["name"] for c in q.cmd("query-commands")}
    assert names >= {"qmp_capabilities", "query-status", "stop", "cont", "system_reset",
                     "system_powerdown", "quit", "query-version", "query-commands",
                     "human-monitor-command", "hvd-vm-list", "hvd-vm-create", "hvd-vm-destroy",
                     "hvd-vm-start", "query-hvd-stats"}
    assert q.cmd("query-version")["qemu"] == {"major": 0, "minor": 1, "micro": 0}
    stats = q.cmd("query-hvd-stats")
    assert stats["vm"] == "a" and stats["stats"]["shadow"]["tlb_ops"] == 3
    q.close()


def test_human_monitor_command(make_daemon: Any, kernel: Path) -> None:
    d = make_daemon(ONE_VM.format(k=kernel))
    q = qmp(d)

    def hmp(line: str, **kw: Any) -> Any:
        return q.cmd("human-monitor-command", **{"command-line": line}, **kw)

    assert hmp("info status") == "VM status: prelaunch\r\n"
    assert "PC=80000000" in hmp("info registers")
    assert hmp("info   shadow") == "shadow: mode tlb, 12 entries\r\n"
    assert "rwx" in hmp("info tlb", vm="a")
    assert "info shadow" in hmp("help")
    assert hmp("frobnicate") == "unknown command: 'frobnicate'\r\n"
    rep = q.cmd_raw("human-monitor-command", {"command-line": "info status", "cpu-index": 1})
    assert rep["error"]["class"] == "GenericError"
    assert q.cmd_raw("human-monitor-command",
                     {"command-line": "info status", "cpu-index": 0})["return"]
    q.close()


def test_two_vms_side_by_side(make_daemon: Any, kernel: Path) -> None:
    d = make_daemon(TWO_VMS.format(k=kernel))
    q = qmp(d)
    rep = q.cmd_raw("query-status", {})
    assert rep["error"]["class"] == "GenericError" and "'vm' is missing" in rep["error"]["desc"]
    assert q.cmd("query-status", vm="a")["status"] == "prelaunch"
    assert q.cmd("query-status", vm="b")["status"] == "running"  # autostart
    assert q.cmd("hvd-vm-start", vm="a") == {}
    assert q.cmd("stop", vm="b") == {}
    lst = {v["name"]: v for v in q.cmd("hvd-vm-list")}
    assert lst["a"]["status"] == "running" and lst["b"]["status"] == "paused"
    assert lst["a"]["console"]["port"] > 0 and lst["b"]["console"] is None
    assert lst["a"]["source"] == "config"
    # config-defined VMs cannot be destroyed over QMP
    rep = q.cmd_raw("hvd-vm-destroy", {"vm": "a"})
    assert "defined in" in rep["error"]["desc"]
    q.close()


def test_create_destroy_and_errors(make_daemon: Any, kernel: Path, tmp_path: Path) -> None:
    d = make_daemon()
    q = qmp(d)
    assert q.cmd("hvd-vm-list") == []
    assert "No VM exists" in q.cmd_raw("query-status", {})["error"]["desc"]
    r = q.cmd("hvd-vm-create", name="x", kernel=str(kernel), memory="64M", mmu="native",
              serial="tcp:127.0.0.1:0", autostart=True)
    assert r["name"] == "x" and r["status"] == "running" and r["source"] == "qmp"
    assert r["config"]["memory"] == 64 << 20
    for args, text in [
        ({"name": "x", "kernel": str(kernel)}, "already exists"),
        ({"name": "y", "kernel": "rel/k.bin"}, "must be an absolute path"),
        ({"name": "y", "kernel": "/nonexistent"}, "no such file"),
        ({"name": "y", "kernel": str(kernel), "mmu": "fast", "memory": "9G"}, "mmu"),
        ({"name": "y", "kernel": str(kernel), "serial": "stdio"}, "stdio"),
        ({"name": "bad/name", "kernel": str(kernel)}, "not a valid VM name"),
        ({"name": "y", "kernel": str(tmp_path / "x.bad")}, "no such file"),
        ({"name": "y", "kernel": str(kernel), "serial": r["config"]["serial"].replace(
            ":0", f":{r['console']['port']}")}, "already used by VM 'x'"),
    ]:
        rep = q.cmd_raw("hvd-vm-create", args)
        assert rep["error"]["class"] == "GenericError" and text in rep["error"]["desc"], rep
    bad = tmp_path / "x.bad"
    bad.write_bytes(b"?")
    rep = q.cmd_raw("hvd-vm-create", {"name": "y", "kernel": str(bad)})
    assert "not an image this board can run" in rep["error"]["desc"]
    # a port somebody else holds
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    rep = q.cmd_raw("hvd-vm-create", {"name": "y", "kernel": str(kernel),
                                      "serial": f"tcp:127.0.0.1:{blocker.getsockname()[1]}"})
    assert "cannot listen" in rep["error"]["desc"], rep
    blocker.close()
    assert [v["name"] for v in q.cmd("hvd-vm-list")] == ["x"]
    assert q.cmd("hvd-vm-destroy", vm="x") == {}
    assert FakeVM.instances[0].status == "shutdown"
    assert q.cmd("hvd-vm-list") == []
    assert not (Path(d.cfg.state_dir) / "vms" / "x.json").exists()
    q.close()



@pytest.fixture
def events_daemon(make_daemon: Any, kernel: Path) -> Any:
    return make_daemon(ONE_VM.format(k=kernel))


def test_events_delivered_to_qmp_client(events_daemon: Any, kernel: Path) -> None:
    async def main() -> list[dict[str, Any]]:
        client = QMPClient("test")
        await client.connect(events_daemon.control)
        got: list[dict[str, Any]] = []
        listener = EventListener()
        with client.listen(listener):
            await client.execute("cont")
            await client.execute("stop")
            await client.execute("cont")
            await client.execute("system_reset")
            await client.execute("system_powerdown")
            await client.execute("hvd-vm-create", {"name": "n2", "kernel": str(kernel)})
            await client.execute("hvd-vm-destroy", {"vm": "n2"})
            while len(got) < 8:
                ev = await asyncio.wait_for(listener.get(), 5)
                got.append(dict(ev))
        await client.disconnect()
        return got

    got = asyncio.run(main())
    names = [(e["event"], e["data"]["vm"]) for e in got]
    assert names == [("RESUME", "a"), ("STOP", "a"), ("RESUME", "a"), ("RESET", "a"),
                     ("POWERDOWN", "a"), ("HVD_VM_CREATED", "n2"), ("SHUTDOWN", "n2"),
                     ("HVD_VM_DESTROYED", "n2")]
    for e in got:
        ts = e["timestamp"]
        assert set(ts) == {"seconds", "microseconds"} and 0 <= ts["microseconds"] < 1_000_000
        assert ts["seconds"] > 1_600_000_000
    assert got[3]["data"]["reason"] == "host-qmp-system-reset"


def test_no_events_before_negotiation_and_slow_event_reader(
        events_daemon: Any) -> None:
    d = events_daemon
    d.daemon.qmp_queue_size = 64
    unneg = Raw(d.control, negotiate=False)
    deaf = Raw(d.control)  # negotiated, then never reads
    deaf.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    # 600 events (pipelined): more than a session queues plus what the kernel buffers
    busy = Raw(d.control)
    pairs = 300
    sender = threading.Thread(target=busy.send, args=(
        b'{"execute":"stop"}{"execute":"cont"}' * pairs,))
    sender.start()
    for _ in range(2 * pairs):
        assert busy.reply() == {"return": {}}
    sender.join()
    busy.close()
    q = qmp(d)
    assert q.cmd("query-status")["status"] == "running"
    # the never-reading client was cut off, the daemon is fine
    wait_for(lambda: len(d.daemon.sessions) == 2)
    # the un-negotiated client got nothing but its greeting
    unneg.s.settimeout(0.2)
    with pytest.raises(socket.timeout):
        unneg.s.recv(1)
    assert unneg.ask({"execute": "qmp_capabilities"}) == {"return": {}}
    q.close()


def test_client_vanishing_mid_message(events_daemon: Any) -> None:
    d = events_daemon
    for _ in range(20):
        r = Raw(d.control)
        r.send(b'{"execute": "query-st')
        r.close()
    q = qmp(d)
    assert q.cmd("query-status")["status"] == "prelaunch"
    wait_for(lambda: len(d.daemon.sessions) == 1)
    q.close()


def test_quit_stops_everything(make_daemon: Any, kernel: Path) -> None:
    d = make_daemon(TWO_VMS.format(k=kernel))
    q = qmp(d)
    q.cmd("hvd-vm-start", vm="a")
    r = Raw(d.control)
    assert q.cmd("quit") == {}
    # the other client sees SHUTDOWN, then EOF
    ev = r.recv()
    while ev.get("event") != "SHUTDOWN" or "vm" in ev.get("data", {}):
        ev = r.recv()
    assert ev["data"] == {"guest": False, "reason": "host-qmp-quit"}
    d.thread.join(10)
    assert not d.thread.is_alive()
    assert all(vm.status == "shutdown" for vm in FakeVM.instances)
    assert not os.path.exists(d.control)
    q.close()
    r.close()


def test_internal_error_isolated_and_rebuild(make_daemon: Any, kernel: Path) -> None:
    d = make_daemon(TWO_VMS.format(k=kernel))
    q = qmp(d)
    q.cmd("hvd-vm-start", vm="a")
    a, b = FakeVM.instances
    a.console_input(b"crash\r")
    wait_for(lambda: q.cmd("query-status", vm="a")["status"] == "internal-error")
    assert q.cmd("query-status", vm="b")["status"] == "running"
    for cmd in ("stop", "cont", "system_powerdown"):
        rep = q.cmd_raw(cmd, {"vm": "a"})
        assert "internal-error" in rep["error"]["desc"], rep
    # hvd-vm-start boots a fresh VM from the definition; the console keeps its port
    port = q.cmd("hvd-vm-list")[0]["console"]["port"]
    assert q.cmd("hvd-vm-start", vm="a") == {}
    assert len(FakeVM.instances) == 3 and FakeVM.instances[2].status == "running"
    assert a.status == "shutdown"
    assert q.cmd("query-status", vm="a")["status"] == "running"
    assert q.cmd("hvd-vm-list")[0]["console"]["port"] == port
    # a guest power-off: system_reset boots it again, as QEMU does
    FakeVM.instances[2].console_input(b"poweroff\r")
    wait_for(lambda: q.cmd("query-status", vm="a")["status"] == "shutdown")
    assert q.cmd("hvd-vm-list")[0]["exit-status"] == 0
    assert q.cmd("system_reset", vm="a") == {}
    assert q.cmd("query-status", vm="a")["status"] == "running"
    assert len(FakeVM.instances) == 4
    q.close()


def test_too_many_control_connections(events_daemon: Any) -> None:
    from hvd.daemon import MAX_QMP_SESSIONS

    d = events_daemon
    idle = [Raw(d.control, negotiate=False) for _ in range(MAX_QMP_SESSIONS)]
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(d.control)
    assert b"too many control connections" in s.makefile("rb").readline()
    s.close()
    idle.pop().close()
    wait_for(lambda: len(d.daemon.sessions) < MAX_QMP_SESSIONS)
    q = qmp(d)
    assert q.cmd("query-status")["status"] == "prelaunch"
    q.close()
    for r in idle:
        r.close()
