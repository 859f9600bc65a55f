"""Which arguments of a Data-Juicer filter are thresholds, paired exactly from the op's signature.

``min_len``/``max_len``, ``min_ratio``/``max_ratio`` are pairs; ``min_score`` alone is one-sided. A threshold is a
``min_``/``max_`` parameter of the op's ``__init__`` whose declared type is a number -- never a substring match,
so ``min_closed_interval`` (a bool, and not even in the signature) is never touched.

Thresholds the op parses from a string (``image_size_filter.min_size: "10KB"``, ``video_aspect_ratio_filter.
min_ratio: "9/21"``, see :mod:`.parsed`) count as int (bytes) or float thresholds; ``Threshold.parse`` says how
the recipe states them.
"""

import inspect
import typing
from dataclasses import dataclass
from typing import Dict, List, Optional

from .parsed import SIZE, parsed_args, to_live, to_recipe

__all__ = [
    "Threshold",
    "ThresholdPair",
    "threshold_pairs",
    "match_statistic",
    "recipe_value",
    "live_value",
    "argument_type",
]


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
