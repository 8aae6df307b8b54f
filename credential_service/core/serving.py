"""What every long-running process of the service (API workers, the supervisor, the anchoring
worker, `make run`) sets up for itself: a sane recursion limit, and death with its parent.

Imports only the standard library, so a process can call it before anything heavy loads.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

__all__ = ["SANE_RECURSION_LIMIT", "die_with_parent", "restore_recursion_limit"]

SANE_RECURSION_LIMIT = 1000
"""CPython's own default. `py_ecc` (imported by the chain libraries) raises the limit to
100,000 at import, for its own recursive arithmetic; at that limit a recursive parser (the C
JSON decoder among them) overflows the thread's stack and the process dies of SIGSEGV instead
of raising `RecursionError`."""

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
# Loaded at import, so that a child between fork and exec (`preexec_fn`) only calls it.
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def restore_recursion_limit(limit: int = SANE_RECURSION_LIMIT) -> None:
    """Lower the interpreter's recursion limit to ``limit`` when an import raised it above.

    Call it after the imports of a serving process (and again after any lazy import of the
    chain libraries). Never fails.
    """
    if sys.getrecursionlimit() > limit:
        sys.setrecursionlimit(limit)


def die_with_parent(parent_pid: int, sig: signal.Signals = signal.SIGTERM) -> None:
    """Have Linux send ``sig`` to this process when the process ``parent_pid`` that started it
    dies, however it dies (SIGKILL included): ``prctl(PR_SET_PDEATHSIG)``.

    The signal comes when the parent's thread that started this process ends, so start
    children from the parent's main thread. If the parent is already gone (it died before
    this call), exits at once with status 1. Safe as a ``subprocess`` ``preexec_fn``.
    Raises `OSError` when ``prctl`` fails; on a system without ``prctl`` (not Linux) does
    nothing.
    """
    if _LIBC is None:
        return
    if _LIBC.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"prctl(PR_SET_PDEATHSIG): {os.strerror(errno)}")
    if os.getppid() != parent_pid:  # the parent died before the signal was asked for
        os._exit(1)
