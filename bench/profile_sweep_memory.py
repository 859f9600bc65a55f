"""Where a sweep's memory goes: RSS (summed over this process and its children) per stage of one in-process
``dj-process`` sweep, and the size of what the trial evaluator holds once the trials are done.

    python bench/profile_sweep_memory.py [--objective quality_score] [--scale 1] [--trials 30] [--rep-len]

Stages are the calls they are named after (loading, statistics, the population's texts, the objective's setup,
the trials, processing the best recipe); for each: RSS when it starts, its peak and RSS when it ends. Holdings are
measured object by object (numpy ``nbytes``, Python containers walked with ``sys.getsizeof``); Arrow datasets are
reported apart (memory-mapped cache files cost page cache, not this process's heap).
"""

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BENCH_ENV, SHARED, corpus, save, tree_rss, write_recipe  # noqa: E402
from bench_sweep import REP_LEN, THRESHOLDS  # noqa: E402

MIB = 2**20


class Sampler:
    """RSS of this process tree every 20 ms, attributed to the innermost stage running."""

    def __init__(self):
        self.me = psutil.Process()
        self.stack, self.stages, self.done = [], [], False
        self.peak = 0.0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def rss(self) -> float:
        return tree_rss(self.me) / MIB

    def _run(self):
        while not self.done:
            now = self.rss()
            self.peak = max(self.peak, now)
            for stage in self.stack:
                stage["peak_mib"] = max(stage["peak_mib"], now)
            time.sleep(0.02)

    @contextlib.contextmanager
    def stage(self, name):
        record = {"stage": name, "depth": len(self.stack), "start_mib": self.rss(), "t0": time.perf_counter()}
        record["peak_mib"] = record["start_mib"]
        self.stages.append(record)
        self.stack.append(record)
        try:
            yield
        finally:
            self.stack.remove(record)
            record["end_mib"] = self.rss()
            record["seconds"] = time.perf_counter() - record.pop("t0")
            print(f"STAGE {_line(record)}", file=sys.stderr, flush=True)  # as it ends: a cut-short run keeps it


def _line(s: dict) -> str:
    return (
        f"{'  ' * s['depth']}{s['stage']:<52} {s['seconds']:6.1f} s  rss {s['start_mib']:6.0f} -> "
        f"{s['end_mib']:6.0f} MiB, peak {s['peak_mib']:6.0f} MiB"
    )


def deep_size(obj, seen=None) -> int:
    """Bytes held by ``obj``: numpy arrays by ``nbytes``, containers walked; datasets are not followed."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        return obj.nbytes + sys.getsizeof(np.empty(0))
    size = sys.getsizeof(obj)
    if isinstance(obj, dict):
        return size + sum(deep_size(k, seen) + deep_size(v, seen) for k, v in obj.items())
    if isinstance(obj, (list, tuple, set, frozenset)):
        return size + sum(deep_size(v, seen) for v in obj)
    if type(obj).__module__.startswith(("datasets.", "data_juicer.", "pyarrow", "ray.")):
        return 0  # Arrow-backed: reported by arrow_size
    if hasattr(obj, "__dict__"):
        return size + deep_size(vars(obj), seen)
    if hasattr(obj, "__dataclass_fields__"):
        return size + sum(deep_size(getattr(obj, f), seen) for f in obj.__dataclass_fields__)
    return size


def arrow_size(dataset) -> dict:
    table = getattr(dataset, "data", None)
    return {
        "arrow_mib": round(getattr(table, "nbytes", 0) / MIB, 1),
        "memory_mapped": bool(getattr(dataset, "cache_files", None)),
    }


def holdings(evaluator) -> dict:
    """What the trial evaluator holds after the trials, in MiB per component."""
    out = {}
    bundles = list(evaluator.bundles.bundles.values())
    populations = {id(b.population): b.population for b in bundles if b.population is not None}
    measured = {
        "statistics rows (dict per document, per bundle)": [b.rows for b in bundles],
        "statistics values (per filter and argument set)": evaluator.bundles.stats,
        "numeric columns + sort orders": evaluator.masks.columns,
        "keep masks": evaluator.masks.masks,
        "population texts": [p.texts for p in populations.values()],
        "population cache (token streams)": [p.cache for p in populations.values()],
        "objective state": vars(evaluator.objective),
    }
    for name, obj in measured.items():
        out[name] = round(deep_size(obj) / MIB, 1)
    out["datasets held (Arrow)"] = [
        {"what": repr(key)[:80], **arrow_size(ds)}
        for key, ds in evaluator.bundles.mapped.items()
        if hasattr(ds, "data")
    ] + [{"what": f"bundle {i}", **arrow_size(b.dataset)} for i, b in enumerate(bundles) if b.dataset is not None]
    return out


def _subclasses(cls) -> list:
    found = []
    for sub in cls.__subclasses__():
        found += [sub] + _subclasses(sub)
    return found


def instrument(sampler: Sampler, found: dict):
    """Wrap the calls that make up a sweep's stages."""
    from data_juicer_hpo.data import local
    from data_juicer_hpo.modes.wandb import mode as sweep_mode
    from data_juicer_hpo.modes.wandb.trials import bundles
    from data_juicer_hpo.objectives import base

    def wrap(owner, attr, name, after=None):
        original = getattr(owner, attr)

        def wrapper(*args, **kwargs):
            with sampler.stage(name):
                out = original(*args, **kwargs)
            if after:
                after(*args)
            return out

        setattr(owner, attr, wrapper)

    wrap(local.LocalData, "load", "load the dataset")
    wrap(local.LocalData, "compute", "statistics pass")
    wrap(local.LocalData, "texts", "read the texts")
    wrap(bundles.Bundles, "build", "build a bundle (statistics, texts, population)")
    # the mode calls run_trials by the name it imported: wrapped there
    wrap(sweep_mode, "run_trials", "trials (incl. objective setup)", after=lambda *a: found.update(ev=a[2]))
    for cls in _subclasses(base.Objective):  # every objective class (the registry keeps its table private)
        if "setup" in cls.__dict__ and getattr(cls, "name", ""):
            wrap(cls, "setup", f"objective setup ({cls.name})")
    wrap(sweep_mode, "_process_best", "process the best recipe")

    original_run_trials = sweep_mode.run_trials

    def run_trials(name, sweep, evaluator, *rest, **options):
        out = original_run_trials(name, sweep, evaluator, *rest, **options)
        found["holdings"] = holdings(evaluator)
        found["rss_after_trials_mib"] = sampler.rss()
        print(f"HOLDINGS {json.dumps(found['holdings'])}", file=sys.stderr, flush=True)
        return out

    sweep_mode.run_trials = run_trials


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objective", default="quality_score")
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--rep-len", action="store_true", help="also move rep_len among 3 values")
    args = parser.parse_args(argv)
    os.environ.update(BENCH_ENV)
    import yaml

    work = Path(tempfile.mkdtemp(prefix="dj-hpo-profile-"))
    try:
        data = corpus(work, args.scale)
        sweep = {
            "method": "random",
            "run_cap": args.trials,
            "metric": {"name": args.objective, "goal": "minimize" if args.objective == "model_loss" else "maximize"},
            "parameters": {**THRESHOLDS, **(REP_LEN if args.rep_len else {})},
        }
        (work / "sweep.yaml").write_text(yaml.safe_dump(sweep, sort_keys=False))
        auto_hpo = {
            "mode": "wandb",
            "backend": "local",
            "hpo_config": str(work / "sweep.yaml"),
            "reference": str(SHARED / "reference-clean.jsonl.gz"),
            "output_dir": str(work / "hpo"),
        }
        recipe = write_recipe(work / "recipe.yaml", data, work / "out" / "out.jsonl", auto_hpo=auto_hpo)
        sampler = Sampler()
        sampler.thread.start()
        base_rss = sampler.rss()
        from data_juicer.tools import process_data

        import data_juicer_hpo.objectives  # noqa: F401  (the registry, so that setups can be wrapped)

        found = {}
        instrument(sampler, found)
        sys.argv = ["dj-process", "--config", str(recipe)]
        os.chdir(work)
        with sampler.stage("dj-process (whole run)"):
            process_data.main()
        sampler.done = True
        n_docs = sum(1 for _ in open(data))
        result = {
            "documents": n_docs,
            "objective": args.objective,
            "rep_len": args.rep_len,
            "rss_before_mib": round(base_rss, 1),
            "peak_mib": round(sampler.peak, 1),
            "stages": [{k: (round(v, 1) if isinstance(v, float) else v) for k, v in s.items()} for s in sampler.stages],
            **found,
        }
        result.pop("ev", None)
        for s in result["stages"]:
            print(_line(s))
        print(f"peak {sampler.peak:.0f} MiB for {n_docs} documents; held by the trial evaluator after the trials:")
        for name, value in found.get("holdings", {}).items():
            print(f"  {name}: {json.dumps(value)}")
        tag = f"{args.objective}{'-rep_len' if args.rep_len else ''}-x{args.scale}"
        print(f"saved {save(f'memory-{tag}', result)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
