"""Errors that end a command with one clear line and a defined exit status."""

from __future__ import annotations


class HvdError(Exception):
    """A user-facing error: printed as one line, exits with ``status``."""

    status = 1


class UsageError(HvdError):
    """Bad usage or bad input (missing file, malformed size, image that does not fit): exit 2."""

    status = 2


class GuestError(HvdError):
    """The guest did something the VM cannot continue from."""

    status = 1
