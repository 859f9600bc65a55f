"""A hashed word-bigram language model whose training is a sum of cached per-document counts.

Words fall into ``n_buckets`` hashed buckets; the model is a distribution over buckets:

* unigram: add-``k`` smoothed, ``P1(w) = (c(w) + k) / (N + k * V)``;
* bigram: Dirichlet-smoothed towards the unigram (MacKay & Peto's hierarchical prior),
  ``P2(w | v) = (c(v, w) + beta * P1(w)) / (c(v .) + beta)``, where ``c(v .)`` counts ``v`` as a left context.

Unlike absolute discounting or Kneser-Ney it needs no counts of distinct types, which cannot be summed per
document, so a trial's model is just the sum of its documents' counts. Only the counts that the fixed held-out
text asks about are kept, so evaluating a trial costs a few ``np.bincount`` calls. With no training data both
levels are uniform and the loss is exactly ``log(V)``.

The defaults ``k = 1`` and ``beta = 1000`` gave the lowest held-out loss on the bench corpus against the
reference set (beta from 3 to 3000 tried: a large beta trusts a context only once it has been seen often;
interpolated absolute discounting, which needs per-trial type counts, was only 0.1 nat better and cost an extra
8 s of setup).
"""

from dataclasses import dataclass, fields
from typing import List

import numpy as np

from data_juicer_hpo.objectives.tokens import TokenStreams

__all__ = [
    "HeldOut",
    "BigramCounts",
    "held_out",
    "bigram_counts",
    "joined_counts",
    "cross_entropy",
    "trained_counts",
    "loss_of_counts",
]


def _within_doc_pairs(streams: TokenStreams, ids: np.ndarray):
    """(left ids, right ids, owning doc) of every bigram that does not straddle two documents."""
    lengths = streams.lengths
    owners = np.repeat(np.arange(len(streams)), lengths)
    ok = np.ones(max(len(ids) - 1, 0), dtype=bool)
    ends = streams.offsets[1:-1] - 1
    ok[ends[(ends >= 0) & (ends < len(ok))]] = False
    return ids[:-1][ok], ids[1:][ok], owners[:-1][ok]


def _bucket_ids(streams: TokenStreams, n_buckets: int) -> np.ndarray:
    return (streams.hashes % np.uint64(n_buckets)).astype(np.int64)


@dataclass(frozen=True)
class HeldOut:
    """The evaluation text reduced to what the loss needs: distinct bigrams and first words, with multiplicities."""

    n_buckets: int
    pair_keys: np.ndarray  # sorted distinct left * V + right
    pair_left: np.ndarray
    pair_right: np.ndarray
    pair_weights: np.ndarray  # how often each occurs
    first_words: np.ndarray  # distinct first words of documents (scored by the unigram level)
    first_weights: np.ndarray
    n_tokens: int


def held_out(streams: TokenStreams, n_buckets: int) -> HeldOut:
    ids = _bucket_ids(streams, n_buckets)
    left, right, _ = _within_doc_pairs(streams, ids)
    pair_keys, pair_weights = np.unique(left * n_buckets + right, return_counts=True)
    firsts = ids[streams.offsets[:-1][streams.lengths > 0]]
    first_words, first_weights = np.unique(firsts, return_counts=True)
    pair_left, pair_right = np.divmod(pair_keys, n_buckets)
    return HeldOut(n_buckets, pair_keys, pair_left, pair_right, pair_weights, first_words, first_weights, len(ids))


@dataclass(frozen=True)
class BigramCounts:
    """Per-document training counts, stored doc after doc so that a trial's counts are a masked bincount."""

    words: np.ndarray  # bucket id of every token (int32)
    word_lengths: np.ndarray  # tokens per document
    last_words: np.ndarray  # bucket id of each document's last token (-1 when empty)
    pairs: np.ndarray  # index into HeldOut.pair_keys of every training bigram that the held-out text has (int32)
    pair_lengths: np.ndarray  # such bigrams per document


def bigram_counts(streams: TokenStreams, evaluation: HeldOut) -> BigramCounts:
    ids = _bucket_ids(streams, evaluation.n_buckets)
    left, right, owners = _within_doc_pairs(streams, ids)
    keys = left * evaluation.n_buckets + right
    where = np.searchsorted(evaluation.pair_keys, keys)
    where[where == len(evaluation.pair_keys)] = 0
    found = evaluation.pair_keys[where] == keys if len(evaluation.pair_keys) else np.zeros(len(keys), dtype=bool)
    lengths = streams.lengths
    last = np.full(len(streams), -1, dtype=np.int64)
    last[lengths > 0] = ids[streams.offsets[1:][lengths > 0] - 1]
    return BigramCounts(
        words=ids.astype(np.int32),
        word_lengths=lengths,
        last_words=last,
        pairs=where[found].astype(np.int32),
        pair_lengths=np.bincount(owners[found], minlength=len(streams)),
    )


def joined_counts(parts: List[BigramCounts]) -> BigramCounts:
    """The counts of consecutive chunks of documents as those of all of them (what :func:`bigram_counts` gives on
    the whole token streams: no bigram straddles two documents, so none straddles two chunks)."""
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return BigramCounts(empty.astype(np.int32), empty, empty, empty.astype(np.int32), empty)
    return BigramCounts(*(np.concatenate([getattr(part, f.name) for part in parts]) for f in fields(BigramCounts)))


def trained_counts(counts: BigramCounts, evaluation: HeldOut, times: np.ndarray):
    """Unigram, left-context and held-out-pair counts of the documents, each taken ``times[doc]`` times: one masked
    bincount per distinct multiplicity (a mixture repeats rows a few times at most), exact integers."""
    n_buckets = evaluation.n_buckets
    unigram, contexts = np.zeros(n_buckets, dtype=np.int64), np.zeros(n_buckets, dtype=np.int64)
    pair = np.zeros(len(evaluation.pair_keys), dtype=np.int64)
    for m in np.unique(times[times > 0]):
        doc_mask = times == m
        words = np.bincount(counts.words[np.repeat(doc_mask, counts.word_lengths)], minlength=n_buckets)
        last = counts.last_words[doc_mask]
        unigram = unigram + m * words
        contexts = contexts + m * (words - np.bincount(last[last >= 0], minlength=n_buckets))
        pairs = counts.pairs[np.repeat(doc_mask, counts.pair_lengths)]
        pair = pair + m * np.bincount(pairs, minlength=len(evaluation.pair_keys))
    return unigram, contexts, pair


def cross_entropy(counts: BigramCounts, evaluation: HeldOut, docs: np.ndarray, k: float = 1.0, beta: float = 1000.0):
    """Nats per held-out token of the model trained on documents ``docs``; a document listed twice is trained on
    twice (a data mixture that upsamples a source repeats its rows)."""
    times = np.bincount(np.asarray(docs, dtype=np.int64), minlength=len(counts.word_lengths))
    return loss_of_counts(*trained_counts(counts, evaluation, times), evaluation, k, beta)


def loss_of_counts(unigram, contexts, pair, evaluation: HeldOut, k: float = 1.0, beta: float = 1000.0) -> float:
    """Nats per held-out token of the model with these training counts (:func:`trained_counts`: exact integers, so
    counts summed block by block on a cluster give the very same loss)."""
    n_buckets = evaluation.n_buckets
    p_word = (unigram + k) / (unigram.sum() + k * n_buckets)
    p_pair = (pair + beta * p_word[evaluation.pair_right]) / (contexts[evaluation.pair_left] + beta)
    total = evaluation.pair_weights @ np.log(p_pair) + evaluation.first_weights @ np.log(p_word[evaluation.first_words])
    return float(-total / max(evaluation.n_tokens, 1))
