"""The labels objective on the bench corpus: does a sweep on 300 labels choose a recipe that separates good from bad
documents it never saw, and what does a 200-trial labels sweep cost against one plain run?

    python bench/bench_labels.py [--labels 300] [--trials 200] [--method bayes] [--repeats 3] [--quality-only]
                                 [--timing-only] [--limit N]

**The labelling rule** (about document quality, and one the six filters can plausibly act on; not the e-mail/SMS
and web-page mix issue 17 measured on, which stays held out): *keep edited, self-contained prose* -- newswire
articles (``reuters21578``) and Q&A posts (``stackexchange_dump``) --, *drop fragments, chatter and formatting* --
tweets (``tweeteval``, ``xlm_t_tweets``), quips and ASCII art (``fortunes``), dictionary stubs (``dict_gcide``,
``dict_foldoc``) and man-page option tables (``manpages``). Every document of those sources forms the *pool*
(19,147 documents, 8,497 good); the other sources are not used.

**Quality** (``--quality-only``): ``python -m data_juicer_hpo.label --n 300`` draws the documents to label from the
pool (seeded), the rule labels them, a ``labels`` sweep (``--trials``, ``--method``, youden) runs on the pool and
exports its chosen recipe's output, and a plain run exports the recipe as written (the six-filter recipe of
``_common.py``). On the pool's *unlabelled* documents: good kept, bad kept and J = good kept - bad kept for both,
with 95 % bootstrap intervals (2,000 resamples of the unlabelled documents; the difference paired), beside what the
sweep's ``summary.json`` estimated from the labels alone (bootstrap and cross-validated).

**Timing** (``--timing-only``): the same labels sweep (the 300 labels, ``--trials`` trials) on the whole bench
corpus against one plain run of the six-filter recipe, interleaved, ``--repeats`` times, medians. Target: sweep /
plain <= 1.2. Trials are recorded as W&B offline runs unless ``WANDB_MODE=disabled`` is set; the script runs both
(``sweep`` and ``sweep-nowandb``).
"""

import argparse
import gzip
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    BENCH_ENV,
    BIN,
    SHARED,
    corpus,
    interleave,
    save,
    summarize,
    sweep_recipe,
    write_recipe,
)

GOOD = ("reuters21578", "stackexchange_dump")
BAD = ("tweeteval", "xlm_t_tweets", "fortunes", "dict_gcide", "dict_foldoc", "manpages")
SPACE = {
    "text_length_filter.min_len": {"distribution": "q_log_uniform_values", "min": 1, "max": 3000, "q": 1},
    "text_length_filter.max_len": {"distribution": "q_log_uniform_values", "min": 1000, "max": 200000, "q": 1},
    "average_line_length_filter.min_len": {"distribution": "q_log_uniform_values", "min": 1, "max": 200, "q": 1},
    "average_line_length_filter.max_len": {"distribution": "q_log_uniform_values", "min": 50, "max": 10000, "q": 1},
    "maximum_line_length_filter.min_len": {"distribution": "q_log_uniform_values", "min": 1, "max": 1000, "q": 1},
    "maximum_line_length_filter.max_len": {"distribution": "q_log_uniform_values", "min": 100, "max": 100000, "q": 1},
    "alphanumeric_filter.min_ratio": {"distribution": "uniform", "min": 0.25, "max": 0.9},
    "character_repetition_filter.max_ratio": {"distribution": "uniform", "min": 0.05, "max": 0.6},
    "special_characters_filter.max_ratio": {"distribution": "uniform", "min": 0.05, "max": 0.5},
}
RESAMPLES = 2000


def build_pool(work: Path, limit=None) -> Path:
    """The pool: every bench document of the GOOD and BAD sources, with ``doc_id`` (its position) and ``good``."""
    path = work / "pool.jsonl"
    with gzip.open(SHARED / "bench-corpus.jsonl.gz", "rt", encoding="utf-8") as f, open(path, "w") as out:
        n = 0
        for line in f:
            row = json.loads(line)
            source = row["meta"]["source"]
            if source not in GOOD + BAD:
                continue
            row["doc_id"], row["good"] = n, source in GOOD
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
            if limit is not None and n >= limit:
                break
    return path


def _read(path: Path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _run(cmd, cwd: Path, env=None):
    res = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env={**BENCH_ENV, **(env or {}), "PATH": f"{BIN}:/usr/bin:/bin"},
        capture_output=True, text=True,
    )
    if res.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed:\n{res.stderr[-3000:]}")
    return res


def sweep_files(work: Path, data: Path, labels: Path, export: Path, trials: int, method: str, name: str):
    sweep = {"method": method, "run_cap": trials, "metric": {"name": "labels", "goal": "maximize"}, "parameters": SPACE}
    labels_key = {"path": str(labels), "label_key": "keep", "metric": "youden"}
    return sweep_recipe(work, name, data, export, sweep, labels=labels_key)


def make_labels(work: Path, pool: Path, n: int) -> Path:
    """Draw ``n`` documents with the label command and label them by the rule."""
    recipe = sweep_files(work, pool, work / "labels.jsonl", work / "draw" / "out.jsonl", 2, "random", "draw")
    _run([BIN / "python", "-m", "data_juicer_hpo.label", "--config", recipe, "--n", n, "--out", work / "draw"], work)
    drawn = _read(work / "draw" / "to_label.jsonl")
    labels = work / "labels.jsonl"
    with open(labels, "w", encoding="utf-8") as out:
        for row in drawn:
            row["keep"] = row["meta"]["source"] in GOOD  # the rule, applied by "the person labelling"
            row.pop("label_meta")
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return labels


def _rates(good: np.ndarray, kept: np.ndarray, weights=None):
    """good kept, bad kept and J (per resample row when ``weights`` is given)."""
    if weights is None:
        return kept[good].mean(), kept[~good].mean(), kept[good].mean() - kept[~good].mean()
    g = weights @ (good & kept) / (weights @ good)
    b = weights @ (~good & kept) / (weights @ ~good)
    return g, b, g - b


def _interval(values):
    return [float(v) for v in np.percentile(values, [2.5, 97.5])]


def quality(work: Path, args) -> dict:
    pool = build_pool(work, args.limit)
    rows = _read(pool)
    labels = make_labels(work, pool, args.labels)
    labelled = {r["doc_id"] for r in _read(labels)}
    n_keep = sum(1 for r in _read(labels) if r["keep"])
    good_docs = sum(r["good"] for r in rows)
    print(f"pool: {len(rows)} documents ({good_docs} good); {len(labelled)} labelled ({n_keep} keep)")
    chosen_export, written_export = work / "chosen" / "out.jsonl", work / "written" / "out.jsonl"
    recipe = sweep_files(work, pool, labels, chosen_export, args.trials, args.method, "chosen")
    res = _run([BIN / "dj-process", "--config", recipe], work, {"WANDB_MODE": "disabled"})
    said = [line.split(" - ", 1)[-1] for line in res.stderr.splitlines() if "auto_hpo[sweep]: labels" in line]
    plain = write_recipe(work / "written.yaml", pool, written_export)
    _run([BIN / "dj-process", "--config", plain], work)
    rest = np.array([r["doc_id"] not in labelled for r in rows])
    good = np.array([r["good"] for r in rows])[rest]
    decisions = {}
    for name, export in (("chosen", chosen_export), ("as_written", written_export)):
        kept_ids = {r["doc_id"] for r in _read(export)}
        decisions[name] = np.array([r["doc_id"] in kept_ids for r in rows])[rest]
    weights = np.random.default_rng(0).multinomial(len(good), np.full(len(good), 1 / len(good)), size=RESAMPLES)
    out = {"pool": len(rows), "labels": len(labelled), "labels_keep": n_keep, "unlabelled": int(rest.sum())}
    resampled = {}
    for name, kept in decisions.items():
        g, b, j = _rates(good, kept)
        rg, rb, rj = _rates(good, kept, weights)
        resampled[name] = rj
        out[name] = {
            "good_kept": float(g), "bad_kept": float(b), "J": float(j),
            "good_kept_interval95": _interval(rg), "bad_kept_interval95": _interval(rb), "J_interval95": _interval(rj),
        }
    difference = resampled["chosen"] - resampled["as_written"]
    out["J_difference"] = {"value": out["chosen"]["J"] - out["as_written"]["J"], "interval95": _interval(difference)}
    summary = json.loads((chosen_export.parent / "hpo" / "summary.json").read_text())
    out["sweep_summary"] = {
        "chosen_on_labels": summary["labels"]["chosen"],
        "as_written_on_labels": summary["labels"]["as_written"],
        "cross_validated": summary["labels"]["cross_validated"]["pooled"]["labels"],
        "chosen_params": summary["chosen"]["params"],
    }
    out["sweep_log"] = said
    print("\n".join(said))
    for name in decisions:
        o = out[name]
        print(
            f"{name:>10} on {out['unlabelled']} unlabelled documents: good kept {o['good_kept']:.1%}, bad kept "
            f"{o['bad_kept']:.1%}, J = {o['J']:.3f} [{o['J_interval95'][0]:.3f}, {o['J_interval95'][1]:.3f}]"
        )
    d = out["J_difference"]
    print(f"J chosen - as written: {d['value']:.3f} [{d['interval95'][0]:.3f}, {d['interval95'][1]:.3f}]")
    s = out["sweep_summary"]
    print(
        f"the sweep's own estimate from the labels: youden {s['chosen_on_labels']['value']:.3f} "
        f"{s['chosen_on_labels']['interval95']}, cross-validated {s['cross_validated']:.3f}"
    )
    return out


def timing(work: Path, args, labels: Path) -> dict:
    data = corpus(work, limit=args.limit)
    variants, exports = {}, {}
    for name in ("plain", "sweep", "sweep-nowandb"):
        exports[name] = work / f"t-{name}" / "out.jsonl"
    plain = write_recipe(work / "t-plain.yaml", data, exports["plain"])
    variants["plain"] = [str(BIN / "dj-process"), "--config", str(plain)]
    recipe = sweep_files(work, data, labels, exports["sweep"], args.trials, args.method, "t-sweep")
    variants["sweep"] = [str(BIN / "dj-process"), "--config", str(recipe)]
    recipe = sweep_files(work, data, labels, exports["sweep-nowandb"], args.trials, args.method, "t-sweep-nowandb")
    variants["sweep-nowandb"] = ([str(BIN / "dj-process"), "--config", str(recipe)], {"WANDB_MODE": "disabled"})

    def clean(name):  # a fresh sweep each time (no resume), and no stale export
        shutil.rmtree(exports[name].parent, ignore_errors=True)

    print(f"bench corpus: {sum(1 for _ in open(data))} documents; {args.trials}-trial {args.method} labels sweeps")
    result = summarize(interleave(variants, args.repeats, work, prepare=clean))
    for name in ("sweep", "sweep-nowandb"):
        result[f"ratio_{name}_to_plain"] = result[name]["median_s"] / result["plain"]["median_s"]
        print(f"{name}/plain: {result[f'ratio_{name}_to_plain']:.2f} (target <= 1.2)")
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, default=300)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--method", default="bayes", choices=("bayes", "random"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None, help="the first N documents only (a smoke run)")
    parser.add_argument("--quality-only", action="store_true")
    parser.add_argument("--timing-only", action="store_true")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="dj-hpo-bench-labels-"))
    try:
        result = {"trials": args.trials, "method": args.method}
        if not args.timing_only:
            result["quality"] = quality(work, args)
        labels = work / "labels.jsonl"
        if not labels.exists():
            labels = make_labels(work, build_pool(work, args.limit), args.labels)
        if not args.quality_only:
            result["timing"] = timing(work, args, labels)
        print(f"saved {save('labels', result)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
