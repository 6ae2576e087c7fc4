"""Only the C part lives here; everything else about the package is in pyproject.toml.

The libraries are optional: without a C compiler the install still succeeds and hvd runs
without them (slower shadow fills, no instruction count, interrupts polled), saying so once."""

from setuptools import Extension, setup

setup(ext_modules=[
    # hvd/cpu/_blockhook.c: Unicorn's per-block hook, loaded with ctypes (no Python API inside)
    Extension("hvd.cpu._blockhook", ["hvd/cpu/_blockhook.c"], extra_compile_args=["-O2"],
              optional=True),
    # hvd/cpu/_svc.c: Supervisor Call entry without leaving emu_start
    Extension("hvd.cpu._svc", ["hvd/cpu/_svc.c"], extra_compile_args=["-O2"], optional=True),
    # hvd/devices/_counter32k.c: the 32 kHz counter's CR read (Linux's clocksource, sched_clock)
    Extension("hvd.devices._counter32k", ["hvd/devices/_counter32k.c"], extra_compile_args=["-O2"],
              optional=True),
    # hvd/monitor/_fillcache.c: the shadow monitor's fill cache in front of the Python fill hook
    Extension("hvd.monitor._fillcache", ["hvd/monitor/_fillcache.c"], extra_compile_args=["-O2"],
              optional=True),
    # hvd/monitor/_tlbop.c: the front half of the tlb policy's TLB-operation hooks
    Extension("hvd.monitor._tlbop", ["hvd/monitor/_tlbop.c"], extra_compile_args=["-O2"],
              optional=True),
])
