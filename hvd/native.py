"""Finding and loading hvd's small C libraries (built by ``setup.py`` next to their package's
Python files, loaded with ctypes: they contain no Python API)."""

from __future__ import annotations

import ctypes
import importlib.machinery
import importlib.util
import logging
from pathlib import Path

log = logging.getLogger("hvd")

_cache: dict[str, ctypes.CDLL | None] = {}


def load_library(package: str, name: str) -> ctypes.CDLL | None:
    """``package``/``name``<extension suffix>, or None (logged once) when it was not built."""
    key = f"{package}.{name}"
    if key in _cache:
        return _cache[key]
    spec = importlib.util.find_spec(package)
    lib = None
    where = Path(spec.origin).parent if spec is not None and spec.origin else None
    path = None
    if where is not None:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            if (where / f"{name}{suffix}").exists():
                path = where / f"{name}{suffix}"
                break
    if path is None:
        log.warning("%s was not built (run `make setup`): running without it", key)
    else:
        try:
            lib = ctypes.CDLL(str(path))
        except OSError as e:
            log.warning("%s: %s: running without it", key, e)
    _cache[key] = lib
    return lib


def counter(field: str, doc: str = "") -> property:
    """A read-only property giving ``self._f.<field>``: a counter the C side keeps in the
    ctypes structure ``_f`` of the object."""
    return property(lambda self: getattr(self._f, field), doc=doc)
