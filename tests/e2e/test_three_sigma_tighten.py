"""3sigma with ``auto_hpo.tighten_only`` on 10,000 real documents, checked against numpy: every bound is the tighter
of the written one and mean +/- k*std (clamped and cast as always), the exported documents are exactly those within
every bound, and the log states per op the written and tuned bounds with the documents each keeps."""

import math
import re

import numpy as np
import pytest
import yaml

from tests.helpers.data import read_jsonl
from tests.helpers.report_runs import THREE_SIGMA_PROCESS, K

pytestmark = [pytest.mark.e2e, pytest.mark.corpus, pytest.mark.slow]


def _statistics(texts):
    """text_len, avg_line_length and max_line_length as Data-Juicer's filters compute them."""
    length, avg, longest = [], [], []
    for text in texts:
        lines = text.splitlines()
        length.append(len(text))
        avg.append(len(text) / len(lines) if lines else 0.0)
        longest.append(max(map(len, lines)) if lines else 0)
    return {
        "text_length_filter": np.array(length, dtype=float),
        "average_line_length_filter": np.array(avg, dtype=float),
        "maximum_line_length_filter": np.array(longest, dtype=float),
    }


def _three_sigma(values, integral: bool):
    mean, std = values.mean(), values.std(ddof=1)
    low, high = max(0.0, mean - K * std), mean + K * std  # lengths: never below 0
    if integral:  # exactly the integers inside the interval
        return math.ceil(low), math.floor(high)
    return math.floor(low), math.ceil(high)  # a fractional statistic bounded by ints: outward


def test_tighten_only_keeps_the_tighter_bound_and_the_right_documents(three_sigma_report_run):
    run = three_sigma_report_run
    assert run["returncode"] == 0, run["stderr"][-3000:]
    texts = [row["text"] for row in read_jsonl(run["data"])]
    stats = _statistics(texts)
    refined = {
        next(iter(e)): next(iter(e.values())) for e in yaml.safe_load(open(f"{run['dir']}/refined.yaml"))["process"]
    }
    keep = np.ones(len(texts), dtype=bool)
    loosened = 0
    for entry in THREE_SIGMA_PROCESS:
        ((name, written),) = entry.items()
        values = stats[name]
        tuned = _three_sigma(values, integral=name != "average_line_length_filter")
        expected = (max(written["min_len"], tuned[0]), min(written["max_len"], tuned[1]))
        loosened += int(tuned[0] < written["min_len"]) + int(tuned[1] > written["max_len"])
        assert (refined[name]["min_len"], refined[name]["max_len"]) == expected, name
        as_written = (values >= written["min_len"]) & (values <= written["max_len"])
        now = (values >= expected[0]) & (values <= expected[1])
        line = re.search(rf"{name} \(#\d\): as written \[(.*?)\] keeps \[(\d+)\] of \[(\d+)\]; tuned \(tighten_only\) "
                         rf"\[(.*?)\] keeps \[(\d+)\]", run["stderr"])  # fmt: skip
        assert line, name
        assert line.group(1) == f"min_len={written['min_len']}, max_len={written['max_len']}"
        assert (int(line.group(2)), int(line.group(3))) == (int(as_written.sum()), len(texts))
        assert line.group(4) == f"min_len={expected[0]}, max_len={expected[1]}"
        assert int(line.group(5)) == int(now.sum())
        keep &= now
    assert loosened >= 2  # plain 3sigma would have loosened written bounds here: tighten_only had work to do
    assert "text_length_filter.min_len: 50 kept (tighten_only: 3sigma's 0 is looser)" in run["stderr"]
    exported = [row["text"] for row in read_jsonl(f"{run['dir']}/export/kept.jsonl")]
    assert exported == [t for t, k in zip(texts, keep) if k]
    summary = run["stderr"][run["stderr"].index("auto_hpo[3sigma]: done in") :]
    assert f"exported: {int(keep.sum()):,} documents" in summary
