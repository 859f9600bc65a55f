"""A dataset's texts as a read-only sequence that stays in the dataset's Arrow table.

A sweep's population used to hold every text as a Python string (about 1.3x the corpus size in memory, for the
whole sweep) although only an objective's setup reads them, once, in order. This sequence reads them through the
dataset's Arrow format -- memory-mapped from Data-Juicer's cache files, or in memory -- a batch at a time, and
honours a filtered dataset's indices mapping (Data-Juicer's loader drops empty texts with a ``filter``).
"""

import ctypes
import mmap
from collections.abc import Sequence
from typing import Iterator

import numpy as np

__all__ = ["ArrowTexts"]

BATCH = 4096
_MADV_PAGEOUT = 21  # Linux >= 5.4: reclaim these pages now (file-backed ones are read again on access)


class ArrowTexts(Sequence):
    """``texts[i]``, ``texts[a:b]``, ``texts[index_array]``, ``take(rows)``, ``encoded(a, b)``, ``len`` and
    iteration over one string column of a Hugging Face (or Data-Juicer) dataset."""

    def __init__(self, dataset, key: str = "text"):
        self.key = key
        self.arrow = dataset.select_columns([key]).with_format("arrow")  # no copy: a view of the same table

    @classmethod
    def of(cls, dataset, key: str) -> "ArrowTexts":
        return cls(dataset, key)

    def __len__(self) -> int:
        return len(self.arrow)

    def _strings(self, rows) -> list:
        return self.arrow[rows].column(self.key).to_pylist()

    def __getitem__(self, i):
        if isinstance(i, slice):
            start, stop, step = i.indices(len(self))
            return self._strings(list(range(start, stop, step))) if step != 1 else self._strings(slice(start, stop))
        if isinstance(i, (np.ndarray, list)):
            return self._strings([int(j) for j in i])
        i = int(i)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"text index {i} out of range for {len(self)} texts")
        return self._strings(slice(i, i + 1))[0]

    def take(self, rows) -> list:
        """The texts of rows ``rows`` (ints, in that order), read in one take."""
        return self._strings([int(j) for j in rows])

    def encoded(self, start: int, stop: int) -> list:
        """The UTF-8 bytes of texts ``start .. stop - 1`` (an empty text's for a null) as views of the Arrow
        buffers: no Python string is made (what hashing a text needs; ``str.encode`` of :meth:`__getitem__`'s
        strings gives the same bytes). A column of another type than (large) string is read as strings and
        encoded."""
        column = self.arrow[start:stop].column(self.key)
        out: list = []
        for chunk in column.chunks:
            kind = {"string": np.int32, "large_string": np.int64}.get(str(chunk.type))
            if kind is None:
                out.extend(
                    (t if isinstance(t, str) else "").encode("utf-8", "surrogatepass") for t in chunk.to_pylist()
                )
                continue
            _, offsets, data = chunk.buffers()
            bounds = np.frombuffer(offsets, dtype=kind)[chunk.offset : chunk.offset + len(chunk) + 1].tolist()
            view = memoryview(data) if data is not None else memoryview(b"")
            if chunk.null_count:
                valid = chunk.is_valid().to_numpy(zero_copy_only=False).tolist()
                out.extend(view[a:b] if ok else b"" for a, b, ok in zip(bounds, bounds[1:], valid))
            else:
                out.extend(view[a:b] for a, b in zip(bounds, bounds[1:]))
        return out

    def release_pages(self) -> int:
        """Ask the kernel to take the text column's pages out of this process (``madvise(MADV_PAGEOUT)``, a hint
        that never changes the data): reading every text of a memory-mapped table leaves its pages resident and
        counted in RSS, about the corpus's size. Returns the bytes advised (0 where unsupported)."""

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            column = self.arrow.data.table.column(self.key)
        except (OSError, AttributeError, KeyError):
            return 0
        page, advised = mmap.PAGESIZE, 0
        for chunk in column.chunks:
            for buffer in chunk.buffers():
                if buffer is None or buffer.size < 16 * page:
                    continue
                start = (buffer.address + page - 1) // page * page  # whole pages inside the buffer only
                length = (buffer.address + buffer.size) // page * page - start
                if length > 0 and libc.madvise(ctypes.c_void_p(start), ctypes.c_size_t(length), _MADV_PAGEOUT) == 0:
                    advised += length
        return advised

    def __iter__(self) -> Iterator[str]:
        for batch in self.arrow.iter(batch_size=BATCH):  # a bounded batch of Python strings at a time
            yield from batch.column(self.key).to_pylist()

    def __repr__(self) -> str:
        return f"ArrowTexts(n={len(self)}, key={self.key!r})"
