"""W&B's ``early_terminate: {type: hyperband, ...}`` as plain data, and the resource levels (rungs) it implies.

W&B (``sweeps/hyperband_stopping.py``) defines its bands either from ``max_iter`` and ``s`` --
``int(max_iter / eta**i)`` for i = 1..s, bands below 1 dropped -- or from ``min_iter`` -- ``min_iter * eta**k``.
It checks runs at those bands and lets the survivors run to the end. :meth:`Hyperband.rungs` returns the bands
followed by the full resource, so max_iter=27, s=2, eta=3 gives [3, 9, 27]: the last rung is where a trial
that is never stopped ends.
"""

from dataclasses import dataclass
from typing import Any, List, Optional, Tuple

from data_juicer_hpo.engine.sweep_file.distributions import is_number

__all__ = ["Hyperband", "parse_early_terminate"]

_KEYS = ("type", "min_iter", "max_iter", "s", "eta", "strict")


@dataclass(frozen=True)
class Hyperband:
    """Hyperband early termination; ``strict`` (W&B default True) is kept for W&B and unused by Optuna."""

    min_iter: Optional[int] = None
    max_iter: Optional[int] = None
    s: Optional[int] = None
    eta: float = 3
    strict: bool = True

    def rungs(self, max_resource: Optional[int] = None) -> List[int]:
        """Increasing resource levels; ``max_resource`` is the full resource when ``max_iter`` is not set."""
        top = self.max_iter if self.max_iter is not None else max_resource
        if top is None:
            raise ValueError("hyperband with min_iter and no max_iter needs `max_resource` to know the last rung")
        if self.max_iter is not None and self.s is not None:
            bands = {int(top / self.eta**i) for i in range(1, self.s + 1) if top / self.eta**i >= 1}
        else:
            bands, level = set(), float(self.min_iter)
            while int(level) < top:
                bands.add(int(level))
                level *= self.eta
        return sorted(b for b in bands if b < top) + [top]


def _positive_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x >= 1


def parse_early_terminate(raw: Any, where: str) -> Tuple[Optional[Hyperband], List[str]]:
    """The :class:`Hyperband` of an ``early_terminate`` mapping (None when invalid) and every problem found."""
    if not isinstance(raw, dict):
        return None, [f"{where}: must be a mapping such as {{type: hyperband, min_iter: 3}} (got {raw!r})"]
    problems = [f"{where}.{key}: not a hyperband key (allowed: {', '.join(_KEYS)})" for key in raw if key not in _KEYS]
    if raw.get("type") != "hyperband":
        problems.append(f"{where}.type: must be 'hyperband', W&B's only early termination (got {raw.get('type')!r})")
    for key in ("min_iter", "max_iter", "s"):
        if key in raw and not _positive_int(raw[key]):
            problems.append(f"{where}.{key}: must be an integer >= 1 (got {raw[key]!r})")
    eta = raw.get("eta", 3)
    if not is_number(eta) or eta <= 1:
        problems.append(f"{where}.eta: must be a number > 1 (got {eta!r})")
    if "strict" in raw and not isinstance(raw["strict"], bool):
        problems.append(f"{where}.strict: must be true or false (got {raw['strict']!r})")
    has_max_form = "max_iter" in raw and "s" in raw
    if not has_max_form and "min_iter" not in raw:
        missing = "s" if "max_iter" in raw else "min_iter, or max_iter and s"
        problems.append(f"{where}: hyperband needs {missing}")
    if problems:
        return None, problems
    max_iter, min_iter = raw.get("max_iter"), raw.get("min_iter")
    if has_max_form and max_iter / eta < 1:
        problems.append(f"{where}.max_iter: must be >= eta, or there is no band (got max_iter={max_iter}, eta={eta})")
    if max_iter is not None and min_iter is not None and max_iter < min_iter:
        problems.append(f"{where}.max_iter: must be >= min_iter (got min_iter={min_iter}, max_iter={max_iter})")
    if problems:
        return None, problems
    eta = int(eta) if float(eta).is_integer() else float(eta)
    hb = Hyperband(min_iter=min_iter, max_iter=max_iter, s=raw.get("s"), eta=eta, strict=raw.get("strict", True))
    return hb, []
