"""Character statistics of a whole batch of texts with numpy, equal to Data-Juicer's filters bit for bit.

Data-Juicer's text filters (``ops/filter/``) loop over each document's characters in Python. Here a batch's texts
are turned into one array of code points (what Python's ``len`` and indexing count, lone surrogates included) and
each statistic is a few array operations, then the op's own arithmetic on the same integers -- a Python
``int / int`` and numpy's float64 division are both the correctly rounded quotient, so the floats are identical:

* ``text_len`` (``text_length_filter``): the code points of each text;
* ``alnum_ratio`` (``alphanumeric_filter`` without tokenization): characters for which ``str.isalnum`` holds, over
  the length (0.0 for an empty text);
* ``special_char_ratio`` (``special_characters_filter``): characters in Data-Juicer's ``SPECIAL_CHARACTERS`` set
  (its multi-character emoji entries never equal one character, as in the op), over the length;
* ``avg_line_length`` and ``max_line_length`` (``average_line_length_filter``, ``maximum_line_length_filter``):
  the lines of ``str.splitlines`` -- its eleven line boundaries, ``\\r\\n`` counting as one, no empty line after a
  final boundary -- found from the positions of the boundary characters.

A predicate of a character (``isalnum``, membership of a set) is asked of Python once per distinct code point and
process, and remembered in a table over all of Unicode (:class:`CharClasses`); counts per text are sums over each
text's slice of the batch (``np.add.reduceat``).
"""

import functools
from typing import Callable, Dict, List, Optional

import numpy as np
from data_juicer.ops.common.special_characters import SPECIAL_CHARACTERS

__all__ = ["TextBatch", "CharClasses", "CLASSES", "LINE_BREAKS", "CHAR_STATISTICS", "char_statistic"]

# str.splitlines' boundaries (Python docs, "str.splitlines"); \r\n is one boundary
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_CR, _LF = ord("\r"), ord("\n")
_UNICODE = 0x110000


class CharClasses:
    """Character classes of whole arrays of code points, one bit each (:data:`ALNUM`, :data:`SPECIAL`,
    :data:`LINE_BREAK`): each distinct code point is classified by Python once per process, then read from a table
    over all of Unicode (one byte per code point)."""

    UNKNOWN = -128  # the sign bit: not classified yet

    def __init__(self, predicates: Dict[int, Callable[[str], bool]]):
        self.predicates = predicates
        self.table = np.full(_UNICODE, self.UNKNOWN, dtype=np.int8)

    def classify(self, character: str) -> int:
        return sum(bit for bit, predicate in self.predicates.items() if predicate(character))

    def __call__(self, codes: np.ndarray) -> np.ndarray:
        found = self.table[codes]
        if found.min(initial=0) < 0:
            new = np.unique(codes[found < 0])
            self.table[new] = [self.classify(chr(c)) for c in new.tolist()]
            found = self.table[codes]
        return found


ALNUM, SPECIAL, LINE_BREAK = 1, 2, 4
CLASSES = CharClasses(
    {ALNUM: str.isalnum, SPECIAL: SPECIAL_CHARACTERS.__contains__, LINE_BREAK: LINE_BREAKS.__contains__}
)


class TextBatch:
    """A batch's texts as one array of code points (``codes``) with each text's ``offsets`` into it; the arrays
    several statistics share are computed once, when first asked for."""

    def __init__(self, texts: List[str]):
        self.texts = texts
        self.lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
        self.offsets = np.concatenate([[0], np.cumsum(self.lengths)]).astype(np.int64)
        # one code point per character, as str indexing sees them (lone surrogates kept as they are)
        self.codes = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)

    @classmethod
    def of(cls, texts) -> Optional["TextBatch"]:
        """The batch of ``texts``, or None when one is not a string (then the op decides what happens)."""
        texts = list(texts)
        return cls(texts) if all(isinstance(t, str) for t in texts) else None

    def __len__(self) -> int:
        return len(self.texts)

    @functools.cached_property
    def classes(self) -> np.ndarray:
        """The :data:`CLASSES` bits of every character."""
        return CLASSES(self.codes)

    def count(self, bit: int) -> np.ndarray:
        """How many of each text's characters are of class ``bit``."""
        out = np.zeros(len(self), dtype=np.int64)
        filled = self.lengths > 0  # reduceat sums from each start to the next: an empty text has no slice
        if filled.any():
            flags = (self.classes & bit).astype(bool)
            out[filled] = np.add.reduceat(flags, self.offsets[:-1][filled], dtype=np.int64)
        return out

    def ratio(self, counts: np.ndarray) -> np.ndarray:
        """``counts / length`` per text, 0.0 for an empty text (the ops' ``x / len(text) if len(text) else 0.0``)."""
        out = np.zeros(len(self))
        has = self.lengths > 0
        out[has] = counts[has].astype(np.float64) / self.lengths[has].astype(np.float64)
        return out

    @functools.cached_property
    def breaks(self) -> np.ndarray:
        """Positions (into ``codes``) of the line-boundary characters, in order."""
        return np.flatnonzero(self.classes & LINE_BREAK)

    def owners(self, positions: np.ndarray) -> np.ndarray:
        """The text holding each character position (an empty text holds none)."""
        return np.searchsorted(self.offsets, positions, side="right") - 1

    @functools.cached_property
    def line_counts(self) -> np.ndarray:
        """``len(text.splitlines())`` of each text: its boundary characters, less one per ``\\r\\n`` pair, plus a
        last line when the text does not end with a boundary."""
        codes, offsets = self.codes, self.offsets
        returns = self.breaks[codes[self.breaks] == _CR]
        owner = self.owners(returns)
        inside = returns + 1 < offsets[owner + 1]  # the \r is not its text's last character
        returns, owner = returns[inside], owner[inside]
        pairs = np.bincount(owner[codes[returns + 1] == _LF], minlength=len(self))
        open_end = self.lengths > 0
        open_end[open_end] = (self.classes[offsets[1:][open_end] - 1] & LINE_BREAK) == 0
        boundaries = np.bincount(self.owners(self.breaks), minlength=len(self))
        return boundaries - pairs + open_end

    @functools.cached_property
    def longest_lines(self) -> np.ndarray:
        """``max(map(len, text.splitlines()))`` of each text, 0 without lines. A line ends at each boundary
        character and at the text's end; the empty "line" between ``\\r`` and ``\\n`` changes no maximum."""
        n, breaks = len(self), self.breaks
        ends = self.offsets[1:]
        # every line end in order: text ends sort before a boundary at the same position (the next text's first
        # character); the next line starts after a boundary, or at the position of a text end
        position = np.concatenate([ends, breaks])
        is_break = np.concatenate([np.zeros(n, dtype=np.int64), np.ones(len(breaks), dtype=np.int64)])
        order = np.lexsort((is_break, position))
        position, is_break = position[order], is_break[order]
        starts = np.concatenate([[0], (position + is_break)[:-1]])
        line_lengths = position - starts
        owner = np.concatenate([np.arange(n), self.owners(breaks)])[order]
        firsts = np.searchsorted(owner, np.arange(n))  # every text owns its own end: no group is empty
        return np.maximum.reduceat(line_lengths, firsts) if n else np.zeros(0, dtype=np.int64)


def _text_len(batch: TextBatch) -> np.ndarray:
    return batch.lengths


def _alnum_ratio(batch: TextBatch) -> np.ndarray:
    return batch.ratio(batch.count(ALNUM))


def _special_char_ratio(batch: TextBatch) -> np.ndarray:
    return batch.ratio(batch.count(SPECIAL))


def _avg_line_length(batch: TextBatch) -> np.ndarray:
    lines = batch.line_counts
    out = np.zeros(len(batch))
    has = lines > 0
    out[has] = batch.lengths[has].astype(np.float64) / lines[has].astype(np.float64)
    return out


def _max_line_length(batch: TextBatch) -> np.ndarray:
    return batch.longest_lines


CHAR_STATISTICS: Dict[str, Callable[[TextBatch], np.ndarray]] = {
    "text_len": _text_len,
    "alnum_ratio": _alnum_ratio,
    "special_char_ratio": _special_char_ratio,
    "avg_line_length": _avg_line_length,
    "max_line_length": _max_line_length,
}


def char_statistic(stat: str, batch: TextBatch) -> np.ndarray:
    """The statistic ``stat`` (a key of :data:`CHAR_STATISTICS`) of every text of ``batch``: ints for lengths,
    floats for ratios, as the ops give them."""
    return CHAR_STATISTICS[stat](batch)
