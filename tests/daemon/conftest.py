"""Fixtures: the daemon running in a background thread with the fake VM, and helpers."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import trio

from hvd.config import DaemonConfig, load_config
from hvd.daemon import Daemon

from .fakevm import FakeVM, factory


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThreadedDaemon:
    """hvd's Daemon run by trio in a thread (signals are left to the test process)."""

    def __init__(self, cfg: DaemonConfig) -> None:
        self.cfg = cfg
        self.daemon = Daemon(cfg, vm_factory=factory)
        self.token: trio.lowlevel.TrioToken | None = None
        self.error: BaseException | None = None
        self._ready = threading.Event()
        self.thread = threading.Thread(target=self._main, daemon=True)

    def _main(self) -> None:
        async def main() -> None:
            self.token = trio.lowlevel.current_trio_token()
            async with trio.open_nursery() as n:
                await n.start(self.daemon.run)
                self._ready.set()

        try:
            trio.run(main)
        except BaseException as e:  # reported by start()/stop()
            self.error = e
        finally:
            self._ready.set()

    def start(self) -> "ThreadedDaemon":
        self.thread.start()
        assert self._ready.wait(20), "daemon did not start"
        if self.error:
            raise self.error
        return self

    def run_sync(self, fn: Any, *args: Any) -> Any:
        return trio.from_thread.run_sync(fn, *args, trio_token=self.token)

    def stop(self) -> None:
        if self.thread.is_alive():
            try:
                self.run_sync(self.daemon.request_quit, "host-signal")
            except trio.RunFinishedError:
                pass
            self.thread.join(20)
        assert not self.thread.is_alive(), "daemon did not stop"

    @property
    def control(self) -> str:
        return str(self.cfg.control)


@pytest.fixture
def kernel(tmp_path: Path) -> Path:
    k = tmp_path / "guest.bin"
    k.write_bytes(b"\x00" * 16)
    return k


@pytest.fixture
def make_daemon(tmp_path: Path) -> Iterator[Any]:
    started: list[ThreadedDaemon] = []
    FakeVM.instances.clear()

    def make(toml: str = "", *, state: str = "state") -> ThreadedDaemon:
        cfgfile = tmp_path / "hvd.toml"
        cfgfile.write_text(
            f'[daemon]\ncontrol = "{tmp_path}/c.sock"\nstate_dir = "{tmp_path}/{state}"\n' + toml
        )
        d = ThreadedDaemon(load_config(cfgfile)).start()
        started.append(d)
        return d

    yield make
    for d in started:
        d.stop()


def wait_for(pred: Any, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)
