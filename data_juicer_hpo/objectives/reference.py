"""The reference set of good text (``auto_hpo.reference``) that ``quality_score`` and ``model_loss`` compare with.

Accepted files: JSON Lines (``.jsonl``, ``.jsonl.gz``) and ``.json`` / ``.json.gz`` holding either a list of
objects or JSON Lines (Data-Juicer reads ``.json`` files line by line too). The text is in the field
``auto_hpo.text_key`` (default ``text``); rows whose text is empty are skipped.
"""

import functools
import gzip
import json
import os
from typing import List, Tuple

__all__ = ["REFERENCE_SUFFIXES", "RecordsError", "read_rows", "reference_problems", "load_reference"]

REFERENCE_SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".json.gz")
KEY = "auto_hpo.reference"


class RecordsError(ValueError):
    """A reason a records file cannot be used, worded for the user (to follow the file's path)."""


def _open(path: str):
    if path.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, "rt", encoding="utf-8")


def read_rows(path: str):
    """(line number or list position, row) of every record of a JSON Lines / JSON file (see the module doc); raises
    :class:`RecordsError` for invalid JSON and OSError / UnicodeDecodeError when it cannot be read."""
    with _open(path) as f:
        content = f.read()
    if path.lower().endswith((".json", ".json.gz")) and content.lstrip().startswith("["):
        try:
            rows = json.loads(content)
        except json.JSONDecodeError as e:
            raise RecordsError(f"not valid JSON ({e})") from None
        return list(enumerate(rows, start=1))
    rows = []
    for number, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append((number, json.loads(line)))
        except json.JSONDecodeError as e:
            raise RecordsError(f"line {number} is not valid JSON ({e})") from None
    return rows


@functools.lru_cache(maxsize=4)
def _load(path: str, mtime: float, size: int, text_key: str) -> Tuple[str, ...]:
    # mtime and size are part of the cache key so that an edited file is read again.
    texts = []
    for number, row in read_rows(path):
        text = row.get(text_key) if isinstance(row, dict) else None
        if not isinstance(text, str):
            raise RecordsError(f"record {number} has no string field {text_key!r}")
        if text.strip():
            texts.append(text)
    if not texts:
        raise RecordsError(f"holds no non-empty {text_key!r} text")
    return tuple(texts)


def load_reference(path: str, text_key: str = "text") -> List[str]:
    """The non-empty texts of the reference file; raises ValueError (worded for the user) when unusable."""
    try:
        stat = os.stat(path)
        return list(_load(os.path.abspath(path), stat.st_mtime, stat.st_size, text_key))
    except RecordsError as e:
        raise ValueError(f"{KEY}: {path!r} {e}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"{KEY}: cannot read {path!r} ({e})") from None


def reference_problems(options: dict, objective: str) -> List[str]:
    """Problems with the reference option of ``objective``; reading the file here is cheap and catches bad rows."""
    path = options.get("reference")
    text_key = options.get("text_key") or "text"
    if not path:
        return [f"{KEY}: required by objective {objective}"]
    if not isinstance(path, (str, os.PathLike)):
        return [f"{KEY}: must be a file path (got {path!r})"]
    path = os.fspath(path)
    if not path.lower().endswith(REFERENCE_SUFFIXES):
        return [f"{KEY}: must end with one of {', '.join(REFERENCE_SUFFIXES)} (got {path!r})"]
    if not os.path.isfile(path):
        return [f"{KEY}: file not found (got {path!r})"]
    try:
        load_reference(path, text_key)
    except ValueError as e:
        return [str(e)]
    return []
