"""Only the C part lives here; everything else about the package is in pyproject.toml."""

from setuptools import Extension, setup

setup(ext_modules=[
    # hvd/cpu/_blockhook.c: Unicorn's per-block hook, loaded with ctypes (no Python API inside)
    Extension("hvd.cpu._blockhook", ["hvd/cpu/_blockhook.c"], extra_compile_args=["-O2"]),
    # hvd/monitor/_fillcache.c: the shadow monitor's fill cache in front of the Python fill hook
    Extension("hvd.monitor._fillcache", ["hvd/monitor/_fillcache.c"], extra_compile_args=["-O2"]),
])
