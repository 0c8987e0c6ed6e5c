"""Pause Python's cyclic garbage collector while a translation builds its documents.

A translation builds hundreds of thousands of small, acyclic objects (canonical blocks, native
records, findings) that reference counting frees; the generational collector never finds garbage
among them, yet its full collections rescan every live object, so its cost grows with the export
(measured: a fifth to a quarter of ``carbonlink translate``'s CPU at 50,000 Verra rows). While any
translation runs, automatic collection is off; it is back, as it was before, when the last one
ends, even when it raises. Cycles made meanwhile are collected by the next collection after that.

The collector's switch is global to the process, so pauses are counted: concurrent translations
(gateway worker threads) keep it off until the last one ends, and a collector the host had turned
off stays off.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pauses = 0
_enable_after = False


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Automatic cyclic collection off for the ``with`` block (counted across threads)."""
    global _pauses, _enable_after
    with _lock:
        if _pauses == 0:
            _enable_after = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _enable_after:
                gc.enable()
