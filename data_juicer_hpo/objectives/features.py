"""Hashed word n-gram features (unigrams + bigrams) as sparse rows, the input of the quality classifier.

Like the HashingTF features of the GPT-3 quality filter that Data-Juicer's quality classifier reproduces, but
computed with numpy: each document's unigram and bigram hashes fall into ``n_buckets`` buckets, the counts are
damped with ``log(1 + tf)`` (a long page should not win by repeating itself) and each row is scaled to unit L2
norm (so that length alone does not decide).
"""

from dataclasses import dataclass, field

import numpy as np

from data_juicer_hpo.objectives.tokens import TokenStreams, pair_hashes

__all__ = ["SparseRows", "hashed_ngram_features", "stack_rows", "take_rows", "stable_argsort"]

DENSE_SHARE = 16  # in SparseRows.gram, a column in at least 1/16 of the rows goes to the dense block
PAIRS_AT_ONCE = 1 << 20  # pairs of values of one column handled together in SparseRows.gram (memory: ~40 B each)


@dataclass(frozen=True)
class SparseRows:
    """A CSR-like matrix: the non-zeros of row ``r`` are ``values[indptr[r]:indptr[r+1]]`` at ``columns[...]``."""

    indptr: np.ndarray  # int64, n_rows + 1
    columns: np.ndarray  # int64
    values: np.ndarray  # float64
    n_columns: int
    row_of_value: np.ndarray = field(init=False, repr=False, compare=False)
    _non_empty: np.ndarray = field(init=False, repr=False, compare=False)

    @property
    def n_rows(self) -> int:
        return len(self.indptr) - 1

    def __reduce__(self):
        """Pickled without the arrays derived from the others (a fold's rows come back from a worker process)."""
        return (SparseRows, (self.indptr, self.columns, self.values, self.n_columns))

    def __post_init__(self):
        # The row of each stored value, needed by every product; computed once (the dataclass is frozen).
        object.__setattr__(self, "row_of_value", np.repeat(np.arange(self.n_rows), np.diff(self.indptr)))
        object.__setattr__(self, "_non_empty", np.diff(self.indptr) > 0)

    def dot(self, weights: np.ndarray) -> np.ndarray:
        """``X @ weights`` for a dense weight vector."""
        out = np.zeros(self.n_rows)
        # reduceat is about twice as fast as a weighted bincount over rows, but it would give an empty row the
        # next row's first value, so only non-empty rows take part.
        starts = self.indptr[:-1][self._non_empty]
        if len(starts):
            out[self._non_empty] = np.add.reduceat(self.values * weights[self.columns], starts)
        return out

    def dot_transposed(self, row_weights: np.ndarray) -> np.ndarray:
        """``X.T @ row_weights``."""
        products = self.values * row_weights[self.row_of_value]
        return np.bincount(self.columns, weights=products, minlength=self.n_columns)

    def gram(self) -> np.ndarray:
        """``X @ X.T``, dense (``n_rows`` squared). The columns in many rows (a common word) form a dense block
        multiplied by BLAS; each rarer column adds the products of its values to every pair of its rows -- each
        pair once, in the upper triangle, which is then mirrored (half the pairs: they cost more than the block)."""
        n = self.n_rows
        out = None  # n squared: each such array is made once (its pages are written anew: time on the first fit)
        rows_in = np.bincount(self.columns, minlength=self.n_columns)
        dense = rows_in >= max(2, n // DENSE_SHARE)
        in_block = dense[self.columns]
        if in_block.any():
            block_columns = np.flatnonzero(dense)
            slot = np.zeros(self.n_columns, dtype=np.int64)
            slot[block_columns] = np.arange(len(block_columns))
            block = np.zeros((n, len(block_columns)))
            block[self.row_of_value[in_block], slot[self.columns[in_block]]] = self.values[in_block]
            out = block @ block.T
            del block, slot
        rest = ~in_block
        # each value with itself; a row's values are summed in column order, as in every other order used here
        diagonal = np.bincount(self.row_of_value[rest], weights=self.values[rest] ** 2, minlength=n)
        order = np.flatnonzero(rest & (rows_in >= 2)[self.columns])  # a column in one row pairs with no other
        order = order[stable_argsort(self.columns[order])]  # stable: a column's rows stay ascending
        columns, rows, values = self.columns[order], self.row_of_value[order], self.values[order]
        starts = np.flatnonzero(np.concatenate([[True], columns[1:] != columns[:-1]]))
        sizes = np.diff(np.append(starts, len(columns)))
        later = np.repeat(starts + sizes, sizes) - np.arange(len(columns)) - 1  # per value: its column's later values
        upper = None
        ends = np.cumsum(later)
        cuts = np.unique(np.searchsorted(ends, np.arange(0, ends[-1] if len(ends) else 0, PAIRS_AT_ONCE), "right"))
        for a, b in zip(cuts, np.append(cuts[1:], len(later))):
            k = later[a:b]
            left = np.repeat(np.arange(a, b), k)
            right = left + 1 + np.arange(len(left)) - np.repeat(np.cumsum(k) - k, k)
            part = np.bincount(rows[left] * n + rows[right], weights=values[left] * values[right], minlength=n * n)
            del left, right
            if upper is None:
                upper = part
            else:
                upper += part
            del part
        if out is None:
            out = np.zeros((n, n))
        if upper is not None:
            upper = upper.reshape(n, n)
            out += upper
            out += upper.T
        out.flat[:: n + 1] += diagonal
        return out


def stable_argsort(keys: np.ndarray) -> np.ndarray:
    """``np.argsort(keys, kind="stable")`` of non-negative integers; below 2**32 as two passes of numpy's radix sort
    of 16-bit keys (low half, then high half: stable, so ties keep the low half's order), a third of the time of
    the general stable sort on a fold's columns."""
    if len(keys) == 0 or keys.max() >= 2**32:
        return np.argsort(keys, kind="stable")
    order = np.argsort((keys & 0xFFFF).astype(np.uint16), kind="stable")
    return order[np.argsort((keys[order] >> 16).astype(np.uint16), kind="stable")]


def hashed_ngram_features(streams: TokenStreams, docs: np.ndarray, n_buckets: int) -> SparseRows:
    """The feature rows of documents ``docs`` (in that order) of ``streams``."""
    docs = np.asarray(docs, dtype=np.int64)
    lengths = streams.lengths[docs]
    if len(docs) and np.array_equal(docs, np.arange(docs[0], docs[0] + len(docs))):
        hashes = streams.hashes[streams.offsets[docs[0]] : streams.offsets[docs[0] + len(docs)]]
    else:
        hashes = np.concatenate([streams.doc(i) for i in docs] + [streams.hashes[:0]])
    rows = np.repeat(np.arange(len(docs), dtype=np.int64), lengths)
    # A bigram must not straddle two documents: drop the pair that starts at each document's last token.
    pair_ok = np.ones(max(len(hashes) - 1, 0), dtype=bool)
    ends = np.cumsum(lengths)[:-1] - 1
    pair_ok[ends[(ends >= 0) & (ends < len(pair_ok))]] = False
    bigrams = pair_hashes(hashes[:-1], hashes[1:])[pair_ok]
    buckets = np.concatenate([hashes, bigrams]) % np.uint64(n_buckets)
    owners = np.concatenate([rows, rows[:-1][pair_ok]])
    keys = owners * n_buckets + buckets.astype(np.int64)
    if len(docs) * n_buckets <= 2**32:  # the same keys, sorted faster in 32 bits (a fold: 40 % less time)
        keys = keys.astype(np.uint32)
    keys, counts = np.unique(keys, return_counts=True)
    key_rows, columns = np.divmod(keys.astype(np.int64), n_buckets)
    values = np.log1p(counts.astype(np.float64))
    norms = np.sqrt(np.bincount(key_rows, weights=values * values, minlength=len(docs)))
    values /= norms[key_rows]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(key_rows, minlength=len(docs)))])
    return SparseRows(indptr.astype(np.int64), columns, values, n_buckets)


def stack_rows(top: SparseRows, bottom: SparseRows) -> SparseRows:
    """The rows of ``top`` followed by those of ``bottom`` (same number of columns)."""
    if top.n_columns != bottom.n_columns:
        raise ValueError(f"cannot stack {top.n_columns} columns on {bottom.n_columns}")
    indptr = np.concatenate([top.indptr, bottom.indptr[1:] + top.indptr[-1]])
    columns = np.concatenate([top.columns, bottom.columns])
    return SparseRows(indptr, columns, np.concatenate([top.values, bottom.values]), top.n_columns)


def take_rows(rows: SparseRows, which: np.ndarray) -> SparseRows:
    """The rows ``which`` of ``rows``, in that order."""
    which = np.asarray(which, dtype=np.int64)
    starts, stops = rows.indptr[which], rows.indptr[which + 1]
    picked = np.concatenate([np.arange(a, b) for a, b in zip(starts, stops)] + [np.zeros(0, dtype=np.int64)])
    indptr = np.concatenate([[0], np.cumsum(stops - starts)]).astype(np.int64)
    return SparseRows(indptr, rows.columns[picked], rows.values[picked], rows.n_columns)
