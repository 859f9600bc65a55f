"""3sigma by parts (modes/three_sigma/blocks.py, bounds.merge, report.filters.section_counts): whatever the split of
the documents into blocks, the merged moments equal numpy's on all values, the merged reasons equal the whole's, and
the summed keep counts and report counts equal those of all documents at once."""

import math
from dataclasses import replace

import numpy as np
import pytest
from data_juicer.ops.filter import TextLengthFilter

from data_juicer_hpo.modes.three_sigma.blocks import (
    OpRule,
    block_counts,
    block_partials,
    kept_counts,
    merged_estimates,
)
from data_juicer_hpo.modes.three_sigma.bounds import estimate, merge, partial_of
from data_juicer_hpo.modes.three_sigma.plan import Change, keep_masks, plan_bounds
from data_juicer_hpo.report.filters import TunedStatistic, filter_sections, section_counts, with_counts

RNG = np.random.default_rng(11)


def _split(values, parts):
    """``values`` cut at random places into ``parts`` pieces (some may be empty)."""
    cuts = sorted(RNG.integers(0, len(values) + 1, parts - 1))
    edges = [0, *cuts, len(values)]
    return [values[a:b] for a, b in zip(edges, edges[1:])]


@pytest.mark.parametrize("parts", [1, 2, 7, 40])
def test_merged_moments_equal_numpy_on_all_values(parts):
    values = list(RNG.lognormal(5, 1.5, 5_000))
    est, reason = merge([partial_of(p) for p in _split(values, parts)])
    assert reason is None
    arr = np.asarray(values)
    assert est.n == arr.size
    assert est.mean == pytest.approx(arr.mean(), rel=1e-12)
    assert est.std == pytest.approx(arr.std(ddof=1), rel=1e-12)
    assert est.log_mean == pytest.approx(np.log(arr).mean(), rel=1e-12)
    assert est.log_std == pytest.approx(np.log(arr).std(ddof=1), rel=1e-12)
    assert (est.low, est.high, est.integral) == (arr.min(), arr.max(), False)


def test_one_part_is_the_whole_bit_for_bit():
    values = list(RNG.integers(0, 10_000, 3_001))
    whole = estimate(values)[0]
    assert whole.mean == math.fsum(values) / len(values)
    assert whole.std == math.sqrt(math.fsum((np.asarray(values) - whole.mean) ** 2) / (len(values) - 1))
    assert whole.integral


def test_list_valued_statistics_pool_their_items_across_parts():
    values = [list(RNG.integers(1, 500, RNG.integers(0, 4))) for _ in range(800)] + [None, None]
    RNG.shuffle(values)
    est, reason = merge([partial_of(p) for p in _split(values, 9)])
    items = np.asarray([x for v in values if v for x in v], dtype=float)
    assert reason is None and est.per_item and est.n == items.size
    assert est.mean == pytest.approx(items.mean(), rel=1e-12)
    assert est.std == pytest.approx(items.std(ddof=1), rel=1e-12)


@pytest.mark.parametrize(
    "values",
    [
        [1.0, float("nan"), 3.0, float("nan"), 2.0],
        [1.0, 2.0, float("inf"), 4.0],
        [5, 5, 5, 5, 5],
        [1.0, None, 2.0, 3.0],
        ["a", "b", "c"],
        [7.0, 8.0],
        [7.0],
        [],
    ],
)
def test_merged_reasons_equal_those_of_the_whole(values):
    whole = estimate(values)
    for parts in (2, 3):
        merged = merge([partial_of(p) for p in _split(values, parts)])
        assert (merged[0] is None) == (whole[0] is None)
        assert merged[1] == whole[1]


def _values(n):
    return {
        0: {"len": list(RNG.integers(0, 2_000, n))},
        2: {"ratio": list(RNG.uniform(0, 1, n))},
        3: {"sizes": [list(RNG.integers(1, 100, RNG.integers(0, 3))) for _ in range(n)]},
    }


def _parts(values, n, parts):
    cuts = sorted(RNG.integers(0, n + 1, parts - 1))
    edges = [0, *cuts, n]
    return [{i: {k: v[a:b] for k, v in d.items()} for i, d in values.items()} for a, b in zip(edges, edges[1:])]


def test_kept_counts_by_parts_equal_the_masks_of_all_documents():
    n = 3_000
    values = _values(n)
    stat_keys = {0: ["len"], 2: ["ratio"], 3: ["sizes"]}
    estimates = merged_estimates(stat_keys, [block_partials(stat_keys, p) for p in _parts(values, n, 6)])
    for i, keys in stat_keys.items():
        for key in keys:
            items = np.asarray([x for v in values[i][key] for x in (v if isinstance(v, list) else [v])], dtype=float)
            assert estimates[i][key][0].mean == pytest.approx(items.mean(), rel=1e-12)
            assert estimates[i][key][0].std == pytest.approx(items.std(ddof=1), rel=1e-12)
    changes = [
        Change(0, "len_filter", "min_len", 10, 100, "len"),
        Change(0, "len_filter", "max_len", 1_500, 1_200, "len"),
        Change(2, "ratio_filter", "max_ratio", 0.95, 0.5, "ratio"),
        Change(3, "size_filter", "max_size", 90, 40, "sizes"),
    ]
    rules = {0: OpRule(), 2: OpRule(True, False, True), 3: OpRule(True, True, False)}
    total = kept_counts([block_counts(rules, changes, p) for p in _parts(values, n, 8)])
    written, tuned = keep_masks(rules, changes, values, written=True), keep_masks(rules, changes, values)
    assert total.written == {i: int(m.sum()) for i, m in written.items()}
    assert total.tuned == {i: int(m.sum()) for i, m in tuned.items()}
    assert total.all_tuned == int(np.logical_and.reduce(list(tuned.values())).sum())
    assert total.all_written == int(np.logical_and.reduce(list(written.values())).sum())
    # brute force for one op: the length filter as tuned keeps 100 <= len <= 1200
    assert total.tuned[0] == sum(1 for v in values[0]["len"] if 100 <= v <= 1_200)
    assert 0 < total.all_tuned < n


def test_plan_bounds_from_merged_estimates_equals_plan_from_values():
    values = {0: {"text_len": list(RNG.integers(0, 5_000, 2_000))}}
    ops = [TextLengthFilter(min_len=5, max_len=4_000)]
    stat_keys = {0: ["text_len"]}
    estimates = merged_estimates(stat_keys, [block_partials(stat_keys, p) for p in _parts(values, 2_000, 5)])
    by_parts, _ = plan_bounds(ops, stat_keys, None, 3.0, estimates=estimates)
    whole, _ = plan_bounds(ops, stat_keys, values, 3.0)
    assert [(c.arg, c.new) for c in by_parts] == [(c.arg, c.new) for c in whole]


def test_report_counts_by_parts_equal_those_of_all_documents():
    n = 2_500
    values = _values(n)
    stats = [
        TunedStatistic(0, "len_filter", "len", None, {"min": "min_len", "max": "max_len"},
                       {"min": 10, "max": 1_500}, {"min": 100, "max": 1_200}),
        TunedStatistic(2, "ratio_filter", "ratio", None, {"max": "max_ratio"}, {"max": 0.95}, {"max": 0.5},
                       high_closed=False),
        TunedStatistic(3, "size_filter", "sizes", None, {"max": "max_size"}, {"max": 90}, {"max": 40}, any_=False),
    ]  # fmt: skip
    parts = [section_counts(stats, p) for p in _parts(values, n, 7)]
    totals = {key: sum((p[key] for p in parts[1:]), parts[0][key]) for key in parts[0]}
    texts = [f"doc {i}" for i in range(n)]
    full = filter_sections(
        [replace(s, values=values[s.index][s.stat_key]) for s in stats], lambda r: [texts[i] for i in r]
    )
    # a "sample" (the first 300 documents) with the counts of all of them: equal to the sections of all documents
    head = [replace(s, values=values[s.index][s.stat_key][:300]) for s in stats]
    sampled = with_counts(filter_sections(head, lambda r: [texts[i] for i in r]), totals)
    for a, b in zip(full, sampled):
        assert (a.n, a.kept_written, a.kept_chosen) == (b.n, b.kept_written, b.kept_chosen)
        assert a.rows == b.rows
        totals_full = {g.kind: g.total for g in a.groups}
        assert all(totals_full[g.kind] == g.total for g in b.groups)
    assert full[0].rows[0].chosen_alone == sum(1 for v in values[0]["len"] if v < 100)
