"""Which arguments of a Data-Juicer filter are thresholds, paired exactly from the op's signature.

``min_len``/``max_len``, ``min_ratio``/``max_ratio`` are pairs; ``min_score`` alone is one-sided. A threshold is a
``min_``/``max_`` parameter of the op's ``__init__`` whose declared type is a number -- never a substring match,
so ``min_closed_interval`` (a bool, and not even in the signature) is never touched.
"""

import inspect
import typing
from dataclasses import dataclass
from typing import Dict, List, Optional

__all__ = ["Threshold", "ThresholdPair", "threshold_pairs", "match_statistic"]


@dataclass(frozen=True)
class Threshold:
    arg: str  # e.g. "min_len"
    side: str  # "min" or "max"
    type: type  # int or float


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


def threshold_pairs(op_class) -> List[ThresholdPair]:
    """The numeric ``min_X``/``max_X`` arguments of ``op_class.__init__``, grouped by ``X`` in signature order."""
    try:
        params = inspect.signature(op_class.__init__).parameters
    except (TypeError, ValueError):
        return []
    found: Dict[str, Dict[str, Threshold]] = {}
    for name, param in params.items():
        for side in ("min", "max"):
            prefix = side + "_"
            if name.startswith(prefix) and len(name) > len(prefix):
                kind = _numeric_type(param.annotation)
                if kind is None and isinstance(param.default, (int, float)) and not isinstance(param.default, bool):
                    kind = type(param.default)
                if kind is not None:
                    found.setdefault(name[len(prefix) :], {})[side] = Threshold(name, side, kind)
    return [ThresholdPair(suffix, sides.get("min"), sides.get("max")) for suffix, sides in found.items()]


def match_statistic(pair: ThresholdPair, stat_keys: List[str]) -> Optional[str]:
    """The statistic a pair bounds: the op's only numeric statistic, else the one named by the pair's suffix."""
    if len(stat_keys) == 1:
        return stat_keys[0]
    named = [key for key in stat_keys if pair.suffix in key.split("_") or key.endswith(pair.suffix)]
    return named[0] if len(named) == 1 else None
