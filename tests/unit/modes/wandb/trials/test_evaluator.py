"""The trial evaluator on given statistic columns (Bundles.of_columns, TrialEvaluator): checked against numpy."""

import numpy as np
import pytest


class _Mean:
    def __init__(self, values):
        self.values = values

    def score(self, population, kept):
        return float(self.values[kept].mean()) if len(kept) else 0.0


class _Population(list):
    cache: dict = {}


def test_keep_mask_engine_on_columns_matches_numpy():
    from data_juicer.ops import load_ops

    from data_juicer_hpo.modes.wandb.trials import Bundles, TrialEvaluator
    from data_juicer_hpo.ops.addressing import Target

    rng = np.random.default_rng(3)
    n = 5000
    text_len = rng.integers(0, 3000, n).astype(np.int32)
    ratio = rng.uniform(0, 1, n)
    process = [{"text_length_filter": {"min_len": 10, "max_len": 2000}}, {"alphanumeric_filter": {"min_ratio": 0.2}}]
    targets = {
        "text_length_filter.min_len": Target("text_length_filter.min_len", 0, "min_len"),
        "alphanumeric_filter.min_ratio": Target("alphanumeric_filter.min_ratio", 1, "min_ratio"),
    }
    values = rng.uniform(0, 1, n)
    statistics = {0: {"text_len": text_len}, 1: {"alnum_ratio": ratio}}
    bundles = Bundles.of_columns(process, statistics, targets, _Population(range(n)), load_ops)
    evaluator = TrialEvaluator(bundles, targets, _Mean(values))
    for number, (min_len, min_ratio) in enumerate([(100, 0.3), (0, 0.0), (2500, 0.9), (1000, 0.5)]):
        params = {"text_length_filter.min_len": min_len, "alphanumeric_filter.min_ratio": min_ratio}
        keep = (text_len >= min_len) & (text_len <= 2000) & (ratio >= min_ratio) & (ratio <= 1.0)
        assert evaluator.evaluate(params, number) == pytest.approx(values[keep].mean() if keep.any() else 0.0)
