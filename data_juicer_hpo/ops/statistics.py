"""One pass over the data that computes every filter's statistic as that filter would see it.

Ops are walked in recipe order up to the last statistic-producing filter: mappers (and other non-filter ops) are
applied, filters only compute their statistics -- no sample is removed by an earlier filter. The statistics land
in Data-Juicer's ``__dj__stats__`` column, which the later processing reuses (a filter skips a statistic that is
already present).
"""

import contextlib
import json
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np
import pyarrow as pa
from data_juicer.core.data import NestedDataset, add_same_content_to_new_column
from data_juicer.ops import NON_STATS_FILTERS, Filter
from data_juicer.utils.constant import Fields
from loguru import logger

from data_juicer_hpo.ops import vectorised
from data_juicer_hpo.ops.coverage import model_need

__all__ = [
    "StatsPass",
    "run_stats_pass",
    "is_stats_filter",
    "is_computed",
    "model_notes",
    "probe_stat_keys",
    "use_prepared_ops",
    "prepared_pipeline",
    "reuse_statistics",
    "compute_statistics",
    "compute_batch",
]


def is_stats_filter(op) -> bool:
    return isinstance(op, Filter) and op._name not in NON_STATS_FILTERS.modules


def is_computed(op) -> bool:
    """A stats filter whose statistic the plugin computes: one that needs no model (never a download by us)."""

    return is_stats_filter(op) and model_need(op) is None


@dataclass
class StatsPass:
    dataset: object  # the population after the applied prefix, with the statistics column
    stat_keys: Dict[int, List[str]]  # op position -> statistics it produces
    values: Dict[int, Dict[str, np.ndarray]]  # op position -> stat key -> values as that op saw them
    prefix_len: int  # how many ops of the recipe the pass walked
    aligned: bool  # every applied op kept one output sample per input sample
    notes: List[str] = field(default_factory=list)
    count: int = 0  # samples the statistics were computed on
    sampled: bool = False  # ``values`` hold a uniform sample of the samples (a Ray dataset's: see RayData)
    sample_size: int = 0  # how many, when sampled
    sample_texts: Dict[str, list] = field(default_factory=dict)  # text key -> the sampled samples' texts


def model_notes(ops) -> List[str]:
    """Why each stats filter that needs a model is left unchanged (its statistic is not computed by the plugin)."""

    return [
        f"{op._name} (#{i}) unchanged: {model_need(op)}"
        for i, op in enumerate(ops)
        if is_stats_filter(op) and model_need(op) is not None
    ]


def probe_stat_keys(op, sample: dict) -> List[str]:
    """The statistics ``op`` writes, found by computing them on one sample with an empty stats dict."""

    probe = dict(sample)
    probe[Fields.stats] = {}
    if op.is_batched_op():
        batch = {key: [value] for key, value in probe.items()}
        out = op.compute_stats(batch)
        stats = out[Fields.stats][0]
    else:
        stats = op.compute_stats(probe)[Fields.stats]
    return sorted(stats.keys()) if isinstance(stats, dict) else []


def stats_columns(dataset, keys) -> Dict[str, list]:
    """Only the statistics ``keys`` of every sample, read chunk by chunk (never every stats dict at once)."""

    keys = list(dict.fromkeys(keys))
    out: Dict[str, list] = {key: [] for key in keys}
    for chunk in dataset.data.column(Fields.stats).chunks:
        storage = getattr(chunk, "storage", chunk)
        is_text = pa.types.is_string(storage.type) or pa.types.is_large_string(storage.type)
        for item in storage.to_pylist():
            row = (json.loads(item) if item is not None else {}) if is_text else (item or {})
            for key in keys:
                out[key].append(row.get(key))
    return out


def _segments(ops, last: int):
    """Runs of consecutive stats filters (computed together in one pass) and single other ops, up to ``last``."""
    segment = []
    for i, op in enumerate(ops[: last + 1]):
        if is_computed(op):
            segment.append(i)
            continue
        if segment:
            yield segment
            segment = []
        yield [i]
    if segment:
        yield segment


def compute_batch(ops, samples):
    """The statistics of the filters ``ops``, in recipe order, added to the statistics dicts of a batch of samples
    (a dict of columns; the dicts are made when the batch has none); the batch is returned. A statistic already in
    a sample's dict is kept, as the ops themselves do. The common text filters' statistics are computed for the
    whole batch (:mod:`.vectorised`, checked against the op), the others by the op."""
    fields = [key for key in samples.keys() if key != Fields.stats]
    n = len(samples[fields[0]]) if fields else 0
    if Fields.stats not in samples:
        samples[Fields.stats] = [{} for _ in range(n)]
    computed = vectorised.fast_statistics(ops, samples, fields, n)
    for i, op in enumerate(ops):
        fast = computed.pop(i, None)
        if fast is not None:
            for key, values in fast.items():
                for stats, value in zip(samples[Fields.stats], values):
                    if key not in stats:
                        stats[key] = value
        elif op.is_batched_op():  # the unwrapped methods: an error must not silently drop a sample
            samples = op.compute_stats_batched(samples)
        else:
            stats = samples[Fields.stats]
            for j in range(len(stats)):
                stats[j] = op.compute_stats_single({key: samples[key][j] for key in samples.keys()})[Fields.stats]
    return samples


def _compute_together(dataset, ops):
    """One ``map`` that computes the statistics of several filters, in recipe order, batch by batch.

    Without a statistics column, Data-Juicer first adds an empty one in a pass of its own; its type decides what the
    filters read back (with ``datasets``' ``Json`` type, values encoded by ujson: floats to 10 decimals). The map
    here writes the column with that same type, found on the first sample alone, so the filters read what they
    would have read; only when that type is not ``Json`` is the empty column added to the whole data first."""

    features = None
    if Fields.stats not in dataset.features:
        empty = _with_empty_stats(dataset.select(range(min(1, len(dataset)))), ops)
        if len(dataset) and getattr(empty.features[Fields.stats], "_type", None) == "Json":
            features = empty.features.copy()
        else:
            dataset = _with_empty_stats(dataset, ops)
    for line in vectorised.reasons(ops):
        logger.info(line)

    def compute(samples):
        return compute_batch(ops, samples)

    names = ",".join(op._name for op in ops)
    return dataset.map(
        compute,
        batched=True,
        batch_size=min(op.batch_size for op in ops),
        num_proc=min(op.runtime_np() for op in ops),
        desc=f"auto_hpo statistics [{names}]",
        features=features,
    )


def _with_empty_stats(dataset, ops):
    """Data-Juicer's own first step: an empty statistics dict in every sample."""
    return dataset.map(
        add_same_content_to_new_column,
        fn_kwargs={"new_column_name": Fields.stats, "initial_value": {}},
        num_proc=ops[0].runtime_np(),
        desc="Adding new column for stats",
    )


def compute_statistics(dataset, ops) -> List[Dict[str, list]]:
    """The statistics of each filter in ``ops`` computed on ``dataset`` from scratch, in one pass, as lists."""

    if Fields.stats in dataset.features:
        dataset = dataset.remove_columns([Fields.stats])
    sample = _first_sample(dataset)
    keys = [probe_stat_keys(op, sample) for op in ops]
    columns = stats_columns(_compute_together(dataset, ops), [key for op_keys in keys for key in op_keys])
    return [{key: columns[key] for key in op_keys} for op_keys in keys]


def _first_sample(dataset) -> dict:
    return {key: value for key, value in dataset[0].items() if key != Fields.stats} if len(dataset) else {}


def run_stats_pass(dataset, ops) -> StatsPass:
    """Compute the statistics of every stats filter in ``ops`` on the whole ``dataset`` (see module doc).

    Consecutive stats filters are computed together in one pass over the data (one rewrite of the dataset
    instead of one per filter).
    """

    if not isinstance(dataset, NestedDataset):
        dataset = NestedDataset(dataset)
    positions = [i for i, op in enumerate(ops) if is_computed(op)]
    result = StatsPass(dataset, {}, {}, 0, True, count=len(dataset))
    result.notes.extend(model_notes(ops))
    if not positions:
        return result
    last = positions[-1]
    sample = _first_sample(dataset)
    for segment in _segments(ops, last):
        first = ops[segment[0]]
        if is_stats_filter(first) and not is_computed(first):
            continue  # needs a model: noted above, computed later by Data-Juicer itself
        if is_stats_filter(first):
            for i in segment:
                result.stat_keys[i] = probe_stat_keys(ops[i], sample)
            dataset = _compute_together(dataset, [ops[i] for i in segment])
            columns = stats_columns(dataset, [key for i in segment for key in result.stat_keys[i]])
            for i in segment:
                result.values[i] = {key: columns[key] for key in result.stat_keys[i]}
        elif hasattr(first, "compute_stats"):
            result.notes.append(f"{first._name} (#{segment[0]}): produces no statistic, not applied while estimating")
        else:
            before = len(dataset)
            dataset = first.run(dataset)
            if len(dataset) != before:
                result.aligned = False
                result.notes.append(
                    f"{first._name} (#{segment[0]}): changed the sample count {before} -> {len(dataset)}"
                )
            sample = _first_sample(dataset) or sample
    result.dataset = dataset
    result.prefix_len = last + 1
    result.count = len(dataset)
    return result


def reuse_statistics(op) -> None:
    """Make a stats filter whose statistics are already in the data filter directly, without the per-op
    ``compute_stats`` pass (a no-op per sample, but a full rewrite of the dataset in Data-Juicer)."""
    original_run = op.run

    def run(dataset, *, exporter=None, tracer=None, reduce=True):
        if tracer is not None or not reduce or getattr(op, "stats_export_path", None) is not None:
            return original_run(dataset, exporter=exporter, tracer=tracer, reduce=reduce)

        if not isinstance(dataset, NestedDataset):
            dataset = NestedDataset(dataset)
        return dataset.filter(
            op.process, num_proc=op.runtime_np(), batch_size=op.batch_size, desc=op._name + "_process"
        )

    op.run = run


@contextlib.contextmanager
def use_prepared_ops(module, ops):
    """Make ``module.load_ops`` hand out ``ops`` (the live, tuned instances) once, inside the executor's run."""
    original = module.load_ops
    handed = {"done": False}

    def load_ops(process_list, *args, **kwargs):
        if handed["done"]:
            return original(process_list, *args, **kwargs)
        handed["done"] = True
        return ops

    module.load_ops = load_ops
    try:
        yield
    finally:
        module.load_ops = original
        if not handed["done"]:
            logger.warning("auto_hpo: the executor did not load its ops; the tuned op list was not used")


def prepared_pipeline(stats: StatsPass, ops) -> Optional[list]:
    """The op list that processes ``stats.dataset``: filters of the walked prefix (their statistics are present)
    followed by the rest of the recipe. ``None`` when the prefix cannot be skipped (samples were not aligned)."""
    if not stats.aligned:
        return None

    prefix = [op for op in ops[: stats.prefix_len] if isinstance(op, Filter)]
    computed = {id(ops[i]) for i in stats.stat_keys}
    for op in prefix:
        if id(op) in computed:
            reuse_statistics(op)
    return prefix + list(ops[stats.prefix_len :])
