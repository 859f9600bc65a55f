"""Same outputs: run fixed 3sigma and sweep scenarios with one copy of the package, keep their outputs normalised,
and compare two such runs file by file.

    python bench/same_outputs.py run --code DIR --out OUTDIR [--docs 3000] [--only NAME[,NAME]] [--keep]
    python bench/same_outputs.py compare OUT_A OUT_B [--only NAME[,NAME]]
    python bench/same_outputs.py --list

Why: a restructuring (module moves) or an optimisation must not change what a user gets. ``run`` runs every scenario
with the ``data_juicer_hpo`` package of ``DIR`` (``PYTHONPATH=DIR`` for every subprocess, checked before the first
scenario: the run aborts when the import or the ``data_juicer.ops`` entry point resolves elsewhere) on the first
``--docs`` documents of the bench corpus (``../shared/data``, or ``$DJ_HPO_SHARED_DATA``; decompressed into a temp
dir, never into the checkout) and the reference set. Every recipe, sweep file and sampler seed is fixed by this
script, so two runs differ only in the code. ``compare`` prints IDENTICAL or a unified diff per scenario and file
and exits 1 when anything differs: run it on the base code and on the changed code (and on the base code twice, to
show the harness itself is deterministic).

Kept per scenario in ``OUTDIR/<scenario>/`` (every absolute temp path replaced by ``<WORK>``, the shared data dir by
``<SHARED>``, ``DIR`` by ``<CODE>``):

- ``exit_code.txt``;
- ``log.txt``: the ``auto_hpo`` log lines that state results -- tuned bounds (``text_length_filter.max_len: 100000
  -> 1459``), what each op's bounds remove, ops left unchanged and why, ``best trial``, the Pareto summary, the
  mixture sources -- without loguru's time and module prefix (a module move must not count as a change);
- ``export.txt``: line count and sha256 of the sorted lines of the export and of its ``_stats`` file;
- 3sigma: the refined recipe as written; sweeps: ``best_recipe.yaml``, ``trials.csv`` and ``pareto.csv`` without the
  timing columns (``duration_s``, ``datetime_*``), ``pareto/trial-<n>.yaml``, and ``files.txt`` (which files the
  sweep wrote; its W&B offline runs counted, their random ids left out).

Not compared: ``OUTDIR/timing.json`` (wall seconds per scenario), ``OUTDIR/run.json`` (the code directory and a digest
of its package files; only ``docs`` must match) and ``OUTDIR/_logs/`` (each scenario's full output, for reading).
Subprocesses get ``DJ_HPO_BLOCK_RUNTIME_INSTALLS=1`` and ``WANDB_SILENT=true`` (what the test suite sets),
``WANDB_MODE=offline`` (so the trials' W&B offline runs are written, as a user's local sweep does), their own
Hugging Face datasets cache in the temp dir (no cache shared between runs or left in ``~/.cache``) and
``PYTHONDONTWRITEBYTECODE=1`` (no ``__pycache__`` written into ``DIR``, e.g. a read-only baseline worktree).
Scenarios run one after the other: the machine may be shared, and wall times are only comparable that way.
"""

import argparse
import csv
import difflib
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BIN, SHARED, SIX_FILTERS, write_recipe  # noqa: E402

EVAL_DOCS = 600  # downstream_task's labelled eval set: the documents right after the data
MIX_SOURCES = ("blog_authorship_corpus", "20newsgroups", "reuters21578")  # the three largest sources
# bench_sweep.THRESHOLDS, copied so that a change to that benchmark does not move these scenarios
THRESHOLDS = {
    "text_length_filter.min_len": {"distribution": "int_uniform", "min": 0, "max": 200},
    "text_length_filter.max_len": {"distribution": "int_uniform", "min": 5000, "max": 100000},
    "average_line_length_filter.max_len": {"distribution": "int_uniform", "min": 500, "max": 10000},
    "maximum_line_length_filter.max_len": {"distribution": "int_uniform", "min": 1000, "max": 100000},
    "alphanumeric_filter.min_ratio": {"distribution": "uniform", "min": 0.3, "max": 0.8},
    "character_repetition_filter.max_ratio": {"distribution": "uniform", "min": 0.1, "max": 0.6},
    "special_characters_filter.max_ratio": {"distribution": "uniform", "min": 0.1, "max": 0.5},
}
MAPPER_RECIPE = [  # mappers before and between the filters: each filter's population is the mapped text
    {"clean_email_mapper": {}},
    {"text_length_filter": {"min_len": 10, "max_len": 100000}},
    {"whitespace_normalization_mapper": {}},
    {"words_num_filter": {"min_num": 10, "max_num": 100000}},
    {"word_repetition_filter": {"rep_len": 10, "min_ratio": 0.0, "max_ratio": 0.5}},
    {"character_repetition_filter": {"rep_len": 10, "min_ratio": 0.0, "max_ratio": 0.5}},
]
TIMING_COLUMNS = re.compile(r"^(duration_s|datetime.*)$")
# loguru's line as Data-Juicer formats it: time | level | module:line - message
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \| (\w+)\s*\| ([\w.]+):\d+ - (.*)$")
BOUND = re.compile(r"^[\w\[\]]+\.\w+: \S.* -> \S.*$")  # text_length_filter.max_len: 100000 -> 1459
RESULT_WORDS = ("best trial", "remove [", "unchanged", "linear", "Pareto trials", "mixture sources")


@dataclass
class Inputs:
    """What every scenario reads, in the temp dir: the data, the downstream eval set, the mixture's sources."""

    work: Path
    data: Path
    evaluation: Path
    sources: list
    code: Path


@dataclass
class Plan:
    """One scenario's command and where its outputs land."""

    cmd: list
    export: Path
    refined: Optional[Path] = None
    output_dir: Optional[Path] = None


@dataclass
class Scenario:
    name: str
    summary: str
    build: Callable[[Inputs, Path], Plan]


def prepare_inputs(work: Path, docs: int, code: Path) -> Inputs:
    """One pass over the gzip corpus: the first ``docs`` documents, the ``EVAL_DOCS`` after them, and the mixture
    sources split by ``meta.source`` from the first ``docs`` (so ``--docs`` bounds every scenario's size)."""
    data, evaluation = work / "data.jsonl", work / "eval.jsonl"
    sources = {name: work / f"source-{name}.jsonl" for name in MIX_SOURCES}
    files = {name: open(path, "w", encoding="utf-8") for name, path in sources.items()}
    try:
        with gzip.open(SHARED / "bench-corpus.jsonl.gz", "rt", encoding="utf-8") as f, open(
            data, "w", encoding="utf-8"
        ) as d, open(evaluation, "w", encoding="utf-8") as e:
            for i, line in enumerate(f):
                if i >= docs + EVAL_DOCS:
                    break
                if i >= docs:
                    e.write(line)
                    continue
                d.write(line)
                source = json.loads(line)["meta"]["source"]
                if source in files:
                    files[source].write(line)
    finally:
        for f in files.values():
            f.close()
    return Inputs(work, data, evaluation, [sources[name] for name in MIX_SOURCES], code)


def _dj_process(recipe: Path) -> list:
    return [str(BIN / "dj-process"), "--config", str(recipe)]


def _three_sigma(ins: Inputs, work: Path, process=SIX_FILTERS, **auto_hpo) -> Plan:
    export = work / "out.jsonl"
    refined = work / Path(auto_hpo["path_3sigma_recipe"]).name
    auto_hpo["path_3sigma_recipe"] = str(refined)
    recipe = write_recipe(
        work / "recipe.yaml", ins.data, export, process=process, auto_hpo={"mode": "3sigma", **auto_hpo}
    )
    return Plan(_dj_process(recipe), export, refined=refined)


def _write_sweep(work: Path, metric: str, parameters: dict, trials: Optional[int], method: str = "random") -> Path:
    sweep = {"method": method, "metric": {"name": metric, "goal": "minimize" if metric == "model_loss" else "maximize"}}
    if trials is not None:
        sweep["run_cap"] = trials
    sweep["parameters"] = parameters
    path = work / "sweep.yaml"
    path.write_text(yaml.safe_dump(sweep, sort_keys=False))
    return path


def _sweep_section(work: Path, sweep: Path, **extra) -> dict:
    return {
        "mode": "wandb",
        "backend": "local",
        "hpo_config": str(sweep),
        "reference": str(SHARED / "reference-clean.jsonl.gz"),
        "output_dir": str(work / "hpo"),
        "seed": 0,
        **extra,
    }


def _sweep(ins: Inputs, work: Path, metric: str, parameters: dict, trials: Optional[int], **extra) -> Plan:
    method = extra.pop("method", "random")
    sweep = _write_sweep(work, metric, parameters, trials, method)
    export = work / "out.jsonl"
    recipe = write_recipe(work / "recipe.yaml", ins.data, export, auto_hpo=_sweep_section(work, sweep, **extra))
    return Plan(_dj_process(recipe), export, output_dir=work / "hpo")


def _code_script(ins: Inputs, name: str) -> str:
    """The seed project's script in DIR; a DIR without it is an error, not a silent switch to another copy."""
    path = ins.code / name
    if not path.is_file():
        raise SystemExit(f"error: --code {ins.code} has no {name} (a scenario runs that script from there)")
    return str(path)


def s_3sigma_k3(ins: Inputs, work: Path) -> Plan:
    return _three_sigma(ins, work, k=3, path_3sigma_recipe="refined.yaml")


def s_3sigma_k2_log(ins: Inputs, work: Path) -> Plan:
    """Through ``execute_hpo_3sigma.py`` and its flags, so the seed project's documented usage is covered too."""
    export, refined = work / "out.jsonl", work / "refined.json"
    recipe = write_recipe(work / "recipe.yaml", ins.data, export)
    cmd = [sys.executable, _code_script(ins, "execute_hpo_3sigma.py"), "--config", str(recipe)]
    cmd += ["--path_3sigma_recipe", str(refined), "--auto_hpo.k", "2", "--auto_hpo.scale", "log"]
    return Plan(cmd, export, refined=refined)


def s_3sigma_mappers(ins: Inputs, work: Path) -> Plan:
    return _three_sigma(ins, work, process=MAPPER_RECIPE, k=3, path_3sigma_recipe="refined.yaml")


def s_quality_random(ins: Inputs, work: Path) -> Plan:
    return _sweep(ins, work, "quality_score", THRESHOLDS, 12)


def s_retention_grid(ins: Inputs, work: Path) -> Plan:
    """Through ``execute_hpo_wandb.py --hpo_config``, the seed project's sweep script."""
    grid = {
        "text_length_filter.min_len": {"values": [0, 60, 150]},
        "character_repetition_filter.max_ratio": {"values": [0.15, 0.3]},
    }
    sweep = _write_sweep(work, "retention", grid, None, method="grid")
    export = work / "out.jsonl"
    section = _sweep_section(work, sweep)
    del section["mode"], section["hpo_config"]  # the script sets both
    recipe = write_recipe(work / "recipe.yaml", ins.data, export, auto_hpo=section)
    cmd = [sys.executable, _code_script(ins, "execute_hpo_wandb.py"), "--config", str(recipe)]
    return Plan(cmd + ["--hpo_config", str(sweep)], export, output_dir=work / "hpo")


def s_model_loss_random(ins: Inputs, work: Path) -> Plan:
    return _sweep(ins, work, "model_loss", THRESHOLDS, 8, seed=1)


def s_constrained(ins: Inputs, work: Path) -> Plan:
    return _sweep(ins, work, "quality_score", THRESHOLDS, 10, constraints=["retention >= 0.5"], seed=2)


def s_two_objectives(ins: Inputs, work: Path) -> Plan:
    objectives = {"quality_score": "maximize", "retention": "maximize"}
    return _sweep(ins, work, "quality_score", THRESHOLDS, 10, objectives=objectives, seed=3)


def s_rep_len(ins: Inputs, work: Path) -> Plan:
    parameters = {**THRESHOLDS, "character_repetition_filter.rep_len": {"values": [5, 10, 15]}}
    return _sweep(ins, work, "quality_score", parameters, 8, seed=4)


def s_downstream(ins: Inputs, work: Path) -> Plan:
    downstream = {"label_key": "meta.source", "eval": str(ins.evaluation)}
    return _sweep(ins, work, "downstream_task", THRESHOLDS, 6, downstream=downstream, seed=5)


def s_mixture(ins: Inputs, work: Path) -> Plan:
    """Three sources mixed into about half as many rows as the data has (some upsampled, some not)."""
    parameters = {
        **{f"dataset.configs[{i}].weight": {"distribution": "uniform", "min": 0.1, "max": 3.0} for i in range(3)},
        "text_length_filter.min_len": {"distribution": "int_uniform", "min": 0, "max": 400},
        "character_repetition_filter.max_ratio": {"distribution": "uniform", "min": 0.1, "max": 0.6},
    }
    sweep = _write_sweep(work, "model_loss", parameters, 6)
    export = work / "out.jsonl"
    rows = sum(1 for _ in open(ins.data, encoding="utf-8"))
    body = {
        "project_name": "same-outputs-mixture",
        "dataset": {
            "configs": [{"type": "local", "path": str(p), "weight": 1.0} for p in ins.sources],
            "max_sample_num": max(rows // 2, 3),
        },
        "export_path": str(export),
        "np": 2,
        "process": SIX_FILTERS,
        "auto_hpo": _sweep_section(work, sweep, seed=6),
    }
    recipe = work / "recipe.yaml"
    recipe.write_text(yaml.safe_dump(body, sort_keys=False))
    return Plan(_dj_process(recipe), export, output_dir=work / "hpo")


SCENARIOS = {
    s.name: s
    for s in (
        Scenario("3sigma-k3", "3sigma k=3 linear, six filters, refined recipe as YAML (dj-process)", s_3sigma_k3),
        Scenario(
            "3sigma-k2-log", "3sigma k=2 scale log, refined recipe as JSON (execute_hpo_3sigma.py)", s_3sigma_k2_log
        ),
        Scenario(
            "3sigma-mappers",
            "3sigma k=3, clean_email/whitespace mappers before and between words_num, word_repetition, ... filters",
            s_3sigma_mappers,
        ),
        Scenario("sweep-quality", "quality_score, random, 12 trials, seed 0", s_quality_random),
        Scenario("sweep-retention-grid", "retention, grid 3x2 (execute_hpo_wandb.py)", s_retention_grid),
        Scenario("sweep-model-loss", "model_loss, random, 8 trials, seed 1", s_model_loss_random),
        Scenario(
            "sweep-constrained", "quality_score, constraints [retention >= 0.5], 10 trials, seed 2", s_constrained
        ),
        Scenario(
            "sweep-two-objectives", "objectives quality_score + retention (Pareto), 10 trials, seed 3", s_two_objectives
        ),
        Scenario(
            "sweep-rep-len", "quality_score, thresholds and rep_len among [5, 10, 15], 8 trials, seed 4", s_rep_len
        ),
        Scenario(
            "sweep-downstream",
            "downstream_task on meta.source (eval: the next 600 documents), 6 trials, seed 5",
            s_downstream,
        ),
        Scenario(
            "sweep-mixture",
            "3 sources split by meta.source: weights + 2 thresholds, model_loss, 6 trials, seed 6",
            s_mixture,
        ),
    )
}


def subprocess_env(code: Path, work: Path) -> dict:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(code),  # replaces any inherited one: only DIR may supply data_juicer_hpo
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        DJ_HPO_BLOCK_RUNTIME_INSTALLS="1",
        WANDB_MODE="offline",
        WANDB_SILENT="true",
        HF_DATASETS_CACHE=str(work / "hf-datasets"),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


PROBE = """\
import importlib, importlib.metadata as md, data_juicer_hpo
print(data_juicer_hpo.__file__)
for ep in md.entry_points(group="data_juicer.ops"):
    if ep.name == "auto_hpo":
        print(importlib.import_module(ep.module).__file__)
"""


def check_code(code: Path, env: dict, cwd: Path) -> list:
    """Abort unless ``data_juicer_hpo`` and the entry-point module Data-Juicer loads both come from ``code``, in the
    interpreter ``dj-process`` runs (its shebang) with the scenarios' environment and working directory."""
    shebang = (BIN / "dj-process").read_text(encoding="utf-8", errors="replace").splitlines()[0]
    python = shebang[2:].strip() if shebang.startswith("#!") else sys.executable
    res = subprocess.run([python, "-c", PROBE], cwd=cwd, env=env, capture_output=True, text=True)
    paths = res.stdout.split()
    package = (code / "data_juicer_hpo").resolve()
    if res.returncode != 0 or len(paths) != 2 or any(package not in Path(p).resolve().parents for p in paths):
        raise SystemExit(
            f"error: --code {code}: the subprocesses would not use its data_juicer_hpo (import and entry point "
            f"resolve to {paths or '-'}; exit {res.returncode}){' ' + res.stderr[-1500:] if res.returncode else ''}"
        )
    return paths


def code_digest(code: Path) -> str:
    """A sha256 over the package's ``.py`` files (relative path and bytes): which code a result came from."""
    digest = hashlib.sha256()
    for path in sorted((code / "data_juicer_hpo").rglob("*.py")):
        digest.update(str(path.relative_to(code)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


class Normaliser:
    """Replace the run's absolute paths with placeholders, the longest first (a temp dir may hold the code dir)."""

    def __init__(self, work: Path, code: Path):
        pairs = {}
        for path, tag in ((work, "<WORK>"), (SHARED, "<SHARED>"), (code, "<CODE>")):
            for form in {str(path), str(Path(path).resolve()), os.path.realpath(path)}:
                pairs.setdefault(form, tag)
        self.pairs = sorted(pairs.items(), key=lambda kv: -len(kv[0]))

    def __call__(self, text: str) -> str:
        for path, tag in self.pairs:
            text = text.replace(path, tag)
        return text


def result_lines(log: str, normalise: Normaliser) -> list:
    """The package's log messages that state results, without time, level and module (see the module docstring)."""
    kept = []
    for raw in log.splitlines():
        match = LOG_LINE.match(raw.split("\r")[-1])
        if not match or not match.group(2).startswith("data_juicer_hpo"):
            continue
        message = match.group(3).rstrip()
        if (BOUND.match(message) and not message.startswith("auto_hpo")) or any(w in message for w in RESULT_WORDS):
            kept.append(normalise(message))
    return kept


def export_summary(path: Path) -> str:
    if not path.exists():
        return f"{path.name}: missing"
    with open(path, "rb") as f:
        lines = sorted(f.read().splitlines())
    digest = hashlib.sha256(b"\n".join(lines)).hexdigest()
    return f"{path.name}: {len(lines)} lines, sha256 of sorted lines {digest}"


def csv_without_timing(path: Path, normalise: Normaliser) -> str:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if not rows:
        return ""
    keep = [i for i, name in enumerate(rows[0]) if not TIMING_COLUMNS.match(name)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow([normalise(row[i]) if i < len(row) else "" for i in keep])
    return out.getvalue()


def output_files(output_dir: Path) -> str:
    """What the sweep wrote; W&B's offline runs have random ids and own log files, so they are counted instead."""
    names, runs = [], 0
    for path in sorted(output_dir.rglob("*")):
        rel = path.relative_to(output_dir)
        if rel.parts[0] == "wandb":
            runs += len(rel.parts) == 2 and rel.name.startswith("offline-run-")
            continue
        names.append(f"{rel}{'/' if path.is_dir() else ''}")
    return "\n".join(names + [f"wandb: {runs} offline runs"]) + "\n"


def collect(plan: Plan, code: int, log: str, dest: Path, normalise: Normaliser) -> None:
    """Write the scenario's normalised outputs into ``dest`` (see the module docstring for the list)."""
    dest.mkdir(parents=True)
    (dest / "exit_code.txt").write_text(f"{code}\n")
    (dest / "log.txt").write_text("".join(f"{line}\n" for line in result_lines(log, normalise)))
    stats = plan.export.with_name(f"{plan.export.stem}_stats{plan.export.suffix}")
    (dest / "export.txt").write_text(f"{export_summary(plan.export)}\n{export_summary(stats)}\n")
    if plan.refined is not None:
        if plan.refined.exists():
            (dest / plan.refined.name).write_text(normalise(plan.refined.read_text(encoding="utf-8")))
        else:
            (dest / f"{plan.refined.name}.missing").write_text("not written\n")
    if plan.output_dir is None:
        return
    if not plan.output_dir.exists():
        (dest / "output_dir.missing").write_text("not written\n")
        return
    (dest / "files.txt").write_text(output_files(plan.output_dir))
    for name in ("trials.csv", "pareto.csv"):
        if (plan.output_dir / name).exists():
            (dest / name).write_text(csv_without_timing(plan.output_dir / name, normalise))
    recipes = [plan.output_dir / "best_recipe.yaml", *sorted((plan.output_dir / "pareto").glob("*.yaml"))]
    for path in recipes:
        if path.exists():
            target = dest / path.relative_to(plan.output_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(normalise(path.read_text(encoding="utf-8")))


def _names(text: str) -> list:
    names = [name for name in text.split(",") if name]
    unknown = [name for name in names if name not in SCENARIOS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown scenario(s) {', '.join(unknown)} (valid: {', '.join(SCENARIOS)})")
    return names


def _run_settings(out: Path, settings: dict) -> dict:
    """The run's settings, merged with those of earlier ``--only`` runs into the same OUTDIR, which must match."""
    path = out / "run.json"
    if not path.exists():
        return settings
    earlier = json.loads(path.read_text())
    for key in ("code", "docs", "code_digest"):
        if earlier.get(key) != settings[key]:
            raise SystemExit(f"error: {out} holds a run with {key} {earlier.get(key)!r}, not {settings[key]!r}")
    return {**earlier, **settings, "scenarios": sorted(set(earlier.get("scenarios", [])) | set(settings["scenarios"]))}


def run(args) -> int:
    code, out = Path(args.code).resolve(), Path(args.out).resolve()
    names = args.only or list(SCENARIOS)
    work = Path(tempfile.mkdtemp(prefix="dj-hpo-same-outputs-"))
    failed = []
    try:
        env = subprocess_env(code, work)
        probed = check_code(code, env, work)
        settings = {"code": str(code), "code_digest": code_digest(code), "docs": args.docs, "scenarios": names}
        out.mkdir(parents=True, exist_ok=True)
        settings = _run_settings(out, settings)
        timing_path = out / "timing.json"
        timing = json.loads(timing_path.read_text()) if timing_path.exists() else {}
        print(f"code {code} (data_juicer_hpo from {probed[0]}), {args.docs} documents; work dir {work}", flush=True)
        ins = prepare_inputs(work, args.docs, code)
        normalise = Normaliser(work, code)
        (out / "_logs").mkdir(exist_ok=True)
        started = time.perf_counter()
        for name in names:
            scenario_work = work / name
            scenario_work.mkdir()
            plan = SCENARIOS[name].build(ins, scenario_work)
            log_path = out / "_logs" / f"{name}.log"
            start = time.perf_counter()
            with open(log_path, "w", encoding="utf-8") as log:  # a file, not a pipe: a full pipe would stall the run
                code_ = subprocess.run(
                    plan.cmd, cwd=scenario_work, env=env, stdout=log, stderr=subprocess.STDOUT
                ).returncode
            seconds = time.perf_counter() - start
            timing[name] = round(seconds, 1)
            shutil.rmtree(out / name, ignore_errors=True)
            text = log_path.read_text(encoding="utf-8", errors="replace")
            collect(plan, code_, text, out / name, normalise)
            print(f"  {name:<22} exit {code_}  {seconds:6.1f} s", flush=True)
            if code_ != 0:
                failed.append(name)
                sys.stderr.write(text[-3000:])
        total = time.perf_counter() - started
        timing["total_s (last run)"] = round(total, 1)
        timing_path.write_text(json.dumps(timing, indent=2) + "\n")
        (out / "run.json").write_text(json.dumps({**settings, "probed": probed}, indent=2) + "\n")
        print(f"{len(names)} scenario(s) in {total:.0f} s; outputs in {out}")
    finally:
        if args.keep:
            print(f"kept the work dir {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    if failed:
        print(f"non-zero exit: {', '.join(failed)} (kept as exit_code.txt; full output in {out / '_logs'})")
    return 1 if failed else 0


def _files(directory: Path) -> set:
    return {str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file()} if directory.is_dir() else set()


def _text(path: Path) -> list:
    return path.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True) if path.exists() else []


def compare(args) -> int:
    a, b = Path(args.out_a), Path(args.out_b)
    differ = 0
    settings = [json.loads((d / "run.json").read_text()) if (d / "run.json").exists() else {} for d in (a, b)]
    if settings[0].get("docs") != settings[1].get("docs"):
        print(f"docs differ: {settings[0].get('docs')} vs {settings[1].get('docs')} (other inputs: not comparable)")
        differ += 1
    found = {p.name for d in (a, b) for p in d.iterdir() if p.is_dir() and not p.name.startswith("_")}
    names = args.only or [n for n in SCENARIOS if n in found] + sorted(found - set(SCENARIOS))
    for name in names:
        files = sorted(_files(a / name) | _files(b / name))
        print(f"{name}:")
        if not files:
            print("  MISSING in both")
            differ += 1
        for rel in files:
            left, right = a / name / rel, b / name / rel
            if not left.exists() or not right.exists():
                print(f"  {rel}: MISSING in {a if not left.exists() else b}")
                differ += 1
                continue
            lines = [_text(left), _text(right)]
            if lines[0] == lines[1]:
                print(f"  {rel}: IDENTICAL")
                continue
            differ += 1
            print(f"  {rel}: DIFFERS")
            sys.stdout.writelines(
                "    " + line if line.endswith("\n") else "    " + line + "\n"
                for line in difflib.unified_diff(*lines, fromfile=str(left), tofile=str(right))
            )
    print(f"{'IDENTICAL' if not differ else f'{differ} difference(s)'}: {a} vs {b}")
    return 1 if differ else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    commands = parser.add_subparsers(dest="command")
    run_parser = commands.add_parser("run", help="run the scenarios with one copy of the package")
    run_parser.add_argument("--code", required=True, help="directory holding the data_juicer_hpo package to run")
    run_parser.add_argument("--out", required=True, help="where the normalised outputs go")
    run_parser.add_argument("--docs", type=int, default=3000, help="the first N documents of the bench corpus")
    run_parser.add_argument("--only", type=_names, default=None, help="comma-separated scenario names")
    run_parser.add_argument("--keep", action="store_true", help="keep the temp work dir (raw outputs)")
    compare_parser = commands.add_parser("compare", help="compare two OUTDIRs; exit 1 when anything differs")
    compare_parser.add_argument("out_a")
    compare_parser.add_argument("out_b")
    compare_parser.add_argument("--only", type=_names, default=None, help="comma-separated scenario names")
    args = parser.parse_args(argv)
    if args.list:
        for scenario in SCENARIOS.values():
            print(f"{scenario.name:<22} {scenario.summary}")
        return 0
    if args.command is None:
        parser.error("a command is required: run, compare (or --list)")
    return run(args) if args.command == "run" else compare(args)


if __name__ == "__main__":
    sys.exit(main())
