"""3sigma on the real 45k-document bench corpus, checked against an independent computation of the bounds."""

import math

import numpy as np
import pytest
import yaml

from tests.helpers.data import decompress, read_jsonl, write_yaml

pytestmark = [pytest.mark.e2e, pytest.mark.corpus, pytest.mark.slow]


def _lines_stats(text):
    lines = text.splitlines()
    avg = len(text) / len(lines) if lines else 0.0
    longest = max(map(len, lines)) if lines else 0
    return avg, longest


def test_bench_corpus_bounds_and_kept_set(tmp_path, shared_data, dj_process):
    data = decompress(shared_data / "bench-corpus.jsonl.gz", tmp_path / "bench.jsonl")
    texts = [row["text"] for row in read_jsonl(data)]
    k = 2.5
    recipe = write_yaml(
        tmp_path / "recipe.yaml",
        {
            "dataset_path": str(data),
            "export_path": str(tmp_path / "out" / "kept.jsonl"),
            "np": 2,
            "process": [
                {"text_length_filter": {"min_len": 10, "max_len": 100000}},
                {"average_line_length_filter": {"min_len": 10, "max_len": 10000}},
                {"maximum_line_length_filter": {"min_len": 10, "max_len": 100000}},
            ],
            "auto_hpo": {"mode": "3sigma", "k": k, "path_3sigma_recipe": str(tmp_path / "refined.yaml")},
        },
    )
    res = dj_process("--config", recipe)
    assert res.returncode == 0, res.stderr[-3000:]

    length = np.array([len(t) for t in texts], dtype=float)
    avg, longest = map(np.array, zip(*(_lines_stats(t) for t in texts)))

    def interval(values):
        return values.mean() - k * values.std(ddof=1), values.mean() + k * values.std(ddof=1)

    (l_lo, l_hi), (a_lo, a_hi), (m_lo, m_hi) = interval(length), interval(avg), interval(longest)
    expected = {
        "text_length_filter": (max(0, math.ceil(l_lo)), math.floor(l_hi)),  # integer statistic: exact
        "average_line_length_filter": (max(0, math.floor(a_lo)), math.ceil(a_hi)),  # fractional: outward
        "maximum_line_length_filter": (max(0, math.ceil(m_lo)), math.floor(m_hi)),
    }
    refined = yaml.safe_load((tmp_path / "refined.yaml").read_text())["process"]
    for entry in refined:
        ((name, args),) = entry.items()
        assert (args["min_len"], args["max_len"]) == expected[name], name
        assert f"{name}.max_len:" in res.stderr

    keep = np.ones(len(texts), dtype=bool)
    for values, name in (
        (length, "text_length_filter"),
        (avg, "average_line_length_filter"),
        (longest, "maximum_line_length_filter"),
    ):
        lo, hi = expected[name]
        keep &= (values >= lo) & (values <= hi)
    kept = [row["text"] for row in read_jsonl(tmp_path / "out" / "kept.jsonl")]
    assert len(kept) == int(keep.sum())
    assert kept == [t for t, flag in zip(texts, keep) if flag]
    assert f"remove [{len(texts) - int(keep.sum())}] of [{len(texts)}] samples together" in res.stderr
