"""Returning freed heap memory to the operating system before a fork.

glibc keeps freed heap pages mapped, so a process that built and dropped large temporaries (a classifier's training
rows, a sweep's trial state) keeps them in its RSS; every worker process forked from it afterwards starts as a copy
of those pages, and RSS summed over the process tree counts them once per process.
"""

import ctypes
import ctypes.util
import gc

__all__ = ["trim_heap", "return_freed"]

_LIBC: list = []  # the C library once loaded (None without glibc's malloc_trim)


def trim_heap() -> None:
    """Collect garbage, then hand the freed heap pages back to the OS (``malloc_trim``; a no-op without glibc)."""
    gc.collect()
    return_freed()


def return_freed() -> None:
    """Hand the heap pages freed so far back to the OS (``malloc_trim``, no garbage collection): cheap enough after
    every batch of a pass. A batch's numpy temporaries past glibc's (rising) mmap threshold come from the heap, and
    without it a worker would keep the largest batch's pages to its end."""
    if not _LIBC:
        try:
            _LIBC.append(ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim)
        except (OSError, AttributeError):
            _LIBC.append(None)
    if _LIBC[0] is not None:
        _LIBC[0](0)
