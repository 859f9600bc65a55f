"""``auto_hpo.sample``: tune on a seeded uniform sample of the documents, process all of them.

Every document gets a 64-bit key, a keyed hash (BLAKE2b, the seed as its key) of its text and its media paths --
of what it is, not of where it lies --, so the sample is the same on every executor, in any block order and on any
number of nodes. ``sample: N`` (an integer >= 2) keeps the N documents of smallest key (more only when duplicate
documents tie at the N-th key); ``sample: f`` (0 < f < 1) keeps the documents whose key is below f * 2^64, each
with probability f. A cluster finds the N-th key from each block's N smallest keys. Pure: texts in, keys and
thresholds out (the executors' data access applies them).
"""

import hashlib
import json
from typing import Iterable, List, Optional, Sequence, Tuple

import numpy as np

__all__ = [
    "MEDIA_KEYS",
    "sample_spec",
    "text_key_of",
    "document_keys",
    "smallest_keys",
    "threshold_of",
]

MEDIA_KEYS = ("images", "audios", "videos")
_SPAN = 2**64


def text_key_of(cfg) -> str:
    """The recipe's text field (Data-Juicer's ``text_keys``: a name, or a list whose first name ops read): what the
    ops read, and what a document's key hashes besides its media."""
    keys = cfg.get("text_keys")
    if isinstance(keys, (list, tuple)):
        keys = keys[0] if keys else None
    return keys if isinstance(keys, str) and keys else "text"


def sample_spec(value) -> Tuple[str, float]:
    """``("count", N)`` or ``("fraction", f)`` of a valid ``sample`` value (``section.sample_problem``)."""
    return ("fraction", float(value)) if 0 < value < 1 else ("count", int(value))


def document_keys(texts: Sequence[str], media: Iterable[Sequence] = (), seed: int = 0) -> np.ndarray:
    """The 64-bit key of every document (``media``: per media column, one list of paths per document)."""
    salt = int(seed).to_bytes(8, "little", signed=True)
    columns = [list(column) for column in media]
    keys = np.empty(len(texts), dtype=np.uint64)
    for i, text in enumerate(texts):
        digest = hashlib.blake2b(str(text if text is not None else "").encode("utf-8"), digest_size=8, key=salt)
        for column in columns:
            digest.update(b"\0" + json.dumps(column[i], ensure_ascii=False, default=str).encode("utf-8"))
        keys[i] = int.from_bytes(digest.digest(), "little")
    return keys


def smallest_keys(keys: np.ndarray, n: int) -> np.ndarray:
    """The ``n`` smallest of ``keys``, sorted (all of them when there are fewer)."""
    if keys.size > n:
        keys = np.partition(keys, n - 1)[:n]
    return np.sort(keys)


def threshold_of(spec: Tuple[str, float], smallest: List[np.ndarray], total: int) -> Optional[int]:
    """The largest key the sample keeps (a document is in it when its key is <= this); None: every document
    (``smallest``: each part's :func:`smallest_keys`, for a count; ``total``: the documents in all)."""
    kind, amount = spec
    if kind == "fraction":
        return int(amount * _SPAN) - 1
    if total <= amount:
        return None
    return int(np.sort(np.concatenate(smallest))[int(amount) - 1])
