"""A sweep's trials as per-block partial aggregates on a multi-node Ray cluster (modes/wandb/trials/blocks.py): a
head and two worker nodes on loopback in a private network namespace. Every trial's kept count, retention and
quality_score equal, to the last bit, those of the default executor's in-process engine on the same documents and
statistics; a worker node killed mid-trials costs nothing but time. make test-cluster (CI runs it)."""

import gzip
import json

import pytest

from tests.helpers.ray import kill_a_worker_node_when
from tests.helpers.runs import BIN

pytestmark = [pytest.mark.e2e, pytest.mark.ray, pytest.mark.cluster, pytest.mark.corpus]

DOCS = 1_500


def _data(shared_data, tmp_path):
    path = tmp_path / "docs.jsonl"
    with gzip.open(shared_data / "bench-corpus.jsonl.gz", "rt", encoding="utf-8") as f, open(path, "w") as out:
        for _ in range(DOCS):
            out.write(json.dumps({"text": json.loads(next(f))["text"]}) + "\n")
    return path


def _run(tmp_path, shared_data, ray_runner, ready=None, while_running=None):
    out = tmp_path / "result.json"
    cmd = [BIN / "python", "-m", "tests.helpers.block_trials", _data(shared_data, tmp_path),
           shared_data / "reference-clean.jsonl.gz", out]  # fmt: skip
    if ready is not None:
        cmd += ["--ready", ready]
    done = ray_runner(cmd, cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]), workers=2,
                      while_running=while_running)  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(out.read_text())


def test_trials_on_blocks_equal_the_default_executors_engine(tmp_path, shared_data, ray_runner):
    result = _run(tmp_path, shared_data, ray_runner)
    assert result["nodes"] == 3 and result["blocks"] == 7 and result["actors"] >= 2
    assert result["on_blocks"] == result["expected"]  # every trial: kept, retention, quality_score, bit for bit
    assert len({r["kept"] for r in result["expected"]}) > 5  # the trials differ
    assert result["on_blocks_all"]["kept"] == DOCS
    assert result["on_blocks_all"]["quality_score"] == result["expected_all"]["quality_score"]
    assert 0.9 < result["auc"] <= 1.0


def test_a_node_lost_mid_trials_costs_only_time(tmp_path, shared_data, ray_runner):
    ready, killed = tmp_path / "ready", []
    result = _run(tmp_path, shared_data, ray_runner, ready=ready,
                  while_running=kill_a_worker_node_when(ready.exists, killed))  # fmt: skip
    assert killed, "no worker node was killed"
    assert result["again"] == result["expected"]
