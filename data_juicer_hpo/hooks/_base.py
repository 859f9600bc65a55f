"""What every hook shares: the self-check of the Data-Juicer piece it patches, and the record of mismatches.

A hook patches one place of Data-Juicer. Before it patches, it checks that the place exists with the shape it
expects (:func:`expect`). A mismatch never breaks Data-Juicer for recipes without ``auto_hpo``: it is logged once
as a warning and remembered; a run with an ``auto_hpo`` mode then refuses in one line naming the Data-Juicer
version and the missing piece (:func:`refusal`).
"""

import inspect
from importlib.metadata import version
from typing import Dict, List, Optional

from loguru import logger

__all__ = ["expect", "note_mismatch", "mismatches", "refusal", "dj_version"]

_MISMATCHES: Dict[str, str] = {}  # hook name -> what is missing


def dj_version() -> str:
    try:
        return version("py-data-juicer")
    except Exception:  # noqa: BLE001  (an editable or vendored Data-Juicer has no distribution metadata)
        return "unknown"


def expect(owner, name: str, what: str, params: Optional[List[str]] = None) -> Optional[str]:
    """``None`` when ``owner.name`` exists (and, for a callable, takes ``params`` first); else what is missing."""
    target = getattr(owner, "__dict__", {}).get(name, getattr(owner, name, None))
    if target is None:
        return f"{what} not found"
    if params:
        function = getattr(target, "__func__", target)
        try:
            names = list(inspect.signature(function).parameters)
        except (TypeError, ValueError):
            return f"{what} has no inspectable signature"
        if names[: len(params)] != params:
            return f"{what} takes ({', '.join(names)}), expected ({', '.join(params)}, ...)"
    return None


def note_mismatch(hook: str, problem: str) -> None:
    """Remember (and warn once about) a Data-Juicer piece that a hook cannot patch."""
    if hook in _MISMATCHES:
        return
    _MISMATCHES[hook] = problem
    try:
        logger.warning(
            f"data-juicer-hpo: Data-Juicer {dj_version()} does not have what the {hook} hook patches ({problem}); "
            f"recipes without auto_hpo are unaffected, auto_hpo runs will refuse"
        )
    except Exception:  # noqa: BLE001
        pass


def mismatches() -> Dict[str, str]:
    return dict(_MISMATCHES)


def refusal() -> Optional[str]:
    """The one line an ``auto_hpo`` run refuses with when a hook could not be installed, else ``None``."""
    if not _MISMATCHES:
        return None
    missing = "; ".join(f"{hook}: {problem}" for hook, problem in _MISMATCHES.items())
    return f"auto_hpo: data-juicer-hpo cannot run on Data-Juicer {dj_version()} ({missing})"


def clear() -> None:
    """Forget recorded mismatches (tests, after :func:`data_juicer_hpo.hooks.uninstall`)."""
    _MISMATCHES.clear()
