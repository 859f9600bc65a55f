"""The quality_score classifier: how long its fit takes and how well it separates held-out text, this code against
another copy of the package (before/after), interleaved.

    python bench/bench_quality_fit.py --base-code DIR [--repeats 3] [--docs N]

``DIR`` holds another ``data_juicer_hpo`` package (e.g. ``git archive main data_juicer_hpo | tar -x -C DIR``). Each run
is a fresh process (``PYTHONPATH`` selects the package) on the bench corpus and the reference set (``../shared/data``):
20 % of each are held out (fixed seed); the classifier is trained on the rest as ``quality_score``'s setup trains it,
the corpus's documents read, as in a sweep, from an Arrow table memory-mapped from the datasets library's cache
(``train_quality_classifier``: the sampled documents' features and the two folds' fits), timed (wall, and CPU of
this process and its children); a code that draws the negatives by keyed hash (``population_keys``, every text
hashed) has that draw timed apart ("draw") and reported with the fit too; then
every held-out document is scored and the AUC of held-out reference against held-out corpus documents is computed
here (ranks, ties halved: no code of the package). Reported: medians of the fit time per code, their ratio, the
held-out AUC, and how far the two codes' probabilities of the held-out documents are apart.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BIN, SHARED, corpus, save  # noqa: E402

RUN = r"""
import gzip, json, os, resource, sys, time
import numpy as np
from data_juicer_hpo.objectives.base import Population
from data_juicer_hpo.objectives.quality_score import population_probabilities, train_quality_classifier

data, reference, out = sys.argv[1:4]
texts = [json.loads(line)["text"] for line in open(data, encoding="utf-8")]
with gzip.open(reference, "rt", encoding="utf-8") as f:
    good = [json.loads(line)["text"] for line in f]
rng = np.random.default_rng(2024)
held_texts, held_good = rng.random(len(texts)) < 0.2, rng.random(len(good)) < 0.2
# the training documents as a sweep's setup reads them: a memory-mapped Arrow table's text column (ArrowTexts, in
# both codes), the table loaded from a JSON Lines file by the datasets library into its cache (before the clock)
train_file = os.path.join(os.path.dirname(out), "train.jsonl")
if not os.path.exists(train_file):
    with open(train_file + ".part", "w", encoding="utf-8") as f:
        f.writelines(json.dumps({"text": t}) + "\n" for t, h in zip(texts, held_texts) if not h)
    os.replace(train_file + ".part", train_file)
import datasets
from data_juicer_hpo.data.texts import ArrowTexts
table = datasets.load_dataset("json", data_files=train_file, split="train",
                              cache_dir=os.path.join(os.path.dirname(out), "hf-cache"))
train = Population(ArrowTexts(table, "text"))
def cpu_s():  # this process's CPU and that of its children waited for (a fold fitted in a forked worker)
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system
reference = [t for t, h in zip(good, held_good) if not h]
import data_juicer_hpo.objectives.quality_score as qs
draw_wall, draw_in_fit = 0.0, False
if hasattr(qs, "train_on_keyed_sample"):  # the keyed draw runs beside the fit's first tokenizing: timed with it
    fit, draw_in_fit = (lambda: qs.train_on_keyed_sample(reference, train, 0)[0]), True
elif hasattr(qs, "population_keys"):  # negatives drawn by keyed hash, as the setup draws them (timed apart)
    wall = time.perf_counter()
    keys = qs.population_keys(train.texts, 0)
    negatives = qs.smallest_keyed(keys, min(len(reference), len(train)))
    draw_wall = time.perf_counter() - wall
    fit = lambda: train_quality_classifier(reference, train, 0, negatives, keys[negatives])
else:
    fit = lambda: train_quality_classifier(reference, train)
cpu, wall = cpu_s(), time.perf_counter()
classifier = fit()
fit_wall, fit_cpu = time.perf_counter() - wall, cpu_s() - cpu
held = [t for t, h in zip(good, held_good) if h] + [t for t, h in zip(texts, held_texts) if h]
# a held-out document is recognised as a negative (or not) by its key where the negatives were drawn by key; by
# index otherwise (the previous code: a held-out index that equals a negative's is scored by one model)
held_keys = qs.population_keys(held, 0) if hasattr(qs, "population_keys") else None
p = population_probabilities(classifier, Population(held), keys=held_keys) if held_keys is not None else (
    population_probabilities(classifier, Population(held)))
np.save(out, p)
labels = np.r_[np.ones(int(held_good.sum())), np.zeros(int(held_texts.sum()))]
_, inverse, counts = np.unique(p, return_inverse=True, return_counts=True)
ranks = (np.cumsum(counts) - (counts - 1) / 2.0)[inverse.reshape(-1)]  # 1-based; tied values share their mean rank
n_pos, n_neg = labels.sum(), (1 - labels).sum()
auc = (ranks[labels == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
code = __import__("data_juicer_hpo").__file__
print(json.dumps({"code": code, "fit_s": fit_wall, "fit_cpu_s": fit_cpu, "held_out_auc": auc, "draw_s": draw_wall,
                  "draw_in_fit": draw_in_fit,
                  "held_out_mean": float(p.mean()), "logged_auc": getattr(classifier, "auc", None)}))
"""


def _run(code: Path, data: Path, out: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(code), PYTHONDONTWRITEBYTECODE="1")
    done = subprocess.run(
        [str(BIN / "python"), "-c", RUN, str(data), str(SHARED / "reference-clean.jsonl.gz"), str(out)],
        cwd=out.parent,  # `python -c` puts the working directory first on sys.path: not a checkout
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"{code}: exit {done.returncode}\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-code", required=True, help="a directory holding the other data_juicer_hpo package")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--docs", type=int, default=None, help="only the first N documents of the corpus")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="dj-hpo-bench-fit-"))
    codes = {"base": Path(args.base_code).resolve(), "this": Path(__file__).resolve().parents[1]}
    try:
        data = corpus(work, 1, limit=args.docs)
        runs = {name: [] for name in codes}
        for r in range(args.repeats):
            for name, code in codes.items():  # interleaved: base, this, base, this, ...
                run = _run(code, data, work / f"{name}.npy")
                if not run["code"].startswith(str(code)):
                    raise SystemExit(f"{name}: data_juicer_hpo was imported from {run['code']}, not from {code}")
                runs[name].append(run)
                print(
                    f"  run {r + 1}/{args.repeats} {name:>4}: fit {run['fit_s']:6.2f} s (cpu {run['fit_cpu_s']:6.2f} s)"
                    f"  draw {run['draw_s']:5.2f} s"
                    f"  held-out AUC {run['held_out_auc']:.6f}  mean P {run['held_out_mean']:.6f}",
                    flush=True,
                )
        result = {
            name: {key: statistics.median(run[key] for run in runs[name]) for key in ("fit_s", "fit_cpu_s", "draw_s")}
            for name in codes
        }
        for name in codes:
            result[name].update(runs=runs[name], held_out_auc=runs[name][-1]["held_out_auc"])
        base, this = (np.load(work / f"{name}.npy") for name in codes)
        result["max_abs_probability_difference"] = float(abs(base - this).max())
        result["fit_speedup"] = result["base"]["fit_s"] / result["this"]["fit_s"]
        result["fit_cpu_speedup"] = result["base"]["fit_cpu_s"] / result["this"]["fit_cpu_s"]
        with_draw = {name: statistics.median(r["fit_s"] + r["draw_s"] for r in runs[name]) for name in codes}
        result["fit_and_draw_speedup"] = with_draw["base"] / with_draw["this"]
        if runs["this"][-1].get("draw_in_fit"):
            draw_line = "this code's fit includes its negatives' keyed draw (hashes of every text)"
        else:
            draw_line = (
                f"with the negatives' draw (this code: keyed hashes of every text, {result['this']['draw_s']:.2f} s): "
                f"{result['fit_and_draw_speedup']:.2f}x faster"
            )
        print(
            f"fit: base {result['base']['fit_s']:.2f} s, this {result['this']['fit_s']:.2f} s (medians): "
            f"{result['fit_speedup']:.2f}x faster (cpu {result['fit_cpu_speedup']:.2f}x; target >= 3)\n{draw_line}\n"
            f"held-out AUC: base {result['base']['held_out_auc']:.6f}, this {result['this']['held_out_auc']:.6f}; "
            f"probabilities of the held-out documents differ by at most {result['max_abs_probability_difference']:.3g}"
        )
        print(f"saved {save('quality-fit', result)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
