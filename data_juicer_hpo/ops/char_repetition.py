"""``character_repetition_filter``'s statistic for a whole batch with numpy: the same numbers, several times faster.

Data-Juicer's op (``ops/filter/character_repetition_filter.py``, ``compute_stats_batched``) counts each document's
character n-grams in a Python dict: the sweep's dominant cost when ``rep_len`` moves among several values, as each
value is a full count. Here the n-grams of a whole batch are counted with one (SIMD) sort of 64-bit keys, in which
equal n-grams of a document form runs whose lengths are the counts:

* when an n-gram's characters fit in a key beside the document's number (ranked among the batch's distinct
  characters: ``rep_len`` 5 with up to 2,048 distinct characters in 512 documents), the key *is* the n-gram, exactly;
* otherwise the key is a hash of the n-gram (high bits) beside the index of its start (low bits), so the sort also
  tells where each member of a run is; runs are split where the document changes, and every member is compared
  with the first of its run, character for character: a hash collision can never join two n-grams (a batch with
  one is left to the op), and an n-gram whose hash occurs once in its document occurs once.

The ratio is then the op's: the counts of the ``min(int(sqrt(distinct)), repeated)`` most frequent n-grams over the
number of n-grams (0 for a text shorter than ``rep_len``), the same IEEE division of the same integers.
"""

from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np
from data_juicer.ops.filter.character_repetition_filter import CharacterRepetitionFilter

__all__ = ["OP_NAME", "Characters", "applies", "characters", "char_rep_ratios", "repeated_ngrams"]

OP_NAME = "character_repetition_filter"
_BASE = np.uint64(0x100000001B3)  # odd: multiplying by it is a bijection modulo 2**64
_MIX = np.uint64(0xBF58476D1CE4E5B9)
_CHUNK = 1 << 16  # n-grams whose temporaries are made at once in the hashed path
SUB_BATCH_CHARS = 1 << 20  # characters hashed together: start indices take ~20 bits of a key, the hash 44


def applies(op) -> bool:
    """Whether ``op`` is Data-Juicer's own character-repetition filter (not a subclass that may count otherwise)."""

    return type(op) is CharacterRepetitionFilter


def _code_points(texts: Sequence[str]) -> np.ndarray:
    """Every text's code points, concatenated."""
    joined = "".join(texts).encode("utf-32-le", "surrogatepass")  # one code point per character, as str slices see
    return np.frombuffer(joined, dtype=np.uint32)


@dataclass(frozen=True)
class Characters:
    """A batch's characters, ready for every ``rep_len``: each text's length, each character's rank among the
    batch's distinct characters, and the bits a rank takes."""

    lengths: np.ndarray
    ranks: np.ndarray  # uint64
    bits: int


def characters(texts: List[str], codes: Optional[np.ndarray] = None) -> Optional[Characters]:
    """The batch's :class:`Characters` (``codes``: the texts' code points concatenated, when already known), or None
    when a text is not a string (the caller then asks the op)."""
    if not all(isinstance(t, str) for t in texts):
        return None
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    codes = _code_points(texts) if codes is None else codes
    # a table over the code points up to the largest one (a million entries when a text holds an emoji): of one
    # byte and four per entry, not eight (the slice's arrays would otherwise be dwarfed by it)
    present = np.zeros(int(codes.max()) + 1 if codes.size else 1, dtype=bool)
    present[codes] = True
    rank = np.cumsum(present, dtype=np.int32) - 1
    bits = max(1, int(rank[-1]).bit_length())
    return Characters(lengths, rank[codes].astype(np.uint64), bits)


def char_rep_ratios(texts: List[str], n: int, batch: Optional[Characters] = None) -> Optional[np.ndarray]:
    """The ``char_rep_ratio`` of every text for ``rep_len`` ``n`` (``batch``: their :class:`Characters`, when
    already known), or None when a text is not a string or two different n-grams of one text share a hash (the
    caller then asks the op)."""
    batch = characters(texts) if batch is None else batch
    if n < 1 or batch is None:
        return None
    found = repeated_ngrams(batch.ranks, batch.lengths, n, batch.bits)
    if found is None:
        return None
    counts, docs = found
    per_doc = np.maximum(batch.lengths - n + 1, 0)  # the n-grams of each document (its "total")
    ratios = np.zeros(len(per_doc))
    # per document: distinct n-grams, repeated ones, and the sum of the counts of the most frequent
    distinct = per_doc - np.bincount(docs, weights=counts - 1, minlength=len(per_doc)).astype(np.int64)
    n_repeated = np.bincount(docs, minlength=len(per_doc))
    take = np.minimum(np.sqrt(distinct.astype(np.float64)).astype(np.int64), n_repeated)
    order = np.lexsort((-counts, docs))
    rep_docs, rep_counts = docs[order], counts[order]
    rank = np.arange(len(rep_docs)) - np.searchsorted(rep_docs, rep_docs)
    chosen = rank < take[rep_docs]
    top = np.bincount(rep_docs[chosen], weights=rep_counts[chosen], minlength=len(per_doc))
    has = per_doc > 0
    ratios[has] = top[has] / per_doc[has].astype(np.float64)
    return ratios


def repeated_ngrams(ranks: np.ndarray, lengths: np.ndarray, n: int, bits: int):
    """(count, document) of every n-gram that occurs more than once in its document, for documents of ``lengths``
    items whose ranks (``bits`` each, uint64) are ``ranks``, concatenated; None when two different n-grams of one
    document share a hash (the caller then asks the op). The n-grams of a document never run into the next."""
    empty = np.zeros(0, dtype=np.int64)
    if not len(lengths):
        return empty, empty
    room = 64 - n * bits  # bits left for the document when an n-gram is packed exactly
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    if room >= 1:  # sub-batches of documents whose number fits in the bits left
        cuts = list(range(0, len(lengths), 1 << min(room, 20))) + [len(lengths)]
    else:  # sub-batches of about SUB_BATCH_CHARS items: positions and a long enough hash share a key
        marks = np.arange(1, offsets[-1] // SUB_BATCH_CHARS + 1) * SUB_BATCH_CHARS
        cuts = sorted({0, len(lengths), *np.searchsorted(offsets, marks).tolist()})
    counts, docs = [empty], [empty]
    for first, last in zip(cuts[:-1], cuts[1:]):
        piece = ranks[offsets[first] : offsets[last]]
        part = _groups(piece, lengths[first:last], n, bits, room >= 1)
        if part is None:
            return None
        counts.append(part[0])
        docs.append(part[1] + first)
    return np.concatenate(counts), np.concatenate(docs)


def _groups(ranks: np.ndarray, lengths: np.ndarray, n: int, bits: int, exact: bool):
    """(count, document) of the repeated n-grams of the documents of ``lengths`` whose ranks (``bits`` each) are
    ``ranks``; n-grams packed ``exact``-ly beside the document, or hashed beside their position and then checked."""
    empty = np.zeros(0, dtype=np.int64)
    if not np.any(lengths >= n):
        return empty, empty
    count = len(ranks) - n + 1
    valid = np.ones(count, dtype=bool)  # not the n-1 last starts of a document: they run into the next one
    tails = (np.cumsum(lengths)[:, None] - np.arange(1, n, dtype=np.int64)[None, :]).reshape(-1)
    valid[tails[(tails >= 0) & (tails < count)]] = False
    if exact:
        # the document in the top bits: equal n-grams of two documents are two groups, and a group tells its document
        shift = np.uint64(64 - max(1, int(len(lengths) - 1).bit_length()))
        keys = _packed(ranks, 0, n, bits, count)
        keys |= np.repeat(np.arange(len(lengths), dtype=np.uint64) << shift, lengths)[:count]
        ordered = keys[valid]
        del keys
        ordered.sort()  # one (SIMD) sort, in place: equal n-grams of a document are runs
        ordered = ordered[_in_runs(ordered)]  # the repeated ones (most n-grams occur once)
        if not ordered.size:
            return empty, empty
        starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
        sizes = np.diff(np.append(starts, len(ordered)))
        group_docs = (ordered[starts] >> shift).astype(np.int64)
    else:
        found = _hashed_runs(ranks, lengths, valid, n, bits, count)
        if found is None:
            return None
        sizes, group_docs = found
    repeated = sizes > 1
    return sizes[repeated].astype(np.int64), group_docs[repeated]


def _in_runs(ordered: np.ndarray, shift: int = 0) -> np.ndarray:
    """Whether each value of the sorted ``ordered`` equals a neighbour (it is in a run of two or more), compared
    without its ``shift`` low bits."""
    same = np.empty(max(len(ordered) - 1, 0), dtype=bool)
    for start in range(0, len(same), _CHUNK):
        pair = ordered[start : start + _CHUNK + 1]
        if shift:
            np.equal(pair[1:] >> np.uint64(shift), pair[:-1] >> np.uint64(shift), out=same[start : start + _CHUNK])
        else:
            np.equal(pair[1:], pair[:-1], out=same[start : start + _CHUNK])
    member = np.zeros(len(ordered), dtype=bool)
    member[1:] = same
    member[:-1] |= same
    return member


def _packed(ranks: np.ndarray, first: int, width: int, bits: int, count: int) -> np.ndarray:
    """Characters ``first .. first + width - 1`` of the n-gram at each of ``count`` starts, packed ``bits`` each."""
    keys = np.zeros(count, dtype=np.uint64)
    for j in range(first, first + width):
        keys <<= np.uint64(bits)
        keys |= ranks[j : j + count]
    return keys


def _hashed_runs(ranks, lengths, valid, n: int, bits: int, count: int):
    """(size, document) of the groups of equal n-grams that occur more than once: keys are a hash (high bits) and
    the start position (low bits), so one sort lines up equal hashes with their starts; runs of one hash are split
    where the document changes, and every member of a run is compared with its first, exactly (None when a hash
    collision joined two n-grams)."""
    hashes = np.zeros(count, dtype=np.uint64)
    for j in range(n):
        hashes *= _BASE
        hashes += ranks[j : j + count]
    index_bits = max(1, int(count - 1).bit_length())
    low = np.uint64((1 << index_bits) - 1)
    # a chunk at a time, in place: a document of a million characters would otherwise have several temporaries of
    # 8 MB each (the other worker of a pass peaks meanwhile)
    for start in range(0, count, _CHUNK):
        chunk = hashes[start : start + _CHUNK]
        chunk ^= chunk >> np.uint64(29)  # the high bits are kept: mix the low ones into them
        chunk *= _MIX
        chunk &= ~low
        chunk |= np.arange(start, start + len(chunk), dtype=np.uint64)
    hashes.sort()
    member = _in_runs(hashes, index_bits)  # the starts whose hash occurs more than once (most occur once)
    high = hashes[member] >> np.uint64(index_bits)
    at = (hashes[member] & low).astype(np.int32 if count < 1 << 31 else np.int64)  # a repetitive text: ~all of them
    del hashes, member
    if not at.size:  # every n-gram occurs once
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    docs = np.repeat(np.arange(len(lengths), dtype=np.int32), lengths)[:count]
    docs[~valid] = len(lengths)  # a start that runs into the next document: a document of its own, left out
    docs = docs[at]
    starts = np.flatnonzero(np.concatenate([[True], (high[1:] != high[:-1]) | (docs[1:] != docs[:-1])]))
    del high
    sizes = np.diff(np.append(starts, len(at)))
    lead = np.repeat(at[starts], sizes)
    per_part = max(1, 64 // bits)
    for first in range(0, n, per_part):  # exact: the n-grams' characters, packed a part at a time
        part = _packed(ranks, first, min(per_part, n - first), bits, count)
        for start in range(0, len(at), _CHUNK):
            if not np.array_equal(part[at[start : start + _CHUNK]], part[lead[start : start + _CHUNK]]):
                return None
        del part
    docs = docs[starts].astype(np.int64)
    kept = docs < len(lengths)
    return sizes[kept], docs[kept]
