"""Returning freed heap memory to the operating system before a fork.

glibc keeps freed heap pages mapped, so a process that built and dropped large temporaries (a classifier's training
rows, a sweep's trial state) keeps them in its RSS; every worker process forked from it afterwards starts as a copy
of those pages, and RSS summed over the process tree counts them once per process.
"""

import ctypes
import ctypes.util
import gc

__all__ = ["trim_heap"]


def trim_heap() -> None:
    """Collect garbage, then hand the freed heap pages back to the OS (``malloc_trim``; a no-op without glibc)."""
    gc.collect()
    try:
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
