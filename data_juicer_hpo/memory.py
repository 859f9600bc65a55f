"""Returning freed heap memory to the operating system before a fork.

glibc keeps freed heap pages mapped, so a process that built and dropped large temporaries (a classifier's training
rows, a sweep's trial state) keeps them in its RSS; every worker process forked from it afterwards starts as a copy
of those pages, and RSS summed over the process tree counts them once per process.
"""

import ctypes
import ctypes.util
import gc

__all__ = ["trim_heap", "return_freed", "map_large_allocations", "LARGE_ALLOCATION"]

_LIBC: list = []  # the C library once loaded (None without glibc's malloc_trim)
_M_MMAP_THRESHOLD = -3  # mallopt's parameter (malloc.h)
LARGE_ALLOCATION = 4 * 2**20  # allocations of at least this many bytes get pages of their own


def map_large_allocations(threshold: int = LARGE_ALLOCATION) -> bool:
    """Give every allocation of at least ``threshold`` bytes pages of its own (``mallopt(M_MMAP_THRESHOLD)``), so that
    freeing it returns them to the OS at once, in this process and the workers forked from it. By default glibc raises
    this threshold up to 32 MiB each time a large block is freed, and the next large numpy arrays then come from the
    heap, where the arenas of threads keep them: the quality classifier's two folds fitted in two threads left ~60-100
    MiB resident in a sweep's driver that ``malloc_trim`` did not return, and the setup's workers forked from it
    counted them again. False where glibc's ``mallopt`` is missing."""
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, int(threshold)))


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
