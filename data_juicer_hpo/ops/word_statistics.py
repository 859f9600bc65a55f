"""Word statistics of a whole batch of texts, equal to Data-Juicer's filters bit for bit: ``num_words``,
``word_rep_ratio``, ``stopwords_ratio`` and ``flagged_words_ratio`` without a tokenizer model.

Those filters split a text on spaces, newlines and tabs (``get_words_from_document`` without a ``token_func``: a
``re.split`` on ``" |\\n|\\t"``), then refine the words with ``words_refinement`` -- lower-cased (all but
``words_num_filter``), stripped of Data-Juicer's ``SPECIAL_CHARACTERS`` at both ends, empty ones dropped -- per word
and per filter, in Python. Here each distinct raw word is refined once per process, by ``words_refinement`` itself
(:class:`RefinedWords`), and a batch becomes an array of word numbers:

* ``num_words``: the words whose refinement without lower-casing is not empty;
* ``word_rep_ratio``: the refined words' n-grams (``rep_len`` words); equal n-grams are equal tuples of words
  (a word holds no space, so the op's ``" ".join`` of n words tells tuples apart just as well), counted with the
  same sort as the character n-grams (:func:`.char_repetition.repeated_ngrams`); the ratio is the op's: the
  occurrences of n-grams that occur more than once over all n-grams (0.0 without any);
* ``stopwords_ratio`` / ``flagged_words_ratio``: the refined words in the op's own word list for its ``lang``, over
  the refined words (0.0 without any), as the op computes it.

Word augmentation (``use_words_aug``) and tokenizer models are left to the op (see :mod:`.vectorised`).
"""

from typing import List, Optional

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from data_juicer.ops.common import SPECIAL_CHARACTERS, words_refinement

from data_juicer_hpo.ops.char_repetition import repeated_ngrams

__all__ = ["WordBatch"]

_NONE = -1  # the number of an empty refinement

# DJ's strip compares one character at a time with the set: its multi-character (emoji sequence) entries never match
_STRIPPED = "".join(sorted(c for c in SPECIAL_CHARACTERS if len(c) == 1))


def _split(texts: List[str]):
    """(the batch's distinct raw words as an Arrow array, each word's index among them, each text's number of
    words), split as the op splits (empty words included; they refine to nothing); None when Arrow cannot hold a
    text (a lone surrogate is not UTF-8)."""
    try:
        array = pa.array(texts, type=pa.large_string())
    except (pa.ArrowException, UnicodeError):
        return None
    lists = pc.split_pattern(pc.replace_substring(pc.replace_substring(array, "\n", " "), "\t", " "), " ")
    encoded = pc.dictionary_encode(pc.list_flatten(lists))
    counts = pc.list_value_length(lists).to_numpy(zero_copy_only=False).astype(np.int64)
    return encoded.dictionary, encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64), counts


def _refine(raw: pa.Array):
    """(whether each raw word refines to a word without lower-casing, the number of its lower-cased refinement among
    the batch's -1 when empty-, the lower-cased refined words): Python's ``str.lower`` (Arrow's lower-casing is not
    Python's: final sigma, dotted capital I), then Arrow's trim of the same characters as DJ's ``strip``."""
    plain = pc.greater(pc.utf8_length(pc.utf8_trim(raw, _STRIPPED)), 0).to_numpy(zero_copy_only=False)
    lowered = pc.utf8_trim(pa.array([word.lower() for word in raw.to_pylist()], type=pa.large_string()), _STRIPPED)
    encoded = pc.dictionary_encode(lowered)
    numbers = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    words = encoded.dictionary.to_pylist()
    if "" in words:  # the empty refinement is no word
        empty = words.index("")
        numbers = np.where(numbers == empty, _NONE, numbers - (numbers > empty))
        del words[empty]
    return plain, numbers, words


def _refine_in_python(texts: List[str]):
    """What :func:`_split` and :func:`_refine` give, with Data-Juicer's own split and ``words_refinement`` per
    distinct word (slow: for batches Arrow cannot hold)."""
    seen: dict = {}
    indices, counts = [], np.empty(len(texts), dtype=np.int64)
    for i, text in enumerate(texts):
        parts = text.replace("\n", " ").replace("\t", " ").split(" ")
        indices += [seen.setdefault(part, len(seen)) for part in parts]
        counts[i] = len(parts)
    plain = np.array([bool(words_refinement([w], strip_chars=SPECIAL_CHARACTERS)) for w in seen], dtype=bool)
    refined = [words_refinement([w], lower_case=True, strip_chars=SPECIAL_CHARACTERS) for w in seen]
    numbering: dict = {}
    numbers = np.array([numbering.setdefault(r[0], len(numbering)) if r else _NONE for r in refined], dtype=np.int64)
    return plain.reshape(-1), numbers.reshape(-1), list(numbering), np.asarray(indices, dtype=np.int64), counts


class WordBatch:
    """A batch's texts as word numbers: every raw word of every text in order, with the text each belongs to."""

    def __init__(self, texts: List[str]):
        self.n = len(texts)
        split = _split(texts)
        if split is not None:
            raw, indices, counts = split
            plain, numbers, self.words = _refine(raw)
        else:
            plain, numbers, self.words, indices, counts = _refine_in_python(texts)
        owners = np.repeat(np.arange(self.n, dtype=np.int64), counts)
        self.plain_counts = np.bincount(owners, weights=plain[indices], minlength=self.n).astype(np.int64)
        numbers = numbers[indices]
        kept = numbers != _NONE
        self.numbers, self.owners = numbers[kept], owners[kept]  # the lower-cased refined words, text by text
        self.lengths = np.bincount(self.owners, minlength=self.n).astype(np.int64)

    def __len__(self) -> int:
        return self.n

    def num_words(self) -> np.ndarray:
        return self.plain_counts

    def repetition_ratios(self, n: int) -> Optional[np.ndarray]:
        """``word_rep_ratio`` for ``rep_len`` ``n``; None when a hash collision made the count unsure."""
        bits = max(1, int(len(self.words) - 1).bit_length())
        found = repeated_ngrams(self.numbers.astype(np.uint64), self.lengths, n, bits)
        if found is None:
            return None
        counts, docs = found
        repeated = np.bincount(docs, weights=counts, minlength=self.n)
        total = np.maximum(self.lengths - n + 1, 0)
        out = np.zeros(self.n)
        has = total > 0
        out[has] = repeated[has] / total[has].astype(np.float64)
        return out

    def listed_ratios(self, listed) -> np.ndarray:
        """The share of each text's refined words that are in ``listed`` (0.0 for a text without words), capped at
        1.0 as the ops do."""
        member = np.fromiter((word in listed for word in self.words), dtype=bool, count=len(self.words))
        hits = np.bincount(self.owners[member[self.numbers]], minlength=self.n)
        out = np.zeros(self.n)
        has = self.lengths > 0
        out[has] = hits[has].astype(np.float64) / self.lengths[has].astype(np.float64)
        return np.minimum(out, 1.0)
