"""Which arguments of a Data-Juicer filter are thresholds, paired exactly from the op's signature.

``min_len``/``max_len``, ``min_ratio``/``max_ratio`` are pairs; ``min_score`` alone is one-sided. A threshold is a
``min_``/``max_`` parameter of the op's ``__init__`` whose declared type is a number -- never a substring match,
so ``min_closed_interval`` (a bool, and not even in the signature) is never touched.

Size thresholds (``image_size_filter.min_size: "10KB"``) are strings that the op's ``__init__`` parses with
Data-Juicer's ``size_to_bytes``; they count as int thresholds in bytes (``Threshold.size``), and a new bound is
written back as the string of its exact byte count (``"123456"``: ``size_to_bytes`` reads plain digits as bytes
and rejects a ``B`` suffix).
"""

import inspect
import re
import typing
from dataclasses import dataclass
from typing import Dict, List, Optional

__all__ = [
    "Threshold",
    "ThresholdPair",
    "threshold_pairs",
    "match_statistic",
    "size_args",
    "size_bytes",
    "recipe_value",
    "size_string",
    "live_value",
]

# what size_to_bytes reads exactly: digits, then an optional unit (it drops a '.' and ignores other characters)
_SIZE = re.compile(r"^\s*(\d+)\s*([kmgtpezy]i?b)?\s*$", re.IGNORECASE)
_SHIFT = {u: 10 * (i + 1) for i, u in enumerate("kmgtpezy")}


@dataclass(frozen=True)
class Threshold:
    arg: str  # e.g. "min_len"
    side: str  # "min" or "max"
    type: type  # int or float (int for a size string: bytes)
    size: bool = False  # a size string parsed by size_to_bytes ("10KB", "123456")


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


def size_args(op_class) -> set:
    """Arguments of ``op_class.__init__`` that it parses with ``size_to_bytes`` (read from its source)."""
    try:
        source = inspect.getsource(op_class.__init__)
    except (TypeError, OSError):
        return set()
    return set(re.findall(r"size_to_bytes\(\s*(\w+)\s*\)", source))


def size_bytes(value) -> Optional[int]:
    """The byte count Data-Juicer's ``size_to_bytes`` gives ``value`` (a byte count or a size string such as
    ``"10KB"``), or None when the value is not one it reads exactly (``"1.5MB"`` would be read as 15 MB)."""
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
    """A byte count as the size string that Data-Juicer's ``size_to_bytes`` parses to exactly that count (plain
    digits: it reads them as bytes; ``"123456B"`` is an error there). A fractional count is rounded."""
    if isinstance(value, float) and not value.is_integer():
        value = round(value)
    count = size_bytes(value)
    if count is None:
        raise ValueError(f"not a byte count (got {value!r})")
    return str(count)


def recipe_value(threshold: Threshold, value):
    """``value`` as the recipe states it: a size threshold's byte count becomes the string Data-Juicer parses to
    exactly that many bytes; a size string stays as given."""
    if threshold.size and not isinstance(value, str):
        return size_string(value)
    return value


def live_value(threshold: Threshold, value):
    """``value`` as the constructed op holds it (a size threshold holds bytes)."""
    return size_bytes(value) if threshold.size else value


def threshold_pairs(op_class) -> List[ThresholdPair]:
    """The numeric ``min_X``/``max_X`` arguments of ``op_class.__init__``, grouped by ``X`` in signature order."""
    try:
        params = inspect.signature(op_class.__init__).parameters
    except (TypeError, ValueError):
        return []
    sizes = size_args(op_class)
    found: Dict[str, Dict[str, Threshold]] = {}
    for name, param in params.items():
        for side in ("min", "max"):
            prefix = side + "_"
            if name.startswith(prefix) and len(name) > len(prefix):
                kind = _numeric_type(param.annotation)
                if kind is None and isinstance(param.default, (int, float)) and not isinstance(param.default, bool):
                    kind = type(param.default)
                if name in sizes:
                    found.setdefault(name[len(prefix) :], {})[side] = Threshold(name, side, int, size=True)
                elif kind is not None:
                    found.setdefault(name[len(prefix) :], {})[side] = Threshold(name, side, kind)
    return [ThresholdPair(suffix, sides.get("min"), sides.get("max")) for suffix, sides in found.items()]


def match_statistic(pair: ThresholdPair, stat_keys: List[str]) -> Optional[str]:
    """The statistic a pair bounds: the op's only numeric statistic, else the one named by the pair's suffix."""
    if len(stat_keys) == 1:
        return stat_keys[0]
    named = [key for key in stat_keys if pair.suffix in key.split("_") or key.endswith(pair.suffix)]
    return named[0] if len(named) == 1 else None
