"""Which filters' statistics the plugin computes for a whole batch at once, and the check that keeps them the op's.

The text filters below compute one statistic per document in a Python loop; :mod:`.text_statistics`,
:mod:`.word_statistics` and :mod:`.char_repetition` compute the same numbers for a whole batch with numpy and
Arrow. Every batch is checked: the op itself computes the statistic of three of its documents (the first, the
middle and the last one of those of at most :data:`PROBE_CHARS` characters: the op's own loop on one document of a
hundred thousand characters costs more than the whole batch's vectorised statistics), and when a value differs in
type or in any bit the op computes the whole batch instead (a warning says so). A batch is computed a slice of at
most :data:`SLICE_CHARS` characters at a time, and what several filters share in a slice -- the code points, the
words -- is computed once (:class:`BatchTexts`).

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

from data_juicer_hpo.memory import return_freed
from data_juicer_hpo.ops import char_repetition
from data_juicer_hpo.ops.text_statistics import TextBatch, char_statistic
from data_juicer_hpo.ops.word_statistics import WordBatch

__all__ = [
    "BatchTexts",
    "STATISTIC",
    "SLICE_CHARS",
    "PROBE_CHARS",
    "applies",
    "reason",
    "reasons",
    "batch_statistics",
    "fast_statistics",
    "op_statistics",
    "probes",
]

# The characters of a batch computed on at once: the arrays of a slice (code points, their classes, words, character
# n-gram hashes: several of 4 to 8 bytes per character) stay bounded whatever the batch size and the documents'
# lengths. 131,072 characters: a batch's working set is then about 6 MiB (51 MiB at a million characters, more than
# the op's own loops need, in every worker at once), and numpy's per-call cost is still far below the work per slice
# (the bench corpus's statistics take the same CPU time as with a million).
SLICE_CHARS = 1 << 17
# The longest document a batch's check asks the op for (when the batch has one that short)
PROBE_CHARS = 4096


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
    each op whose statistic is vectorised, computed on slices of at most ``limit`` characters
    (:data:`SLICE_CHARS`) with what the slice's ops share and checked against the op on three of the batch's
    documents (:func:`probes`); an op whose statistic differs from its own is left out (the caller asks the op for
    the batch)."""
    wanted = [i for i, op in enumerate(ops) if applies(op) and op.text_key in fields]
    if not n or not wanted:
        return {}
    found: Dict[int, list] = {i: [] for i in wanted}
    for start, end in _slices(samples, sorted({ops[i].text_key for i in wanted}), n, limit):
        part = samples if (start, end) == (0, n) else {field: samples[field][start:end] for field in fields}
        shared = BatchTexts(part)
        for i in list(found):
            values = _values(ops[i], shared)
            if values is None:
                del found[i]
                continue
            found[i].extend(values)
    del part, shared
    return_freed()  # the slices' arrays: a worker must not keep its largest batch's pages to its end
    return {
        i: {STATISTIC[type(ops[i])][0]: values}
        for i, values in found.items()
        if _agrees(ops[i], samples, fields, n, values)
    }


def batch_statistics(op, samples, fields: List[str], n: int, batch: BatchTexts) -> Optional[Dict[str, list]]:
    """The statistic of ``op`` for the ``n`` samples of a batch as {stat key: list of values}, computed for the
    whole batch and checked against the op on three samples (:func:`probes`); None when it does not apply or a
    probe differs (the caller then asks the op for the batch)."""
    if not n or not applies(op) or op.text_key not in fields:
        return None
    values = _values(op, batch)
    if values is None or not _agrees(op, samples, fields, n, values):
        return None
    return {STATISTIC[type(op)][0]: values}


def _values(op, batch: BatchTexts) -> Optional[list]:
    values = STATISTIC[type(op)][1](op, batch)
    return None if values is None else values.tolist()


def probes(texts, n: int, limit: int = PROBE_CHARS) -> List[int]:
    """The positions of a batch's documents the op checks: the first, the middle and the last one of those of at
    most ``limit`` characters (a value that is not a string counts as short: the op decides on it), or the shortest
    document when none is that short."""
    lengths = [len(text) if isinstance(text, str) else 0 for text in texts]
    short = [j for j in range(n) if lengths[j] <= limit] or [min(range(n), key=lengths.__getitem__)]
    return sorted({short[0], short[len(short) // 2], short[-1]})


def _agrees(op, samples, fields: List[str], n: int, values: list) -> bool:
    """The op's own statistic of the probed samples equals ``values`` there, in type and in every bit (a warning
    when not)."""
    key = STATISTIC[type(op)][0]
    at = probes(samples[op.text_key], n)
    asked = op_statistics(op, {field: [samples[field][j] for j in at] for field in fields}, fields, len(at))
    if all(set(stats) == {key} and _same(values[j], stats[key]) for j, stats in zip(at, asked)):
        return True
    logger.warning(f"auto_hpo: {op._name}'s own statistics differ from the vectorised ones: the op is used")
    return False
