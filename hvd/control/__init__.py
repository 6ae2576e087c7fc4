"""The control socket: QMP framing (:mod:`.qmp`) and the command table (:mod:`.commands`)."""

from hvd.control.qmp import QmpError, QmpSession

__all__ = ["QmpError", "QmpSession"]
