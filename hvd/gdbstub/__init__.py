"""GDB remote serial protocol stub for hvd VMs.

The layers are kept apart so each can be tested alone:

- :mod:`.packets`   — the wire: ``$data#cs`` framing, checksums, ``}`` escaping, run-length
  coding, ``+``/``-`` acknowledgements, ``QStartNoAckMode`` and the ``0x03`` interrupt byte.
  Sans-IO: bytes in, events out.
- :mod:`.commands`  — one packet in, the reply (and what to do with the target) out.
- :mod:`.target`    — the :class:`~.target.Target` interface the commands drive;
  :mod:`.vmtarget` — :class:`~.vmtarget.VmTarget`, its implementation over an hvd VM
  (breakpoints and watchpoints are :mod:`hvd.cpu.debug`'s Unicorn hooks).
- :mod:`.tdesc`     — the target description XML (ARM core, VFP, NEON).
- :mod:`.monitor_cmds` — ``monitor ...`` (``qRcmd``) commands (``info tlb`` comes from the
  monitor's own listing, :mod:`hvd.monitor.tlbinfo`).
- :mod:`.server`    — the trio TCP server, one client at a time per VM.
"""

from __future__ import annotations
