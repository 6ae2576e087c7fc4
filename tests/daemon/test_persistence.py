"""VMs created over QMP survive a daemon restart, with the run state the client left them in."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from qemu.qmp.legacy import QEMUMonitorProtocol

from .fakevm import FakeVM


def qmp(d: Any) -> QEMUMonitorProtocol:
    q = QEMUMonitorProtocol(d.control)
    q.connect()
    return q


def test_restart_restores_definitions_and_run_state(make_daemon: Any, kernel: Path) -> None:
    d = make_daemon()
    q = qmp(d)
    q.cmd("hvd-vm-create", name="run", kernel=str(kernel), memory="32M", shadow_sync="wp",
          autostart=True, serial="tcp:127.0.0.1:0")
    q.cmd("hvd-vm-create", name="idle", kernel=str(kernel))
    q.cmd("hvd-vm-create", name="paused", kernel=str(kernel))
    q.cmd("hvd-vm-start", vm="paused")
    q.cmd("stop", vm="paused")
    q.cmd("hvd-vm-create", name="gone", kernel=str(kernel))
    q.cmd("hvd-vm-destroy", vm="gone")
    q.close()
    vms = Path(d.cfg.state_dir) / "vms"
    assert sorted(p.name for p in vms.iterdir()) == ["idle.json", "paused.json", "run.json"]
    assert stat.S_IMODE(os.stat(vms / "run.json").st_mode) == 0o600
    d.stop()

    FakeVM.instances.clear()
    d2 = make_daemon()
    q = qmp(d2)
    lst = {v["name"]: v for v in q.cmd("hvd-vm-list")}
    assert sorted(lst) == ["idle", "paused", "run"]
    assert lst["run"]["status"] == "running"
    assert lst["idle"]["status"] == "prelaunch" and lst["paused"]["status"] == "prelaunch"
    assert lst["run"]["config"]["memory"] == 32 << 20
    assert lst["run"]["config"]["shadow_sync"] == "wp"
    assert lst["run"]["source"] == "qmp"
    # what the client does after the restart is kept too
    q.cmd("stop", vm="run")
    q.close()
    d2.stop()
    data = json.loads((vms / "run.json").read_text())
    assert data["running"] is False


def test_bad_saved_definitions_do_not_stop_the_daemon(make_daemon: Any, kernel: Path,
                                                      tmp_path: Path) -> None:
    vms = tmp_path / "state" / "vms"
    vms.mkdir(parents=True)
    (vms / "junk.json").write_text("{not json")
    (vms / "wrong.json").write_text(json.dumps({"config": {"kernel": str(kernel), "mmu": "x"}}))
    (vms / "ok.json").write_text(json.dumps({"config": {"kernel": str(kernel)}, "running": True}))
    (vms / "a.json").write_text(json.dumps({"config": {"kernel": str(kernel)}}))
    d = make_daemon(f'[vm.a]\nkernel = "{kernel}"\n')  # the config file wins over a saved 'a'
    q = qmp(d)
    lst = {v["name"]: v for v in q.cmd("hvd-vm-list")}
    assert sorted(lst) == ["a", "ok"]
    assert lst["a"]["source"] == "config" and lst["ok"]["status"] == "running"
    q.close()


def test_config_vm_run_state_survives_restart(make_daemon: Any, kernel: Path) -> None:
    toml = (f'[vm.auto]\nkernel = "{kernel}"\nautostart = true\n'
            f'[vm.manual]\nkernel = "{kernel}"\n')
    d = make_daemon(toml)
    q = qmp(d)
    assert q.cmd("query-status", vm="auto")["status"] == "running"
    q.cmd("stop", vm="auto")  # the client stops the autostart VM ...
    q.cmd("hvd-vm-start", vm="manual")  # ... and starts the other one
    q.close()
    d.stop()
    d2 = make_daemon(toml)
    q = qmp(d2)
    assert q.cmd("query-status", vm="auto")["status"] == "prelaunch"
    assert q.cmd("query-status", vm="manual")["status"] == "running"
    q.close()
