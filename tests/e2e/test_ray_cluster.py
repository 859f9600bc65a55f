"""executor_type: ray on a multi-node cluster (a head and two worker nodes, each its own raylet and object store,
on loopback in a private network namespace): 3sigma computes its moments and counts per block on the cluster and
brings only a sample of the statistics to the driver, and its bounds, counts and kept set equal the default
executor's on the same bench-corpus documents. make test-cluster (CI runs it)."""

import csv
import gzip
import json
import re

import pytest
import yaml

from tests.helpers.data import write_yaml
from tests.helpers.ray import kill_a_worker_node_when
from tests.helpers.recipes import executor_recipe, exported_texts
from tests.helpers.runs import BIN

pytestmark = [pytest.mark.e2e, pytest.mark.ray, pytest.mark.cluster, pytest.mark.corpus]

DOCS, FILES, SAMPLE = 3_000, 6, 400
PROCESS = [
    {"text_length_filter": {"min_len": 10, "max_len": 100000}},
    {"average_line_length_filter": {"min_len": 10}},
    {"character_repetition_filter": {"rep_len": 10, "max_ratio": 0.5}},
    {"special_characters_filter": {"max_ratio": 0.5}},
]


def _corpus(shared_data, directory):
    """The first DOCS bench documents in FILES JSON Lines files (Ray reads each file as its own blocks)."""
    directory.mkdir()
    with gzip.open(shared_data / "bench-corpus.jsonl.gz", "rt", encoding="utf-8") as f:
        rows = [json.loads(next(f)) for _ in range(DOCS)]
    per = DOCS // FILES
    for k in range(FILES):
        with open(directory / f"part-{k}.jsonl", "w", encoding="utf-8") as out:
            out.writelines(
                json.dumps({"text": r["text"]}, ensure_ascii=False) + "\n" for r in rows[k * per : (k + 1) * per]
            )
    return directory


def _recipe(tmp_path, name, data, executor):
    auto_hpo = {
        "mode": "3sigma",
        "path_3sigma_recipe": str(tmp_path / f"refined-{name}.yaml"),
        "report": str(tmp_path / f"report-{name}.html"),
    }
    return executor_recipe(tmp_path, name, data, executor, PROCESS, auto_hpo)


def _counts(stderr):
    """The per-op and overall keep counts 3sigma logs (the bounds' floats apart: compared to 1e-8 above)."""
    lines = re.findall(r"auto_hpo\[3sigma\]: (.*(?:keeps|remove) \[\d+\].*)", stderr)
    return sorted((line.split(" ", 1)[0], re.findall(r"(?:keeps|remove|of) \[(\d+)\]", line)) for line in lines)


def test_three_sigma_on_a_three_node_cluster_matches_the_default_executor(
    tmp_path, shared_data, ray_runner, dj_process
):
    data = _corpus(shared_data, tmp_path / "data")
    res = dj_process("--config", _recipe(tmp_path, "default", data, "default"))
    assert res.returncode == 0, res.stderr[-3000:]
    default_log = res.stderr
    res = ray_runner(
        [BIN / "dj-process", "--config", _recipe(tmp_path, "ray", data, "ray")],
        cwd=tmp_path,
        workers=2,
        env={"DJ_HPO_RAY_VALUES_SAMPLE": str(SAMPLE)},
    )
    assert res.returncode == 0, res.stderr[-3000:]
    ray_log = res.stderr
    # the driver got a sample of the statistics, not every document's
    found = re.search(r"computed per block on the cluster; .* uniform sample of \[(\d+)\]", ray_log)
    assert found and 0.7 * SAMPLE < int(found.group(1)) < 1.3 * SAMPLE, ray_log[-3000:]
    assert "uniform sample of" not in default_log

    ray_ops = yaml.safe_load((tmp_path / "refined-ray.yaml").read_text())["process"]
    default_ops = yaml.safe_load((tmp_path / "refined-default.yaml").read_text())["process"]
    assert [list(e) for e in ray_ops] == [list(e) for e in default_ops]
    for ray_entry, default_entry in zip(ray_ops, default_ops):
        ((name, ray_args),) = ray_entry.items()
        for arg, value in ray_args.items():
            if isinstance(value, float):
                # the default executor's statistics went through JSON with 10 decimals; Ray keeps full precision
                assert value == pytest.approx(default_entry[name][arg], rel=1e-8, abs=1e-9), (name, arg)
            else:
                assert value == default_entry[name][arg], (name, arg)
    assert _counts(ray_log) == _counts(default_log) and len(_counts(ray_log)) >= 9
    kept = exported_texts(str(tmp_path / "ray" / "kept.jsonl"))
    assert kept == exported_texts(str(tmp_path / "default" / "kept.jsonl")) and 0 < len(kept) < DOCS
    report = (tmp_path / "report-ray.html").read_text()
    assert f"uniform sample of {int(found.group(1)):,} of the {DOCS:,} documents" in report
    # the example groups drawn from the sample give the counts of all documents, as the default executor's report
    totals = re.findall(r"\(([\d,]+) documents; ", report)
    default_totals = re.findall(r"\(([\d,]+) documents; ", (tmp_path / "report-default.html").read_text())
    assert len(totals) >= 6 and set(totals) <= set(default_totals), (totals, default_totals)


def test_a_sample_is_the_same_documents_on_the_cluster(tmp_path, shared_data, ray_runner, dj_process):
    """auto_hpo.sample draws the same documents per block on the cluster as in one process: the same bounds, and
    the tuned recipe processes every document on both."""
    data = _corpus(shared_data, tmp_path / "data")
    recipes = {}
    for name, executor in (("default", "default"), ("ray", "ray")):
        recipes[name] = executor_recipe(
            tmp_path, name, data, executor, PROCESS,
            {"mode": "3sigma", "sample": 500, "seed": 5, "path_3sigma_recipe": str(tmp_path / f"refined-{name}.yaml")},
        )  # fmt: skip
    res = dj_process("--config", recipes["default"])
    assert res.returncode == 0, res.stderr[-3000:]
    assert "seeded uniform sample of [500] of [3000] samples" in res.stderr
    res = ray_runner([BIN / "dj-process", "--config", recipes["ray"]], cwd=tmp_path, workers=2)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "seeded uniform sample of [500] of [3000] samples" in res.stderr
    ray_ops = yaml.safe_load((tmp_path / "refined-ray.yaml").read_text())["process"]
    default_ops = yaml.safe_load((tmp_path / "refined-default.yaml").read_text())["process"]
    for ray_entry, default_entry in zip(ray_ops, default_ops):
        ((name, ray_args),) = ray_entry.items()
        assert ray_args == pytest.approx(default_entry[name], rel=1e-8, abs=1e-9), name
    kept = exported_texts(str(tmp_path / "ray" / "kept.jsonl"))
    assert kept == exported_texts(str(tmp_path / "default" / "kept.jsonl")) and 500 < len(kept) < DOCS


def _trials(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    keep = ("state", "text_length_filter.min_len", "special_characters_filter.max_ratio", "kept", "retention", "labels",
            "model_loss")  # fmt: skip
    return [({k: r[k] for k in keep}, float(r["quality_score"])) for r in rows]


def test_a_quality_score_sweep_on_blocks_equals_the_default_executor(tmp_path, shared_data, ray_runner, dj_process):
    """The trials run on the cluster's blocks (each returns its kept count and the exact sum of its kept
    documents' probabilities, and model_loss's training counts; the labels objective scores the labelled documents
    in the driver; both are constraints here); trials.csv, the chosen recipe and the export equal the default
    executor's."""
    data = _corpus(shared_data, tmp_path / "data")
    labelled = tmp_path / "labelled.jsonl"
    with gzip.open(shared_data / "bench-corpus.jsonl.gz", "rt", encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for _, line in zip(range(DOCS + 80), f)][DOCS:]
    labelled.write_text("".join(json.dumps({"text": t, "keep": len(t) > 800}) + "\n" for t in texts))
    sweep = write_yaml(
        tmp_path / "sweep.yaml",
        {
            "method": "random",
            "metric": {"name": "quality_score", "goal": "maximize"},
            "run_cap": 6,
            "parameters": {
                "text_length_filter.min_len": {"distribution": "int_uniform", "min": 0, "max": 1500},
                "special_characters_filter.max_ratio": {"distribution": "uniform", "min": 0.1, "max": 0.5},
            },
        },
    )
    runs = {}
    for executor in ("default", "ray"):
        out = tmp_path / f"hpo-{executor}"
        auto_hpo = {
            "mode": "wandb",
            "backend": "local",
            "hpo_config": str(sweep),
            "output_dir": str(out),
            "seed": 5,
            "reference": str(shared_data / "reference-clean.jsonl.gz"),
            "labels": {"path": str(labelled)},
            "constraints": ["labels >= -1", "model_loss <= 100"],
        }
        recipe = executor_recipe(tmp_path, f"sweep-{executor}", data, executor, PROCESS, auto_hpo)
        if executor == "default":
            res = dj_process("--config", recipe)
        else:
            res = ray_runner([BIN / "dj-process", "--config", recipe], cwd=tmp_path, workers=2)
        assert res.returncode == 0, res.stderr[-3000:]
        runs[executor] = (res.stderr, out)
    assert "trials as per-block partial aggregates: [" in runs["ray"][0]
    assert "per-block" not in runs["default"][0]
    default, ray = (_trials(out / "trials.csv") for _, out in runs.values())
    assert len(default) == 6 and ray == default  # parameters, kept, retention and quality_score to the last bit
    assert len({kept["kept"] for kept, _ in default}) > 2 and len({kept["labels"] for kept, _ in default}) > 1
    assert len({kept["model_loss"] for kept, _ in default}) > 2
    best = [yaml.safe_load((out / "best_recipe.yaml").read_text())["process"] for _, out in runs.values()]
    assert best[0] == best[1]
    assert exported_texts(str(tmp_path / "sweep-ray" / "kept.jsonl")) == exported_texts(
        str(tmp_path / "sweep-default" / "kept.jsonl")
    )
    summaries = [json.loads((out / "summary.json").read_text()) for _, out in runs.values()]
    assert summaries[0]["keep_all"]["scores"] == summaries[1]["keep_all"]["scores"]


def test_a_node_lost_mid_run_costs_nothing(tmp_path, shared_data, ray_runner, dj_process):
    """A worker node killed (SIGKILL of its raylet: its object store and workers go with it) once 3sigma has tuned
    its bounds, before the data are processed, and during a sweep's trials: both runs end as on the default
    executor (Ray rebuilds the lost blocks; the sweep's trials run on the blocks, whose actors restart and read
    their blocks again from the copy another actor holds; its best recipe is processed from the source)."""
    data = _corpus(shared_data, tmp_path / "data")
    res = dj_process("--config", _recipe(tmp_path, "default", data, "default"))
    assert res.returncode == 0, res.stderr[-3000:]
    refined, killed = tmp_path / "refined-ray.yaml", []
    res = ray_runner(
        [BIN / "dj-process", "--config", _recipe(tmp_path, "ray", data, "ray")],
        cwd=tmp_path,
        workers=2,
        while_running=kill_a_worker_node_when(refined.exists, killed),
    )
    assert killed and res.returncode == 0, res.stderr[-3000:]
    assert exported_texts(str(tmp_path / "ray" / "kept.jsonl")) == exported_texts(
        str(tmp_path / "default" / "kept.jsonl")
    )

    sweep = write_yaml(
        tmp_path / "sweep.yaml",
        {
            "method": "grid",
            "metric": {"name": "retention", "goal": "maximize"},
            "parameters": {"text_length_filter.min_len": {"values": [20, 100, 400, 1600]}},
        },
    )
    auto_hpo = {"mode": "wandb", "backend": "local", "hpo_config": str(sweep), "output_dir": str(tmp_path / "hpo")}
    auto_hpo["constraints"] = ["retention <= 0.9"]
    first_run = lambda: any((tmp_path / "hpo" / "wandb").glob("offline-run-*"))  # noqa: E731
    killed.clear()
    res = ray_runner(
        [BIN / "dj-process", "--config", executor_recipe(tmp_path, "sweep-run", data, "ray", PROCESS, auto_hpo)],
        cwd=tmp_path,
        workers=2,
        while_running=kill_a_worker_node_when(first_run, killed),
    )
    assert killed and res.returncode == 0, res.stderr[-3000:]
    assert "trials as per-block partial aggregates" in res.stderr  # the actors holding the blocks restarted
    with open(tmp_path / "hpo" / "trials.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4 and {r["state"] for r in rows} == {"COMPLETE"}
    assert len(exported_texts(str(tmp_path / "sweep-run" / "kept.jsonl"))) == max(
        int(r["kept"]) for r in rows if r["feasible"] == "true"
    )
