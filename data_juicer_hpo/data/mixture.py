"""Data mixtures as Data-Juicer builds them, as pure functions: which rows of which source a recipe's
``dataset: {configs: [...], max_sample_num: N}`` block loads, and the sweep parameters that tune it.

Data-Juicer 1.6.1 (``core/data/dataset_builder.py``) gives each source a sample count proportional to its
``weight`` when ``max_sample_num`` is set (``get_sample_numbers``: ceil of the share, capped by what is left of
``max_sample_num`` in config order), skips a source allotted 0 samples, and takes the count from the source with
``utils/sample.py:random_sample``: the source itself when the count equals its size, else its rows shuffled with
seed 42 (Hugging Face's ``shuffle``: ``np.random.default_rng(42).permutation``) and read from the start, cycling
through the whole shuffled source again when the count exceeds it. The sources are concatenated in config order.
Without ``max_sample_num`` the weights are ignored. :func:`mixture_rows` reproduces that as row indices into the
concatenation of the whole sources, so a sweep loads every source once and a trial only picks rows.
"""

import copy
import math
import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

__all__ = [
    "SEED",
    "WEIGHT",
    "MAX_SAMPLE_NUM",
    "sample_numbers",
    "source_rows",
    "mixture_rows",
    "is_mixture_name",
    "MixtureTarget",
    "resolve_mixture",
    "trial_mixture",
    "mixed_dataset_block",
]

SEED = 42  # random_sample's seed when none is given, which is how DatasetBuilder calls it
WEIGHT = re.compile(r"^dataset\.configs\[(?P<index>\d+)\]\.weight$")
MAX_SAMPLE_NUM = "dataset.max_sample_num"
EXAMPLE = "dataset: {configs: [{type: local, path: a.jsonl, weight: 1.0}, ...], max_sample_num: 20000}"


def sample_numbers(weights: Sequence[float], max_sample_num: int) -> List[int]:
    """Rows each source contributes (Data-Juicer's ``get_sample_numbers``): the ceiling of its share of
    ``max_sample_num``, capped in config order by what the earlier sources left; so the counts sum to at most
    ``max_sample_num`` and a source whose weight is 0 (or whose turn comes after the cap) gets 0."""
    w = np.asarray(weights, dtype=np.float64)
    total = float(w.sum())
    if not total > 0.0:
        raise ValueError(f"the dataset weights must not all be 0 (got {list(weights)}): Data-Juicer cannot sample")
    out, used = [], 0
    for share in w / total:
        n = min(int(np.ceil(max_sample_num * share)), max_sample_num - used)
        out.append(n)
        used += n
    return out


def source_rows(n_rows: int, sample_number: int, seed: int = SEED) -> np.ndarray:
    """The rows of one source, in order, that Data-Juicer's ``random_sample`` takes for ``sample_number`` > 0."""
    if sample_number == n_rows:
        return np.arange(n_rows, dtype=np.int64)  # random_sample returns the source unshuffled
    if n_rows <= 0:
        raise ValueError(f"cannot take {sample_number} rows from an empty source")
    order = np.random.default_rng(seed).permutation(n_rows).astype(np.int64)
    whole, rest = divmod(sample_number, n_rows)
    return np.concatenate([np.tile(order, whole), order[:rest]])


def mixture_rows(sizes: Sequence[int], weights: Sequence[float], max_sample_num: int, seed: int = SEED) -> np.ndarray:
    """The rows of a mixture as indices into the concatenation of the whole sources (``sizes`` rows each), in the
    order Data-Juicer's ``DatasetBuilder`` loads them; a row taken twice appears twice."""
    offsets = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])
    parts = [
        offsets[i] + source_rows(int(size), n, seed)
        for i, (size, n) in enumerate(zip(sizes, sample_numbers(weights, max_sample_num)))
        if n > 0
    ]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


# ---- sweep parameters that address the mixture -------------------------------------------------------------


def is_mixture_name(name: str) -> bool:
    return name.startswith("dataset.")


@dataclass(frozen=True)
class MixtureTarget:
    """A sweep parameter that tunes the mixture: a source's weight (``config`` = its position) or, with
    ``config`` None, ``max_sample_num``."""

    name: str
    config: Optional[int]


def _drawable(spec) -> list:
    """Values the sweep can give a parameter: all of a categorical's, else the extremes and quartiles of the law
    (each kind's inverse CDF is monotone, so its lowest value is at 0)."""
    if spec is None:
        return []
    if getattr(spec, "values", None):
        return list(spec.values)
    if getattr(spec, "distribution", None) == "constant":
        return [spec.value]
    return [spec.from_unit(u) for u in (0.0, 0.25, 0.5, 0.75, 1.0)]


def _number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def resolve_mixture(
    names, cfg_values: dict, parameters: dict, source: str = "hpo_config"
) -> Tuple[Dict[str, MixtureTarget], List[str]]:
    """Map each ``dataset.*`` sweep name to its :class:`MixtureTarget`; one problem line per name that cannot work.

    ``cfg_values`` holds the recipe's ``dataset``, ``dataset_path``, ``generated_dataset_config`` and
    ``executor_type``; ``parameters`` the parsed sweep parameters (their laws are checked against what Data-Juicer
    accepts: weights >= 0, ``max_sample_num`` a positive integer).
    """
    block = cfg_values.get("dataset")
    configs = block.get("configs") if isinstance(block, dict) else None
    swept_max = MAX_SAMPLE_NUM in names
    targets, problems = {}, []
    for name in names:
        key = f"{source}.parameters.{name}"
        match = WEIGHT.match(name)
        if not match and name != MAX_SAMPLE_NUM:
            problems.append(
                f"{key}: addresses nothing in the recipe (a mixture is tuned through dataset.configs[i].weight and "
                f"dataset.max_sample_num)"
            )
            continue
        if not isinstance(configs, list) or not configs:
            problems.append(f"{key}: the recipe has no dataset.configs to mix (a mixture is written {EXAMPLE})")
            continue
        other = next((k for k in ("dataset_path", "generated_dataset_config") if cfg_values.get(k)), None)
        if other:
            problems.append(f"{key}: the recipe sets {other}, which Data-Juicer loads instead of dataset.configs")
            continue
        if (cfg_values.get("executor_type") or "default") != "default":
            problems.append(
                f"{key}: a mixture sweep runs on executor_type default only (Data-Juicer's "
                f"{cfg_values.get('executor_type')} executor loads a single dataset, without weights)"
            )
            continue
        index = int(match["index"]) if match else None
        if index is not None and index >= len(configs):
            problems.append(f"{key}: dataset.configs has {len(configs)} entries; [{index}] is out of range")
            continue
        if index is not None and not swept_max and block.get("max_sample_num") is None:
            problems.append(
                f"{key}: Data-Juicer ignores the weights without dataset.max_sample_num; set it in the recipe "
                f"(or sweep {MAX_SAMPLE_NUM})"
            )
            continue
        drawn = _drawable(parameters.get(name))
        if index is not None:
            bad = [v for v in drawn if not _number(v) or v < 0]
            if bad:
                problems.append(f"{key}: a weight must be a number >= 0, but the sweep can give {bad[0]!r}")
                continue
        else:
            bad = [v for v in drawn if isinstance(v, bool) or not isinstance(v, int) or v <= 0]
            if bad:
                problems.append(
                    f"{key}: Data-Juicer needs a positive integer (int_uniform or integer values), but the sweep "
                    f"can give {bad[0]!r}"
                )
                continue
        targets[name] = MixtureTarget(name, index)
    if targets:
        problems += _fixed_weight_problems(configs, targets)
    return targets, problems


def _fixed_weight_problems(configs: list, targets: Dict[str, MixtureTarget]) -> List[str]:
    swept = {t.config for t in targets.values()}
    problems = []
    for i, entry in enumerate(configs):
        weight = entry.get("weight", 1.0) if isinstance(entry, dict) else None
        if i not in swept and (not _number(weight) or weight < 0):
            problems.append(f"dataset.configs[{i}].weight: must be a number >= 0 (got {weight!r})")
    weights = [entry.get("weight", 1.0) if isinstance(entry, dict) else None for entry in configs]
    if not problems and all(_number(w) for w in weights) and sum(weights) <= 0:
        problems.append(
            f"dataset.configs: the recipe's weights are all 0, so Data-Juicer cannot sample (got {weights})"
        )
    return problems


def trial_mixture(block: dict, targets: Dict[str, MixtureTarget], params: dict) -> Tuple[List[float], int]:
    """The weights (Data-Juicer's default 1.0 where unset) and ``max_sample_num`` of one trial."""
    weights = [float(c.get("weight", 1.0)) for c in block["configs"]]
    max_sample_num = block.get("max_sample_num")
    for name, target in targets.items():
        if name not in params:
            continue
        if target.config is None:
            max_sample_num = int(params[name])
        else:
            weights[target.config] = float(params[name])
    return weights, max_sample_num


def mixed_dataset_block(block: dict, targets: Dict[str, MixtureTarget], params: dict) -> dict:
    """A copy of the recipe's ``dataset`` block with a trial's weights and ``max_sample_num`` set."""
    out = copy.deepcopy(block)
    for name, target in targets.items():
        if name not in params:
            continue
        if target.config is None:
            out["max_sample_num"] = params[name]
        else:
            out["configs"][target.config]["weight"] = params[name]
    return out
