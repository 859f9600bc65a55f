"""The points of a grid sweep, in a stable order, and a key that identifies a point across processes.

Order: the cartesian product of each parameter's values in the order the parameters are written, the first
parameter varying slowest (W&B sorts the names first; keeping the file's order lets the user choose). Constant
parameters are part of every point.
"""

import itertools
import json
from typing import Any, Dict, Iterator, List

from data_juicer_hpo.engine.sweep_file.config import SweepConfig

__all__ = ["grid_points", "iter_grid_points", "point_key"]


def iter_grid_points(sweep: SweepConfig) -> Iterator[Dict[str, Any]]:
    """Lazily yield every grid point; a grid may be far larger than the run cap that stops it."""
    names = list(sweep.parameters)
    columns = []
    for name in names:
        values = sweep.parameters[name].grid_values()
        if values is None:
            raise ValueError(f"parameter {name!r} ({sweep.parameters[name].distribution}) cannot be put on a grid")
        columns.append(values)
    for combo in itertools.product(*columns):
        yield dict(zip(names, combo))


def grid_points(sweep: SweepConfig) -> List[Dict[str, Any]]:
    """Every grid point as ``{sweep name: value}``."""
    return list(iter_grid_points(sweep))


def point_key(point: Dict[str, Any]) -> str:
    """A canonical string of a point, stored with each trial so that a resumed sweep can skip the done points.

    Like W&B's ``yaml_hash``, a float with an integral value counts as that integer (YAML's 3.0 vs 3).
    """

    def norm(v: Any) -> Any:
        if isinstance(v, float) and v.is_integer():
            return int(v)
        if isinstance(v, dict):
            return {str(k): norm(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [norm(x) for x in v]
        return v

    return json.dumps({k: norm(v) for k, v in point.items()}, sort_keys=True, default=repr)
