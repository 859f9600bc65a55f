"""Thresholds an op's ``__init__`` parses from a string: sizes and fractions (pure functions).

* ``image_size_filter``/``audio_size_filter``: ``min_size: "10KB"``, read by Data-Juicer's ``size_to_bytes``
  (``data_juicer/utils/mm_utils.py``) into bytes. A bound is written back as plain digits, ``"123456"``: that is
  read as exactly that many bytes, while ``"123456B"`` is an error there, and ``"1.5MB"`` would be read as 15 MB
  (it drops the dot), so such a string is refused rather than passed on.
* ``video_aspect_ratio_filter``: ``min_ratio: "9/21"``, read by ``Fraction(str(x).replace(":", "/"))``. A bound
  is written back as the decimal ``repr`` of the float, which ``Fraction`` reads as that decimal.

Which arguments are parsed is read from the op's ``__init__`` source, so an upgrade that adds such an op is found.
"""

import inspect
import re
from fractions import Fraction
from typing import Dict, Optional

__all__ = ["SIZE", "FRACTION", "parsed_args", "size_bytes", "size_string", "fraction_of", "to_recipe", "to_live"]

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
