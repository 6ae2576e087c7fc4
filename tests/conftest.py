"""Fixtures shared across the test tree."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hvd.images import ImagesError, default_dest, fetch_images


@pytest.fixture(scope="session")
def guest_images() -> dict[str, Path]:
    """Debian's armmp kernel, the BeagleBoard-xM DTB, busybox and the default initramfs, as
    `hvd images fetch` provides them ($HVD_IMAGES or ~/.cache/hvd/images; fetched through apt
    the first time). Tests that need them are skipped when they cannot be had."""
    dest = Path(os.environ["HVD_IMAGES"]) if "HVD_IMAGES" in os.environ else default_dest()
    try:
        return fetch_images(dest, progress=False)
    except ImagesError as e:
        pytest.skip(f"guest images unavailable: {e}")
