"""A dataset's texts as a read-only sequence that stays in the dataset's Arrow table.

A sweep's population used to hold every text as a Python string (about 1.5x the corpus size in memory, for the
whole sweep) although only an objective's setup reads them, once, in order. This sequence reads them from the
Arrow table -- memory-mapped from Data-Juicer's cache files, or in memory -- a record batch at a time.
"""

from collections.abc import Sequence
from typing import Iterator

import numpy as np

__all__ = ["ArrowTexts"]


class ArrowTexts(Sequence):
    """``texts[i]``, ``texts[a:b]``, ``texts[index_array]``, ``len`` and iteration over one string column."""

    def __init__(self, column):
        self.column = column  # a pyarrow ChunkedArray (or Array) of strings

    @classmethod
    def of(cls, dataset, key: str) -> "ArrowTexts":
        """The ``key`` column of a Hugging Face / Data-Juicer dataset."""
        return cls(dataset.data.column(key))

    def __len__(self) -> int:
        return len(self.column)

    def __getitem__(self, i):
        if isinstance(i, slice):
            start, stop, step = i.indices(len(self))
            if step == 1:
                return self.column.slice(start, max(stop - start, 0)).to_pylist()
            return [self[j] for j in range(start, stop, step)]
        if isinstance(i, (np.ndarray, list)):
            return self.column.take(np.asarray(i, dtype=np.int64)).to_pylist()
        i = int(i)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"text index {i} out of range for {len(self)} texts")
        return self.column[i].as_py()

    def __iter__(self) -> Iterator[str]:
        chunks = getattr(self.column, "chunks", [self.column])
        for chunk in chunks:
            for start in range(0, len(chunk), 4096):  # a bounded slice of Python strings at a time
                yield from chunk.slice(start, 4096).to_pylist()

    def __repr__(self) -> str:
        return f"ArrowTexts(n={len(self)})"
