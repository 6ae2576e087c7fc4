"""The C fill cache (hvd/monitor/_fillcache.c) shares a few constants with Python: check them,
and that it answers emu_start's 'until' probe itself (once per vCPU slice) the way Python would."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hvd.cpu.arm import UC_PAGE_SIZE
from hvd.monitor import fillcache, mmu
from hvd.native import load_library

from tests.cpu.test_vcpu import assemble, make_vm, pytestmark  # noqa: F401 (skip marker)

SOURCE = Path(fillcache.__file__).with_name("_fillcache.c").read_text()


def _define(name: str) -> int:
    m = re.search(rf"^#define {name} (0x[0-9A-Fa-f]+|\d+)u?\b", SOURCE, re.M)
    assert m, name
    return int(m.group(1), 0)


def test_constants_match_python():
    assert _define("UNTIL_PAGE") == mmu.UNTIL_PAGE
    assert 1 << _define("PAGE_SHIFT") == UC_PAGE_SIZE
    assert mmu.UNTIL_PAGE % UC_PAGE_SIZE == 0
    assert _define("PAGES") == fillcache.PAGES and _define("WAYS") == fillcache.WAYS
    assert _define("UNPRIV") == fillcache.UNPRIV and _define("NSTATE") == fillcache.NSTATE


SLICES = """
    ldr r4, =0x48200000
    mov r2, #2000
1:  ldr r1, [r4, #0x98]             @ a device read: the vCPU ends slices now and then
    subs r2, r2, #1
    bne 1b
    mov r0, #0x18
    ldr r1, =0x20026
    svc 0x123456
    b .
"""


@pytest.mark.skipif(load_library("hvd.monitor", "_fillcache") is None,
                    reason="hvd/monitor/_fillcache not built")
def test_until_probe_never_reaches_python(tmp_path, monkeypatch):
    calls = []
    orig = mmu.ShadowMmu._fill_until
    monkeypatch.setattr(mmu.ShadowMmu, "_fill_until", lambda self, e: calls.append(1) or orig(self, e))
    vm = make_vm(assemble(tmp_path, SLICES), semihosting=True, mmu="shadow")
    vm.start()
    try:
        assert vm.wait(30)
        slices = vm.stats()["cpu"]["slices"]
    finally:
        vm.shutdown()
    assert slices > 0 and calls == []
