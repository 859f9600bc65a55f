"""How many threads numpy's BLAS uses while a block runs.

numpy's OpenBLAS runs a matrix product in as many threads as the machine has CPUs, and its idle threads spin for a
while before they sleep. The quality classifier's two folds are fitted at once, one in this process and one in a
worker forked from it, each with its own pool of BLAS threads: two CPUs would be shared by four busy threads. While
the folds are fitted, each process's products run in one thread. OpenBLAS 0.3.27 and later exports
``openblas_set_num_threads_local``, which returns the count it replaces (in its pthreads builds, numpy's, the count
is the process's); without it nothing changes.
"""

import contextlib
import ctypes
from typing import Optional

import numpy  # noqa: F401  (its OpenBLAS must be loaded to be found in this process's maps)

__all__ = ["blas_threads"]

_SETTER: list = []  # openblas_set_num_threads_local once looked up (None: not found)


def _local_setter() -> Optional[ctypes._CFuncPtr]:
    if not _SETTER:
        _SETTER.append(None)
        try:
            with open("/proc/self/maps", encoding="utf-8") as maps:
                paths = {line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line}
        except OSError:
            paths = set()
        for path in sorted(paths):
            try:
                setter = ctypes.CDLL(path).openblas_set_num_threads_local
            except (OSError, AttributeError):
                continue
            setter.argtypes, setter.restype = [ctypes.c_int], ctypes.c_int
            _SETTER[0] = setter
            break
    return _SETTER[0]


@contextlib.contextmanager
def blas_threads(n: int):
    """BLAS products inside the block use at most ``n`` threads; the count before is restored on leaving. A worker
    forked inside the block starts with ``n``. Enter it from one thread at a time."""
    setter = _local_setter()
    if setter is None:
        yield
        return
    before = setter(int(n))
    try:
        yield
    finally:
        setter(before)
