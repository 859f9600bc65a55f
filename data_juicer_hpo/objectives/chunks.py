"""An objective's per-document work over a population, a chunk of documents at a time, on several cores.

Setting an objective up means tokenizing every document and reducing it to a few numbers (a probability, bigram
counts, a feature row). :func:`map_chunks` does it a chunk at a time -- so the tokens of the whole corpus are never
held -- and, when the recipe's ``np`` and the machine allow, in forked worker processes: each reads its chunks' texts
from the population's Arrow table itself and sends back only the chunk's result. Chunks are independent and their
results are put back in order, so the result does not depend on the number of processes.
"""

import contextlib
import multiprocessing
import os
import signal
import sys
from typing import Callable, Iterator, Optional, Tuple

from data_juicer_hpo.memory import return_freed, trim_heap
from data_juicer_hpo.objectives.tokens import (
    CHUNK_DOCS,
    MEMO_TOKENS,
    HashMemo,
    TokenStreams,
    chunked_streams,
    token_streams,
)
from data_juicer_hpo.signals import die_with_parent

__all__ = ["map_chunks", "setup_processes", "may_fork", "forked_call"]

_TASK = None  # (fn, texts, chunk_docs) while a pool runs: set before forking, so every worker inherits it
_MEMO = HashMemo()  # a worker's token -> hash memo, kept across its chunks
_CALL = None  # the function forked_call's worker runs: set before forking, so the worker inherits it


def may_fork() -> bool:
    """Whether this process may fork workers: the platform can, and it is not a Ray driver (a process holding Ray's
    connections is not forked)."""
    ray = sys.modules.get("ray")
    if ray is not None and getattr(ray, "is_initialized", lambda: False)():
        return False
    return "fork" in multiprocessing.get_all_start_methods()


def setup_processes(population) -> int:
    """Processes for an objective's setup: the recipe's ``np`` (1 when unknown), at most the CPUs; 1 in a Ray
    driver (see :func:`may_fork`)."""
    if not may_fork():
        return 1
    wanted = getattr(getattr(population, "cfg", None), "np", None)
    return max(1, min(int(wanted) if isinstance(wanted, int) and wanted > 0 else 1, os.cpu_count() or 1))


def _chunk(start: int):
    fn, texts, chunk_docs = _TASK
    if len(_MEMO) > MEMO_TOKENS:
        _MEMO.clear()
    out = fn(start, token_streams(texts[start : start + chunk_docs], _MEMO))
    release = getattr(texts, "release_pages", None)
    if callable(release):  # the chunk's texts were read from a memory-mapped table: let their pages go (RSS)
        release()
    return start, out


def map_chunks(
    fn: Callable[[int, TokenStreams], object], texts, chunk_docs: int = CHUNK_DOCS, processes: Optional[int] = 1
) -> Iterator[Tuple[int, object]]:
    """``(start, fn(start, streams))`` for each chunk, in chunk order, ``streams`` being the token streams of
    documents ``start .. start + chunk_docs - 1`` of ``texts`` (a sequence that can be sliced); computed in
    ``processes`` forked worker processes when there are at least two chunks. Results arrive one at a time, so the
    caller can put each in place and drop it."""
    global _TASK
    starts = list(range(0, len(texts), chunk_docs))
    if (processes or 1) <= 1 or len(starts) < 2 or not may_fork():
        for start, streams in chunked_streams(texts, chunk_docs):
            yield start, fn(start, streams)
        return
    _TASK = (fn, texts, chunk_docs)
    # the workers start as copies of this process: what it freed (e.g. a classifier's training rows) and the text
    # pages it read go back to the OS first, or RSS summed over the process tree counts them once per worker
    release = getattr(texts, "release_pages", None)
    if callable(release):
        release()
    trim_heap()
    pool = multiprocessing.get_context("fork").Pool(
        min(processes, len(starts)), initializer=_worker_signals, initargs=(os.getpid(),)
    )
    done = False
    try:
        yield from pool.imap(_chunk, starts, chunksize=1)
        done = True
    finally:
        _TASK = None
        if done:
            pool.close()  # every result is in: the workers end on their own
        else:
            pool.terminate()  # an error or an interrupt: stop the workers (SIGTERM)
        pool.join()


def _call():
    return _CALL()


@contextlib.contextmanager
def forked_call(fn: Callable[[], object]):
    """``fn()`` in one forked worker process while the ``with`` block runs here: yields its
    :class:`multiprocessing.pool.AsyncResult` (``fn`` is inherited, not pickled; its result is pickled back). The
    worker is stopped when the block ends early (an error, an interrupt)."""
    global _CALL
    return_freed()  # the worker starts as a copy of this process: freed heap pages go back to the OS first
    _CALL = fn
    try:
        pool = multiprocessing.get_context("fork").Pool(1, initializer=_worker_signals, initargs=(os.getpid(),))
    finally:
        _CALL = None  # the worker has its copy
    done = False
    try:
        yield pool.apply_async(_call)
        done = True
    finally:
        if done:
            pool.close()
        else:
            pool.terminate()
        pool.join()


def _worker_signals(parent: int) -> None:
    """A worker dies of SIGTERM and ignores SIGINT and SIGHUP (the run it belongs to handles them): it inherits the
    sweep's handlers, which turn SIGTERM into an exception a pool worker could be left waiting after. It dies with
    ``parent`` too (killed: the OOM killer)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    die_with_parent(parent)
