"""The idea of a threshold, in one place: which arguments of a Data-Juicer filter are thresholds, how a recipe
writes them, and which samples they keep.

*Which arguments.* ``min_len``/``max_len``, ``min_ratio``/``max_ratio`` are pairs; ``min_score`` alone is one-sided.
A threshold is a ``min_``/``max_`` parameter of the op's ``__init__`` whose declared type is a number -- never a
substring match, so ``min_closed_interval`` (a bool, and not even in the signature) is never touched.

*How a recipe writes them.* Some ops parse a threshold from a string:

* ``image_size_filter``/``audio_size_filter``: ``min_size: "10KB"``, read by Data-Juicer's ``size_to_bytes``
  (``data_juicer/utils/mm_utils.py``) into bytes. A bound is written back as plain digits, ``"123456"``: that is
  read as exactly that many bytes, while ``"123456B"`` is an error there, and ``"1.5MB"`` would be read as 15 MB
  (it drops the dot), so such a string is refused rather than passed on.
* ``video_aspect_ratio_filter``: ``min_ratio: "9/21"``, read by ``Fraction(str(x).replace(":", "/"))``. A bound
  is written back as the decimal ``repr`` of the float, which ``Fraction`` reads as that decimal.

Which arguments are parsed is read from the op's ``__init__`` source, so an upgrade that adds such an op is found;
they count as int (bytes) or float thresholds, and ``Threshold.parse`` says how the recipe states them.

*Which samples they keep.* :func:`kept_mask` is the numpy twin of Data-Juicer's keep rule
(``Filter.get_keep_boolean`` in ``data_juicer/ops/base_op.py``); :func:`kept_mask_items` the rule of filters with
one value per media item. List-valued statistics are pooled as Data-Juicer's Analyzer explodes them
(``data_juicer/analysis/overall_analysis.py``: every item counts once, a sample without media contributes nothing).
"""

import inspect
import re
import typing
from dataclasses import dataclass
from fractions import Fraction
from typing import Dict, List, Optional

import numpy as np

__all__ = [
    "Threshold",
    "ThresholdPair",
    "threshold_pairs",
    "threshold_args",
    "match_statistic",
    "recipe_value",
    "live_value",
    "argument_type",
    "SIZE",
    "FRACTION",
    "parsed_args",
    "size_bytes",
    "size_string",
    "fraction_of",
    "to_recipe",
    "to_live",
    "pooled",
    "is_list_valued",
    "kept_mask",
    "kept_mask_items",
]

# ---- how a recipe writes them: thresholds parsed from strings (sizes, fractions) ----

SIZE, FRACTION = "size", "fraction"
_PATTERNS = {
    SIZE: re.compile(r"size_to_bytes\(\s*(\w+)\s*\)"),
    FRACTION: re.compile(r"Fraction\(\s*str\(\s*(\w+)\s*\)"),
}
# what size_to_bytes reads exactly: digits, then an optional unit
_SIZE = re.compile(r"^\s*(\d+)\s*([kmgtpezy]i?b)?\s*$", re.IGNORECASE)
_SHIFT = {u: 10 * (i + 1) for i, u in enumerate("kmgtpezy")}


def parsed_args(op_class) -> Dict[str, str]:
    """``{argument: SIZE | FRACTION}`` for the arguments ``op_class.__init__`` parses from strings."""
    try:
        source = inspect.getsource(op_class.__init__)
    except (TypeError, OSError):
        return {}
    return {arg: kind for kind, pattern in _PATTERNS.items() for arg in pattern.findall(source)}


def size_bytes(value) -> Optional[int]:
    """The byte count ``size_to_bytes`` gives ``value`` (a byte count or a size string such as ``"10KB"``), or
    None when ``value`` is not one it reads exactly."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float):
        return int(value) if value.is_integer() and value >= 0 else None
    if not isinstance(value, str):
        return None
    match = _SIZE.match(value)
    if not match:
        return None
    unit = (match[2] or "").lower()
    return int(match[1]) << _SHIFT[unit[0]] if unit else int(match[1])


def size_string(value) -> str:
    """A byte count as the string ``size_to_bytes`` reads as exactly that count; a fractional count is rounded."""
    if isinstance(value, float) and value == value and abs(value) != float("inf") and not value.is_integer():
        value = round(value)
    count = size_bytes(value)
    if count is None:
        raise ValueError(f"not a byte count (got {value!r})")
    return str(count)


def fraction_of(value) -> Optional[Fraction]:
    """The ``Fraction`` ``video_aspect_ratio_filter`` makes of ``value`` ("16/9", "16:9", 1.5), or None."""
    if isinstance(value, bool):
        return None
    try:
        out = Fraction(str(value).replace(":", "/"))
    except (ValueError, ZeroDivisionError):
        return None
    return out if out >= 0 else None


def to_recipe(kind: Optional[str], value):
    """``value`` as a recipe states it for an argument parsed as ``kind``: a number becomes the string the op reads
    back as that number; a string stays as given."""
    if kind is None or isinstance(value, str):
        return value
    if kind == SIZE:
        return size_string(value)
    return repr(float(value))


def to_live(kind: Optional[str], value):
    """``value`` as the constructed op holds it (bytes, a Fraction)."""
    if kind == SIZE:
        return size_bytes(value)
    if kind == FRACTION:
        return fraction_of(value)
    return value


# ---- which arguments are thresholds ----


@dataclass(frozen=True)
class Threshold:
    arg: str  # e.g. "min_len"
    side: str  # "min" or "max"
    type: type  # int or float (a size string: int bytes; a fraction string: float)
    parse: Optional[str] = None  # parsed.SIZE or parsed.FRACTION: the recipe states it as a string

    @property
    def size(self) -> bool:
        return self.parse == SIZE


@dataclass(frozen=True)
class ThresholdPair:
    suffix: str  # "len" for min_len/max_len
    low: Optional[Threshold]
    high: Optional[Threshold]

    @property
    def args(self) -> List[Threshold]:
        return [t for t in (self.low, self.high) if t is not None]


def _numeric_type(annotation) -> Optional[type]:
    """int or float for a numeric annotation (incl. Optional[...], Annotated[int, ...], int/float subclasses)."""
    if annotation is inspect.Parameter.empty:
        return None
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _numeric_type(typing.get_args(annotation)[0])
    if origin is typing.Union:
        kinds = {_numeric_type(a) for a in typing.get_args(annotation) if a is not type(None)}
        kinds.discard(None)
        return float if float in kinds else (int if kinds == {int} else None)
    if isinstance(annotation, type):
        if issubclass(annotation, bool):
            return None
        if issubclass(annotation, int):
            return int
        if issubclass(annotation, float):
            return float
    return None


def recipe_value(threshold: Threshold, value):
    """``value`` as the recipe states it (a parsed threshold's number becomes the string the op reads back)."""
    return to_recipe(threshold.parse, value)


def live_value(threshold: Threshold, value):
    """``value`` as the constructed op holds it (a size threshold holds bytes, a fraction one a Fraction)."""
    return to_live(threshold.parse, value)


def threshold_pairs(op_class) -> List[ThresholdPair]:
    """The numeric ``min_X``/``max_X`` arguments of ``op_class.__init__``, grouped by ``X`` in signature order."""
    try:
        params = inspect.signature(op_class.__init__).parameters
    except (TypeError, ValueError):
        return []
    parsed = parsed_args(op_class)
    found: Dict[str, Dict[str, Threshold]] = {}
    for name, param in params.items():
        for side in ("min", "max"):
            prefix = side + "_"
            if name.startswith(prefix) and len(name) > len(prefix):
                kind = _numeric_type(param.annotation)
                if kind is None and isinstance(param.default, (int, float)) and not isinstance(param.default, bool):
                    kind = type(param.default)
                if name in parsed:
                    kind = int if parsed[name] == SIZE else float
                    found.setdefault(name[len(prefix) :], {})[side] = Threshold(name, side, kind, parsed[name])
                elif kind is not None:
                    found.setdefault(name[len(prefix) :], {})[side] = Threshold(name, side, kind)
    return [ThresholdPair(suffix, sides.get("min"), sides.get("max")) for suffix, sides in found.items()]


def match_statistic(pair: ThresholdPair, stat_keys: List[str], n_pairs: int = 1) -> Optional[str]:
    """The statistic a pair bounds: the op's only statistic when the op has only this pair, else the one named by
    the pair's suffix (``video_motion_score_filter.max_size`` is a frame size, not a bound of its only statistic)."""
    if len(stat_keys) == 1 and n_pairs == 1:
        return stat_keys[0]
    named = [key for key in stat_keys if pair.suffix in key.split("_") or key.endswith(pair.suffix)]
    return named[0] if len(named) == 1 else None


def argument_type(op_class, arg: str) -> Optional[type]:
    """int or float when ``op_class.__init__`` declares ``arg`` as that number type (None otherwise or unknown)."""
    try:
        param = inspect.signature(op_class.__init__).parameters.get(arg)
    except (TypeError, ValueError):
        return None
    return None if param is None else _numeric_type(param.annotation)


def threshold_args(op) -> set:
    """The names of the filter's threshold arguments (``min_len``, ``max_len``, ...)."""
    return {t.arg for pair in threshold_pairs(type(op)) for t in pair.args}


# ---- which samples they keep ----


def _is_list(value) -> bool:
    return isinstance(value, (list, tuple, np.ndarray))


def is_list_valued(values) -> bool:
    """Whether a statistic holds one list per sample (one value per media item) rather than one number."""
    return any(_is_list(v) for v in values)


def pooled(values) -> np.ndarray:
    """The statistic's values as the Analyzer sees them: one per sample, or every item of every sample's list
    (empty lists and missing values contribute nothing, as ``explode`` + ``describe`` skip them)."""
    values = list(values)
    if not is_list_valued(values):
        return np.asarray(values, dtype=np.float64)
    items = [item for v in values if v is not None for item in (v if _is_list(v) else [v])]
    return np.asarray(items, dtype=np.float64)


def kept_mask(values, low=None, high=None, low_closed=True, high_closed=True) -> np.ndarray:
    """Which samples a Data-Juicer filter keeps with these bounds (``Filter.get_keep_boolean`` semantics)."""
    # an int or float array is compared as it is (no float64 copy per call; ints compare exactly, as in Python)
    numeric = isinstance(values, np.ndarray) and values.dtype.kind in "if"
    arr = values if numeric else np.asarray(values, dtype=np.float64)
    keep = np.ones(arr.shape, dtype=bool)
    low, high = (None if b is None else float(b) for b in (low, high))  # a Fraction bound (video aspect ratios)
    if low is not None:
        keep &= arr >= low if low_closed else arr > low
    if high is not None:
        keep &= arr <= high if high_closed else arr < high
    return keep


def kept_mask_items(columns, lows, highs, low_closed=True, high_closed=True, any_=True) -> np.ndarray:
    """Which samples a list-valued filter keeps: an item is kept when every statistic of it lies within its
    bounds (``image_shape_filter``: width and height), a sample by ``any``/``all`` of its items, and a sample
    without items always (Data-Juicer's ``process_single`` of its image/audio/video filters)."""
    columns = [list(c) for c in columns]
    n = len(columns[0])
    lengths = np.asarray([len(v) if v is not None else 0 for v in columns[0]], dtype=np.int64)
    item_keep = np.ones(int(lengths.sum()), dtype=bool)
    for column, low, high in zip(columns, lows, highs):
        flat = pooled([v if v is not None else [] for v in column])
        if flat.size != item_keep.size:
            raise ValueError("list-valued statistics of one filter must have one value per item")
        item_keep &= kept_mask(flat, low, high, low_closed, high_closed)
    keep = np.ones(n, dtype=bool)
    has = lengths > 0
    if has.any():
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])[has]
        counts = np.add.reduceat(item_keep.astype(np.int64), starts)
        keep[has] = counts > 0 if any_ else counts == lengths[has]
    return keep
