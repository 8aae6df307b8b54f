"""Keeping the garbage collector off the long-lived heap of a serving process.

A worker holds a few hundred thousand long-lived objects (web3, the ASGI app, the cached chain
state), and CPython's full collection walks all of them: 85 to 117 ms, measured in the API
workers, once in their first seconds under load, stalling every request in flight (p99 at
1,000 requests a second went from about 10 ms to 90 to 114 ms in the runs where it fell inside
the measured window). `settle` collects once and moves what is alive into the permanent
generation (`gc.freeze`), so later collections walk only what was made since.
"""

from __future__ import annotations

import gc
import threading

__all__ = ["settle"]

_lock = threading.Lock()


def settle() -> None:
    """Collect, then freeze everything alive now. Call it in a serving process after its
    long-lived state is built, not in a test process: frozen objects are never collected, so
    cycles that die later would stay."""
    with _lock:
        gc.collect()
        gc.freeze()
