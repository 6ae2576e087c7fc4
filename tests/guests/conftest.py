"""Fixtures for the guest-program tests (helpers live in support.py)."""

from __future__ import annotations

import pytest

from .support import GuestRunner


@pytest.fixture(scope="session")
def guests(tmp_path_factory: pytest.TempPathFactory) -> GuestRunner:
    return GuestRunner(tmp_path_factory.mktemp("guest-runs"))
