"""The virtual clock every device model reads time from.

Guest time is kept in nanoseconds. Two modes:

* ``realtime`` — guest time follows the host's monotonic clock (what an interactive user expects).
* ``warp`` — like realtime while the vCPU runs, but when the vCPU idles in WFI with only timers
  pending, guest time jumps straight to the next deadline (QEMU's ``-icount sleep=off`` idea).

Devices never sleep or spawn threads: they arm :class:`Timer` objects; only the next deadline is
ever scheduled. All device state lives on the vCPU thread; timers fire there from
:meth:`VirtualClock.run_due`, called by the vCPU loop.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from typing import Callable

NS_PER_S = 1_000_000_000


class Timer:
    """A one-shot callback at a guest time; re-arm it from the callback for periodic behaviour."""

    __slots__ = ("_clock", "_callback", "deadline", "_seq")

    def __init__(self, clock: "VirtualClock", callback: Callable[[], None]) -> None:
        self._clock = clock
        self._callback = callback
        self.deadline: int | None = None
        self._seq = 0

    def arm(self, deadline_ns: int) -> None:
        self._clock._arm(self, deadline_ns)

    def arm_in(self, delta_ns: int) -> None:
        self._clock._arm(self, self._clock.now_ns() + max(0, delta_ns))

    def cancel(self) -> None:
        self.deadline = None
        self._seq += 1

    @property
    def armed(self) -> bool:
        return self.deadline is not None


class VirtualClock:
    """Guest time in ns plus a heap of timers. Thread-safe for reads and for ``kick``."""

    def __init__(self, mode: str = "realtime") -> None:
        if mode not in ("realtime", "warp"):
            raise ValueError(f"unknown clock mode {mode!r}")
        self.mode = mode
        self._offset = -time.monotonic_ns()
        self._heap: list[tuple[int, int, int, Timer]] = []
        self._counter = itertools.count()
        self._frozen_at: int | None = None
        #: called (from any thread) when the earliest deadline moved earlier; the vCPU's alarm uses it
        self.on_new_deadline: Callable[[int], None] | None = None
        self._lock = threading.Lock()
        self._time_observers: list[Callable[[int, int | None], None]] = []

    # -- time -------------------------------------------------------------------------------
    def now_ns(self) -> int:
        if self._frozen_at is not None:
            return self._frozen_at
        return time.monotonic_ns() + self._offset

    def observe_time_base(self, fn: Callable[[int, int | None], None]) -> None:
        """Call ``fn(offset_ns, frozen_at_ns)`` now and whenever either changes: for a reader of
        guest time outside Python (guest ns = host CLOCK_MONOTONIC ns + offset, or frozen_at
        while it is not None)."""
        self._time_observers.append(fn)
        fn(self._offset, self._frozen_at)

    def _time_base_changed(self) -> None:
        for fn in self._time_observers:
            fn(self._offset, self._frozen_at)

    def host_deadline(self, guest_ns: int) -> float:
        """Host monotonic time (seconds) at which guest time reaches ``guest_ns``."""
        return (guest_ns - self._offset) / NS_PER_S

    def warp_to(self, guest_ns: int) -> None:
        """Jump guest time forward (never back) to ``guest_ns``."""
        now = self.now_ns()
        if guest_ns > now:
            self._offset += guest_ns - now
            self._time_base_changed()

    def freeze(self) -> None:
        """Stop guest time (VM paused)."""
        if self._frozen_at is None:
            self._frozen_at = self.now_ns()
            self._time_base_changed()

    def thaw(self) -> None:
        if self._frozen_at is not None:
            self._offset = self._frozen_at - time.monotonic_ns()
            self._frozen_at = None
            self._time_base_changed()

    # -- timers -----------------------------------------------------------------------------
    def timer(self, callback: Callable[[], None]) -> Timer:
        return Timer(self, callback)

    def _arm(self, t: Timer, deadline: int) -> None:
        t._seq += 1
        t.deadline = deadline
        with self._lock:
            earliest = self._heap[0][0] if self._heap else None
            heapq.heappush(self._heap, (deadline, next(self._counter), t._seq, t))
        if (earliest is None or deadline < earliest) and self.on_new_deadline is not None:
            self.on_new_deadline(deadline)

    def next_deadline(self) -> int | None:
        with self._lock:
            heap = self._heap
            while heap:
                deadline, _, seq, t = heap[0]
                if t._seq == seq and t.deadline == deadline:
                    return deadline
                heapq.heappop(heap)
        return None

    def run_due(self) -> int:
        """Fire every timer whose deadline has passed; returns how many fired."""
        fired = 0
        while True:
            now = self.now_ns()
            with self._lock:
                if not self._heap:
                    return fired
                deadline, _, seq, t = self._heap[0]
                if t._seq != seq or t.deadline != deadline:
                    heapq.heappop(self._heap)
                    continue
                if deadline > now:
                    return fired
                heapq.heappop(self._heap)
            t.deadline = None
            t._callback()
            fired += 1
