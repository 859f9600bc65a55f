"""memory.py: large allocations get pages of their own, so freeing them returns the memory at once (checked in fresh
processes, as mallopt changes the whole process): without it, glibc's raised threshold leaves a freed array that
threads allocated in their arenas."""

import subprocess
import sys

import pytest

PROGRAM = r"""
import sys, threading
import numpy as np
import psutil
from data_juicer_hpo.memory import map_large_allocations
if sys.argv[1] == "map":
    assert map_large_allocations()
def rss():
    return psutil.Process().memory_info().rss >> 20
def work():
    first = np.ones(30 * 2**20 // 8)  # mapped; its free raises glibc's default threshold to 30 MiB
    del first
    rest = [np.ones(20 * 2**20 // 8) for _ in range(2)]  # below it: from the thread's arena
    del rest
before = rss()
threads = [threading.Thread(target=work) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(rss() - before)
"""


def _retained(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", PROGRAM, mode], capture_output=True, text=True, check=True)
    return int(done.stdout.strip())


def test_large_arrays_freed_in_threads_leave_nothing_resident():
    if sys.platform != "linux":
        pytest.skip("glibc's mallopt")
    assert _retained("map") < 8
    assert _retained("default") >= 40  # the case it exists for: without it the arenas keep them
