"""Data access: the one interface both modes use to load data, compute statistics and process on any executor.

3sigma and sweeps have one flow for every executor; what differs between Data-Juicer's executors -- Hugging Face
datasets in this process (``default``, :class:`~data_juicer_hpo.data.local.LocalData`) or Ray Data on a cluster
(``ray``, :class:`~data_juicer_hpo.data.ray_data.RayData`) -- lives behind this interface. A sweep's per-sample
statistics come back to the driver in sample order, where keep masks and objectives are cheap; 3sigma's moments and
counts are computed per part where the data live (:meth:`DataAccess.reduce_blocks`: one part here, one per block on
a Ray cluster), so its driver holds a few numbers per statistic. ``auto_hpo.sample`` draws the same seeded sample on
every executor (:meth:`DataAccess.sample`, :mod:`~data_juicer_hpo.data.sampling`).
"""

import abc
from typing import ClassVar, Dict, List

from loguru import logger

from data_juicer_hpo.data.sampling import sample_spec
from data_juicer_hpo.progress import Progress

__all__ = ["DataAccess"]


class DataAccess(abc.ABC):
    """How a mode reaches the data of one Data-Juicer executor (``kind``: its ``executor_type``).

    Order of use: a mode calls :meth:`load` once, :meth:`count` to check the size, then either (3sigma)
    :meth:`statistics_pass` and :meth:`process_tuned`, or (sweeps) :meth:`apply` per mapper state,
    :meth:`compute` per set of filter arguments, :meth:`texts` / :meth:`samples` / :meth:`column` for the
    objectives, :meth:`run_pipeline` for a trial that needs Data-Juicer's whole pipeline, and finally
    :meth:`process_tuned` or the executor's own run for the chosen recipe.
    """

    kind: ClassVar[str] = ""

    def __init__(self, executor):
        self.executor = executor

    @abc.abstractmethod
    def load_ops(self, process: List[dict]) -> list:
        """Data-Juicer's op instances of a ``process`` list, built as this executor builds them."""

    @abc.abstractmethod
    def load(self, dataset=None, load_data_np=None):
        """The executor's dataset, loaded as its ``run`` would (``dataset``: one given to ``run``)."""

    @abc.abstractmethod
    def count(self, dataset) -> int:
        """The number of samples."""

    @abc.abstractmethod
    def apply(self, dataset, op):
        """``dataset`` after one non-filter op (a mapper)."""

    @abc.abstractmethod
    def compute(self, dataset, ops) -> List[Dict[str, object]]:
        """Each filter's statistics on ``dataset``, computed apart (the same filter may appear with several
        argument sets); per op, stat key -> column."""

    @abc.abstractmethod
    def texts(self, dataset, key: str):
        """The ``key`` column as a sequence of strings, in sample order."""

    @abc.abstractmethod
    def column(self, dataset, key: str) -> list:
        """The values of the top-level field ``key`` of every sample; KeyError when there is no such field."""

    @abc.abstractmethod
    def samples(self, dataset):
        """The samples without the statistics column, as a Hugging Face dataset (for custom objectives)."""

    @abc.abstractmethod
    def run_pipeline(self, original_run, dataset):
        """Data-Juicer's whole pipeline on ``dataset`` without export: (processed samples, their texts)."""

    @abc.abstractmethod
    def statistics_pass(self, dataset, ops):
        """Every stats filter's statistic on the whole population as that filter sees it, in one pass
        (:class:`~data_juicer_hpo.ops.statistics.StatsPass`); no sample is removed."""

    @abc.abstractmethod
    def sample(self, dataset, spec, seed: int, text_key: str):
        """``dataset``'s seeded uniform sample (:mod:`~data_juicer_hpo.data.sampling`; ``spec``: its
        ``sample_spec``), the same documents on every executor; ``dataset`` itself when it has no more."""

    def draw_sample(self, dataset, value, seed: int, text_key: str, n: int, mode: str):
        """``auto_hpo.sample`` (``value``) of ``dataset`` of ``n`` samples, logged; (the sample, its size)."""
        with Progress(f"drawing the sample of {n:,} samples"):
            sample = self.sample(dataset, sample_spec(value), int(seed), text_key)
        size = self.count(sample)
        logger.info(
            f"auto_hpo[{mode}]: tuning on a seeded uniform sample of [{size}] of [{n}] samples (auto_hpo.sample "
            f"{value!r}, seed {seed}); the chosen recipe then processes all of them"
        )
        return sample, size

    def reduce_blocks(self, stats, fn) -> list:
        """``fn`` applied to every part of a statistics pass's statistics (op position -> stat key -> that part's
        values), its results in a list: here the whole population is one part; a cluster computes one result per
        block where the block lives (:class:`~data_juicer_hpo.data.ray_data.RayData`)."""
        return [fn(stats.values)]

    def values_texts(self, stats, key: str):
        """The ``key`` texts of the samples whose statistics ``stats.values`` hold (every sample, or a sample)."""
        return self.texts(stats.dataset, key)

    @abc.abstractmethod
    def process_tuned(self, original_run, dataset, stats, ops, load_data_np=None, skip_export=False, skip_return=False):
        """Data-Juicer's own ``run`` with the tuned ``ops``, reusing the statistics of ``stats``."""
