"""Which filters' statistics the plugin computes for a whole batch at once, and the check that keeps them the op's.

The text filters below compute one statistic per document in a Python loop; :mod:`.text_statistics`,
:mod:`.word_statistics` and :mod:`.char_repetition` compute the same numbers for a whole batch with numpy and
Arrow. Every batch is checked: the op itself computes the statistic of three of its documents (the first, the
middle and the last one), and when a value differs in type or in any bit the op computes the whole batch instead
(a warning says so). A batch is computed a slice of at most :data:`SLICE_CHARS` characters at a time, and what
several filters share in a slice -- the code points, the words -- is computed once (:class:`BatchTexts`).

Left to the op, with the reason logged once per pass (:func:`reasons`): a filter whose words or tokens come from a
tokenizer model (``tokenization: true``: a sentencepiece or Hugging Face model, whose pieces the plugin cannot
reproduce without running it), word augmentation (``use_words_aug``), and subclasses (they may compute otherwise).
"""

from typing import Callable, Dict, List, Optional

import numpy as np
from data_juicer.ops.filter.alphanumeric_filter import AlphanumericFilter
from data_juicer.ops.filter.average_line_length_filter import AverageLineLengthFilter
from data_juicer.ops.filter.character_repetition_filter import CharacterRepetitionFilter
from data_juicer.ops.filter.flagged_words_filter import FlaggedWordFilter
from data_juicer.ops.filter.maximum_line_length_filter import MaximumLineLengthFilter
from data_juicer.ops.filter.special_characters_filter import SpecialCharactersFilter
from data_juicer.ops.filter.stopwords_filter import StopWordsFilter
from data_juicer.ops.filter.text_length_filter import TextLengthFilter
from data_juicer.ops.filter.word_repetition_filter import WordRepetitionFilter
from data_juicer.ops.filter.words_num_filter import WordsNumFilter
from data_juicer.utils.constant import Fields
from loguru import logger

from data_juicer_hpo.ops import char_repetition
from data_juicer_hpo.ops.text_statistics import TextBatch, char_statistic
from data_juicer_hpo.ops.word_statistics import WordBatch

__all__ = [
    "BatchTexts",
    "STATISTIC",
    "SLICE_CHARS",
    "applies",
    "reason",
    "reasons",
    "batch_statistics",
    "fast_statistics",
    "op_statistics",
]

# The characters of a batch computed on at once: the arrays of a slice (code points, their classes, words, character
# n-gram hashes: several of 4 to 8 bytes per character) stay bounded whatever the batch size and the documents'
# lengths; a slice of a million characters is far past where numpy's per-call cost matters.
SLICE_CHARS = 1 << 20


class BatchTexts:
    """One batch's texts of each text key, and what several filters derive from them, computed when first asked
    for (None when a text is not a string: the ops decide)."""

    def __init__(self, samples):
        self.samples = samples
        self._made: dict = {}

    def _get(self, kind: str, key: str, make):
        if (kind, key) not in self._made:
            self._made[(kind, key)] = make()
        return self._made[(kind, key)]

    def texts(self, key: str) -> Optional[TextBatch]:
        return self._get("texts", key, lambda: TextBatch.of(self.samples[key]))

    def words(self, key: str) -> Optional[WordBatch]:
        return self._get("words", key, lambda: None if self.texts(key) is None else WordBatch(self.texts(key).texts))

    def characters(self, key: str):
        texts = self.texts(key)
        if texts is None:
            return None
        return self._get("chars", key, lambda: char_repetition.characters(texts.texts, texts.codes))


def _char(stat: str):
    def statistic(op, batch: BatchTexts):
        texts = batch.texts(op.text_key)
        return None if texts is None else char_statistic(stat, texts)

    return statistic


def _char_rep(op, batch: BatchTexts):
    texts = batch.texts(op.text_key)
    return None if texts is None else char_repetition.char_rep_ratios(texts.texts, op.n, batch.characters(op.text_key))


def _words(compute: Callable[[object, WordBatch], np.ndarray]):
    def statistic(op, batch: BatchTexts):
        words = batch.words(op.text_key)
        return None if words is None else compute(op, words)

    return statistic


# op class -> (its statistic, the function of (op, BatchTexts) that computes it for the batch, or None)
STATISTIC: Dict[type, tuple] = {
    TextLengthFilter: ("text_len", _char("text_len")),
    AverageLineLengthFilter: ("avg_line_length", _char("avg_line_length")),
    MaximumLineLengthFilter: ("max_line_length", _char("max_line_length")),
    AlphanumericFilter: ("alnum_ratio", _char("alnum_ratio")),
    SpecialCharactersFilter: ("special_char_ratio", _char("special_char_ratio")),
    CharacterRepetitionFilter: ("char_rep_ratio", _char_rep),
    WordsNumFilter: ("num_words", _words(lambda op, words: words.num_words())),
    WordRepetitionFilter: ("word_rep_ratio", _words(lambda op, words: words.repetition_ratios(op.n))),
    StopWordsFilter: ("stopwords_ratio", _words(lambda op, words: words.listed_ratios(op.STOPWORDS[op.lang]))),
    FlaggedWordFilter: (
        "flagged_words_ratio",
        _words(lambda op, words: words.listed_ratios(op.FLAGGED_WORDS[op.lang])),
    ),
}


def reason(op) -> Optional[str]:
    """Why the statistic of ``op`` (a filter whose class has a vectorised statistic) is left to the op, or None."""
    family = next((cls for cls in STATISTIC if isinstance(op, cls)), None)
    if family is None:
        return None
    if type(op) is not family:
        return f"a subclass of {family.__name__} may compute otherwise"
    if getattr(op, "tokenization", False) or getattr(op, "model_key", None) is not None:
        return "its words come from a tokenizer model, whose pieces the plugin does not reproduce"
    if getattr(op, "use_words_aug", False):
        return "word augmentation (use_words_aug) is computed by the op"
    listed = getattr(op, "STOPWORDS", None) or getattr(op, "FLAGGED_WORDS", None)
    if listed is not None and op.lang not in listed:
        return f"its word lists have no language {op.lang!r}"
    return None


def applies(op) -> bool:
    """Whether the statistic of ``op`` is computed here for whole batches."""
    return type(op) in STATISTIC and reason(op) is None


def reasons(ops) -> List[str]:
    """One line per op of a vectorised family whose statistic is left to the op, saying why (for the log)."""
    return [
        f"auto_hpo: {op._name}'s statistic is computed by the op, not vectorised: {reason(op)}"
        for op in ops
        if reason(op) is not None
    ]


def op_statistics(op, samples, fields: List[str], n: int) -> List[dict]:
    """The op's statistics dict of each of the ``n`` samples, computed by the op on empty statistics."""

    # the unwrapped methods: an error must not silently drop a sample and misalign the statistics
    batch = {key: samples[key] for key in fields}
    batch[Fields.stats] = [{} for _ in range(n)]
    if op.is_batched_op():
        return op.compute_stats_batched(batch)[Fields.stats]
    for j in range(n):
        sample = {key: batch[key][j] for key in fields}
        sample[Fields.stats] = batch[Fields.stats][j]
        batch[Fields.stats][j] = op.compute_stats_single(sample)[Fields.stats]
    return batch[Fields.stats]


def _same(ours, theirs) -> bool:
    """Equal in type and value, floats to the last bit."""
    if type(ours) is not type(theirs):
        return False
    return ours.hex() == theirs.hex() if isinstance(ours, float) else ours == theirs


def _slices(samples, keys, n: int, limit: int):
    """(start, end) of consecutive runs of the ``n`` samples holding at most ``limit`` characters of ``keys``
    together (a longer sample alone)."""
    start = size = 0
    for j in range(n):
        chars = sum(len(text) for text in (samples[key][j] for key in keys) if isinstance(text, str))
        if size and size + chars > limit:
            yield start, j
            start, size = j, 0
        size += chars
    if n:
        yield start, n


def fast_statistics(ops, samples, fields: List[str], n: int, limit: int = SLICE_CHARS) -> Dict[int, Dict[str, list]]:
    """Index in ``ops`` -> the op's statistic for the ``n`` samples of a batch ({stat key: list of values}) for
    each op whose statistic is vectorised (:func:`batch_statistics`), computed on slices of at most ``limit``
    characters (:data:`SLICE_CHARS`) with what the slice's ops share; an op whose statistic differs from its own
    in any slice is left out (the caller asks the op for the batch)."""
    wanted = [i for i, op in enumerate(ops) if applies(op) and op.text_key in fields]
    if not n or not wanted:
        return {}
    found: Dict[int, Dict[str, list]] = {i: {} for i in wanted}
    for start, end in _slices(samples, sorted({ops[i].text_key for i in wanted}), n, limit):
        part = samples if (start, end) == (0, n) else {field: samples[field][start:end] for field in fields}
        shared = BatchTexts(part)
        for i in list(found):
            values = batch_statistics(ops[i], part, fields, end - start, shared)
            if values is None:
                del found[i]
                continue
            for key, column in values.items():
                found[i].setdefault(key, []).extend(column)
    return found


def batch_statistics(op, samples, fields: List[str], n: int, batch: BatchTexts) -> Optional[Dict[str, list]]:
    """The statistic of ``op`` for the ``n`` samples of a batch as {stat key: list of values}, computed for the
    whole batch and checked against the op on three samples; None when it does not apply or a probe differs (the
    caller then asks the op for the batch)."""
    if not n or not applies(op) or op.text_key not in fields:
        return None
    key, compute = STATISTIC[type(op)]
    values = compute(op, batch)
    if values is None:
        return None
    values = values.tolist()
    probes = sorted({0, n // 2, n - 1})
    asked = op_statistics(op, {field: [samples[field][j] for j in probes] for field in fields}, fields, len(probes))
    if not all(set(stats) == {key} and _same(values[j], stats[key]) for j, stats in zip(probes, asked)):
        logger.warning(f"auto_hpo: {op._name}'s own statistics differ from the vectorised ones: the op is used")
        return None
    return {key: values}
