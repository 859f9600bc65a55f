"""Real runs whose outputs several tests read: a 3sigma run with ``tighten_only`` on 10,000 bench-corpus documents and a
constrained two-objective sweep on 2,000, each with a report -- and a document full of HTML markup among the data,
the longest one, so that every report shows it among the documents its length bound removes.

Each run happens once per test session, however many xdist workers share it (a file lock in the session's common
temporary directory, as pytest-xdist documents for session fixtures).
"""

import json
import os
from pathlib import Path
from typing import Callable

from filelock import FileLock

from tests.helpers.data import decompress, read_jsonl, write_jsonl, write_yaml
from tests.helpers.runs import BIN, run

__all__ = ["MARKUP", "once", "three_sigma_run", "sweep_run", "THREE_SIGMA_PROCESS", "K"]

# a web page whose every element would show, run or fetch something if it were taken as markup
MARKUP = (
    "<!doctype html><html><head><title>markup document</title>"
    "<script>document.title='injected';window.injected=1;</script><style>body{display:none}</style></head><body>"
    + "<img src='missing.png' onerror='window.injected=2'><b>bold</b><a href='https://example.com/'>a link</a>"
    "<iframe src='https://example.com/'></iframe>" * 900 + "</body></html>"
)
K = 3.0
THREE_SIGMA_PROCESS = [
    {"text_length_filter": {"min_len": 50, "max_len": 100000}},
    {"average_line_length_filter": {"min_len": 10, "max_len": 10000}},
    {"maximum_line_length_filter": {"min_len": 10, "max_len": 100000}},
]


def once(tmp_path_factory, name: str, produce: Callable[[Path], dict]) -> dict:
    """``produce(directory)`` run once per session (its result, JSON, is what every caller gets)."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # shared by the session's workers
    out = root / name
    with FileLock(str(out) + ".lock"):
        done = out / "result.json"
        if not done.exists():
            out.mkdir(parents=True, exist_ok=True)
            done.write_text(json.dumps(produce(out)))
        return json.loads(done.read_text())


def _corpus(shared_data: Path, out: Path, n: int) -> Path:
    """The first ``n`` documents of the bench corpus and the markup document, last."""
    rows = read_jsonl(decompress(shared_data / "bench-corpus.jsonl.gz", out / "corpus.jsonl", limit=n))
    return write_jsonl(out / "data.jsonl", [r["text"] for r in rows] + [MARKUP])


def _recipe(out: Path, name: str, data: Path, process: list, section: dict) -> Path:
    body = {"project_name": name, "dataset_path": str(data), "export_path": str(out / "export" / "kept.jsonl"), "np": 2}
    return write_yaml(out / "recipe.yaml", {**body, "process": process, "auto_hpo": section})


def _dj_process(recipe: Path, cwd: Path) -> dict:
    res = run([str(BIN / "dj-process"), "--config", str(recipe)], cwd=cwd, env={"WANDB_MODE": "offline"})
    return {"returncode": res.returncode, "stderr": res.stderr}


def three_sigma_run(shared_data: Path) -> Callable[[Path], dict]:
    def produce(out: Path) -> dict:
        data = _corpus(shared_data, out, 10_000)
        section = {
            "mode": "3sigma",
            "k": K,
            "tighten_only": True,
            "path_3sigma_recipe": str(out / "refined.yaml"),
            "report": str(out / "report" / "report.html"),
        }
        recipe = _recipe(out, "tighten", data, THREE_SIGMA_PROCESS, section)
        return {**_dj_process(recipe, out), "dir": str(out), "data": str(data)}

    return produce


SWEEP = {
    "method": "random",
    "run_cap": 12,
    "parameters": {
        "text_length_filter.min_len": {"distribution": "int_uniform", "min": 0, "max": 300},
        "text_length_filter.max_len": {"distribution": "int_uniform", "min": 2000, "max": 60000},
        "alphanumeric_filter.min_ratio": {"distribution": "uniform", "min": 0.3, "max": 0.8},
        "character_repetition_filter.max_ratio": {"distribution": "uniform", "min": 0.1, "max": 0.6},
    },
}


def sweep_run(shared_data: Path) -> Callable[[Path], dict]:
    def produce(out: Path) -> dict:
        data = _corpus(shared_data, out, 2_000)
        sweep = write_yaml(out / "sweep.yaml", SWEEP)
        process = [
            {"text_length_filter": {"min_len": 10, "max_len": 100000}},
            {"alphanumeric_filter": {"min_ratio": 0.25, "max_ratio": 1.0}},
            {"character_repetition_filter": {"rep_len": 10, "min_ratio": 0.0, "max_ratio": 0.5}},
        ]
        section = {
            "mode": "wandb",
            "backend": "local",
            "hpo_config": str(sweep),
            "objectives": {"quality_score": "maximize", "retention": "maximize"},
            "constraints": ["retention >= 0.65"],
            "reference": str(shared_data / "reference-clean.jsonl.gz"),
            "output_dir": str(out / "hpo"),
        }
        recipe = _recipe(out, "report-sweep", data, process, section)
        return {**_dj_process(recipe, out), "dir": str(out), "data": str(data)}

    return produce
