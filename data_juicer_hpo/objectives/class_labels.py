"""Labels of samples and of the labelled evaluation file of ``downstream_task``.

A label key names a field of each sample: ``label`` or a dotted path into nested objects, ``meta.source``, which is
how Data-Juicer addresses nested fields (``NestedDataset["meta.source"]``); a field whose own name holds the dot
wins over the path, as in Data-Juicer's ``nested_query``. Labels are compared as text (``1`` and ``"1"`` are one
label): the data set and the JSON file may type them differently. Null, object and list values are not labels.
"""

import functools
import os
from typing import Callable, List, Optional, Tuple

from data_juicer_hpo.objectives.reference import (
    REFERENCE_SUFFIXES,
    RecordsError,
    read_rows,
)

__all__ = [
    "MISSING",
    "field_value",
    "label_text",
    "rows_column",
    "sample_labels",
    "load_labelled",
    "labelled_problems",
]

KEY = "auto_hpo.downstream"


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


def field_value(row, key: str):
    """The value of ``key`` (dotted for nested objects) in ``row``, or :data:`MISSING`."""
    if isinstance(row, dict) and key in row:
        return row[key]
    head, dot, rest = key.partition(".")
    if not dot or not isinstance(row, dict) or head not in row:
        return MISSING
    return field_value(row[head], rest)


def label_text(value) -> Optional[str]:
    """The label as text, or None when ``value`` cannot be a label (missing, null, an object, a list)."""
    if value is MISSING or value is None or isinstance(value, (dict, list, tuple)):
        return None
    return str(value)


def rows_column(rows) -> Callable[[str], list]:
    """``column(field)`` over a Hugging Face data set or a list of dicts (KeyError when no sample has the field)."""

    def column(key: str) -> list:
        if isinstance(rows, (list, tuple)):
            if not any(isinstance(row, dict) and key in row for row in rows):
                raise KeyError(key)
            return [row.get(key) if isinstance(row, dict) else None for row in rows]
        if key not in rows.column_names:
            raise KeyError(key)
        return list(rows[key])

    return column


def _values(column: Callable[[str], list], key: str) -> Optional[list]:
    try:
        return column(key)
    except KeyError:
        return None


def sample_labels(column: Callable[[str], list], key: str) -> Optional[List[Optional[str]]]:
    """The label of every sample of a data set given as ``column(top-level field) -> values`` (KeyError when the
    field does not exist): None where a sample has none, and None instead of the list when no field matches."""
    values = _values(column, key)
    if values is not None:
        return [label_text(v) for v in values]
    head, dot, rest = key.partition(".")
    values = _values(column, head) if dot else None
    if values is None:
        return None
    return [label_text(field_value(v, rest)) for v in values]


@functools.lru_cache(maxsize=4)
def _load(path: str, mtime: float, size: int, text_key: str, label_key: str) -> Tuple[Tuple[str, ...], Tuple]:
    # mtime and size are part of the cache key so that an edited file is read again.
    texts, labels = [], []
    for number, row in read_rows(path):
        text = row.get(text_key) if isinstance(row, dict) else None
        if not isinstance(text, str):
            raise RecordsError(f"record {number} has no string field {text_key!r}")
        label = label_text(field_value(row, label_key))
        if label is None:
            raise RecordsError(f"record {number} has no label {label_key!r} (auto_hpo.downstream.label_key)")
        texts.append(text)
        labels.append(label)
    if not texts:
        raise RecordsError("holds no records")
    return tuple(texts), tuple(labels)


def load_labelled(path: str, text_key: str, label_key: str) -> Tuple[List[str], List[str]]:
    """The texts and labels of a labelled file; raises ValueError (worded for the user) when it is unusable."""
    key = f"{KEY}.eval"
    try:
        stat = os.stat(path)
        texts, labels = _load(os.path.abspath(path), stat.st_mtime, stat.st_size, text_key, label_key)
    except RecordsError as e:
        raise ValueError(f"{key}: {path!r} {e}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"{key}: cannot read {path!r} ({e})") from None
    return list(texts), list(labels)


def labelled_problems(path, text_key: str, label_key: Optional[str]) -> List[str]:
    """Problems with the labelled file at ``path``; reading it here is cheap and catches bad records early (not
    without a ``label_key`` to read)."""
    key = f"{KEY}.eval"
    if not path:
        return [f"{key}: required, a labelled JSON Lines file with the text and the label of each record"]
    if not isinstance(path, (str, os.PathLike)):
        return [f"{key}: must be a file path (got {path!r})"]
    path = os.fspath(path)
    if not path.lower().endswith(REFERENCE_SUFFIXES):
        return [f"{key}: must end with one of {', '.join(REFERENCE_SUFFIXES)} (got {path!r})"]
    if not os.path.isfile(path):
        return [f"{key}: file not found (got {path!r})"]
    if not label_key:
        return []
    try:
        load_labelled(path, text_key, label_key)
    except ValueError as e:
        return [str(e)]
    return []
