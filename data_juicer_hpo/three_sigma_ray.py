"""3sigma on Data-Juicer's Ray executor: the statistics are computed on the Ray dataset (``stats_only``: no
sample removed), collected to the driver, tuned exactly as with the default executor (:func:`three_sigma._tune`),
and the materialized dataset, which carries them, is processed by Data-Juicer's own Ray ``run``."""

import contextlib

from loguru import logger

from .section import section_of
from .three_sigma import _check_size, _preflight, _tune

__all__ = ["run_three_sigma_ray"]


@contextlib.contextmanager
def _handing_out(executor, dataset):
    """Make the executor's next dataset load return ``dataset`` (already loaded and carrying the statistics)."""
    builder = executor.datasetbuilder
    original = builder.load_dataset
    builder.load_dataset = lambda *a, **k: dataset
    try:
        yield
    finally:
        builder.load_dataset = original


def run_three_sigma_ray(executor, original_run, load_data_np=None, skip_export=False, skip_return=False):
    from data_juicer.core.data.dataset_builder import deprecated_load_data_np_kwargs
    from data_juicer.core.executor import ray_executor
    from data_juicer.ops import Filter

    from .data_engines import ray_stats_rows
    from .stats_pass import _probe_stat_keys, is_stats_filter, use_prepared_ops

    cfg = executor.cfg
    section = section_of(cfg)
    _preflight(cfg)
    dataset = executor.datasetbuilder.load_dataset(
        **deprecated_load_data_np_kwargs(load_data_np, executor.datasetbuilder.executor_type)
    )
    ops = ray_executor.load_ops(cfg.process, executor.op_env_manager)
    positions = [i for i, op in enumerate(ops) if is_stats_filter(op)]
    n = dataset.data.count()
    _check_size(cfg, n)
    if not positions:
        logger.info("auto_hpo[3sigma]: no filter with statistics; nothing to tune")
        return original_run(executor, load_data_np=load_data_np, skip_export=skip_export, skip_return=skip_return)
    prefix = ops[: positions[-1] + 1]
    logger.info(f"auto_hpo[3sigma]: computing the statistics of [{len(prefix)}] ops on the Ray dataset once")
    first = {k: v for k, v in dataset.data.take(1)[0].items()}
    stat_keys = {i: _probe_stat_keys(ops[i], first) for i in positions}
    dataset.process(prefix, stats_only=True)
    dataset.data = dataset.data.materialize()
    aligned = dataset.data.count() == n
    rows = ray_stats_rows(dataset.data)
    values = {i: {key: [row.get(key) for row in rows] for key in keys} for i, keys in stat_keys.items()}
    _tune(cfg, section, ops, stat_keys, values, len(rows), aligned)

    executor._dj_hpo_inner = True
    try:
        if not aligned:
            logger.info("auto_hpo[3sigma]: a non-filter op changed the sample count; processing from the source")
            with use_prepared_ops(ray_executor, ops):
                return original_run(
                    executor, load_data_np=load_data_np, skip_export=skip_export, skip_return=skip_return
                )
        # the mappers of the prefix are applied already; its filters find their statistics present
        pipeline = [op for op in prefix if isinstance(op, Filter)] + ops[len(prefix) :]
        with _handing_out(executor, dataset), use_prepared_ops(ray_executor, pipeline):
            return original_run(executor, load_data_np=load_data_np, skip_export=skip_export, skip_return=skip_return)
    finally:
        executor._dj_hpo_inner = False
