"""The trial keep-mask engine at corpus scale, without text: synthetic statistic columns of N documents.

    python bench/simulate_trials.py [--docs 1000000,10000000] [--trials 30] [--blocks 16] [--workers 2]

Two designs, each timed and measured (peak RSS, sampled every 20 ms):

* ``driver``: today's engine -- one process holds every statistic column (the six filters of the bench recipe) and
  a per-document objective quantity (a probability, like ``quality_score``'s), and evaluates each trial with the
  real :class:`data_juicer_hpo.modes.wandb.trials.evaluator.TrialEvaluator`
  (numpy interval masks checked against the filters themselves).
* ``blocks``: the per-block design of ``docs/scale.md`` -- ``--workers`` processes each own some of ``--blocks``
  blocks (their columns are made there and never leave), evaluate every trial on their blocks with the same engine
  and send back partial aggregates (kept count, sum of probabilities); the driver only adds them up.

Both must give the same metric for every trial (checked). Columns are drawn from distributions shaped like the bench
corpus's statistics; only sizes and speeds matter here.
"""

import argparse
import multiprocessing as mp
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import SIX_FILTERS, save  # noqa: E402

MIB = 2**20
THRESHOLDS = {  # (position, arg, low, high) of each tuned threshold, as in bench_sweep.py
    "text_length_filter.min_len": (0, "min_len", 0, 200),
    "text_length_filter.max_len": (0, "max_len", 5000, 100000),
    "average_line_length_filter.max_len": (1, "max_len", 500, 10000),
    "maximum_line_length_filter.max_len": (2, "max_len", 1000, 100000),
    "alphanumeric_filter.min_ratio": (3, "min_ratio", 0.3, 0.8),
    "character_repetition_filter.max_ratio": (4, "max_ratio", 0.1, 0.6),
    "special_characters_filter.max_ratio": (5, "max_ratio", 0.1, 0.5),
}


def block_columns(block: int, size: int):
    """One block's statistic columns (filter position -> stat -> column) and probabilities, seeded by its index."""
    rng = np.random.default_rng(1000 + block)
    text_len = np.minimum(rng.lognormal(7.3, 1.2, size), 2e6).astype(np.int32)
    statistics = {
        0: {"text_len": text_len},
        1: {"avg_line_length": rng.lognormal(4.5, 1.0, size)},
        2: {"max_line_length": np.minimum(rng.lognormal(6.0, 1.3, size), 2e6).astype(np.int32)},
        3: {"alnum_ratio": rng.beta(8, 3, size)},
        4: {"char_rep_ratio": rng.beta(2, 12, size)},
        5: {"special_char_ratio": rng.beta(2, 10, size)},
    }
    return statistics, rng.beta(1, 8, size)


def trial_params(number: int) -> dict:
    rng = np.random.default_rng(number)
    out = {}
    for name, (_, arg, low, high) in THRESHOLDS.items():
        out[name] = int(rng.integers(low, high + 1)) if isinstance(low, int) else float(rng.uniform(low, high))
    return out


def _targets():
    from data_juicer_hpo.ops.addressing import Target

    return {name: Target(name, position, arg) for name, (position, arg, _, _) in THRESHOLDS.items()}


class _Sum:
    """A stand-in objective: the partial aggregates of a mean probability (kept count, probability sum)."""

    def __init__(self, probabilities):
        self.probabilities = probabilities

    def score(self, population, kept):
        return len(kept), float(self.probabilities[kept].sum())


class _Population:
    def __init__(self, n):
        self.n, self.cache = n, {}

    def __len__(self):
        return self.n


def _evaluator(statistics, probabilities):
    from data_juicer.ops import load_ops

    from data_juicer_hpo.modes.wandb.trials import Bundles, TrialEvaluator

    objective = _Sum(probabilities)
    population = _Population(len(probabilities))
    bundles = Bundles.of_columns(SIX_FILTERS, statistics, _targets(), population, load_ops)
    return TrialEvaluator(bundles, _targets(), objective)


def _aggregates(evaluator, params):
    bundle = evaluator.bundle(params)
    return evaluator.objective.score(bundle.population, evaluator.kept_indices(bundle, params))


class PeakRss(threading.Thread):
    def __init__(self, pids=None):
        super().__init__(daemon=True)
        self.peak, self.done, self.pids = 0.0, False, pids

    def run(self):
        me = psutil.Process()
        while not self.done:
            total = 0
            for pid in [me.pid] if self.pids is None else self.pids():
                try:
                    total += psutil.Process(pid).memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total / MIB)
            time.sleep(0.02)


def run_driver(n_docs: int, blocks: int, trials: int):
    """Today's design: every column in this process."""
    sizes = np.diff(np.linspace(0, n_docs, blocks + 1).astype(np.int64))
    monitor = PeakRss()
    monitor.start()
    base = psutil.Process().memory_info().rss / MIB
    t0 = time.perf_counter()
    parts = [block_columns(b, int(size)) for b, size in enumerate(sizes)]
    statistics = {p: {s: np.concatenate([part[0][p][s] for part in parts]) for s in parts[0][0][p]} for p in range(6)}
    probabilities = np.concatenate([part[1] for part in parts])
    del parts
    evaluator = _evaluator(statistics, probabilities)
    setup = time.perf_counter() - t0
    t0 = time.perf_counter()
    values = []
    for number in range(trials):
        count, total = _aggregates(evaluator, trial_params(number))
        values.append(total / count if count else 0.0)
    seconds = time.perf_counter() - t0
    monitor.done = True
    monitor.join()
    return {
        "setup_s": setup,
        "trials_s": seconds,
        "trials_per_s": trials / seconds,
        "peak_mib": monitor.peak,
        "rss_before_mib": base,
        "values": values,
    }


def _worker(conn, blocks):
    """One worker: makes its blocks' columns, then answers each trial number with its blocks' partial aggregates."""
    evaluators = [_evaluator(*block_columns(b, size)) for b, size in blocks]
    conn.send("ready")
    while True:
        number = conn.recv()
        if number is None:
            return
        params = trial_params(number)
        conn.send([_aggregates(evaluator, params) for evaluator in evaluators])


def run_blocks(n_docs: int, blocks: int, workers: int, trials: int):
    """The per-block design: each worker owns some blocks; the driver only adds partial aggregates."""
    sizes = np.diff(np.linspace(0, n_docs, blocks + 1).astype(np.int64))
    ctx = mp.get_context("spawn")  # workers start empty, as cluster workers would
    pipes, procs = [], []
    driver = PeakRss()
    driver.start()
    t0 = time.perf_counter()
    for w in range(workers):
        mine, theirs = ctx.Pipe()
        owned = [(b, int(sizes[b])) for b in range(w, blocks, workers)]
        proc = ctx.Process(target=_worker, args=(theirs, owned), daemon=True)
        proc.start()
        pipes.append(mine)
        procs.append(proc)
    everyone = PeakRss(lambda: [psutil.Process().pid] + [p.pid for p in procs])
    everyone.start()
    for conn in pipes:
        conn.recv()
    setup = time.perf_counter() - t0
    t0 = time.perf_counter()
    values = []
    for number in range(trials):
        for conn in pipes:
            conn.send(number)
        parts = [part for conn in pipes for part in conn.recv()]
        count = sum(c for c, _ in parts)
        total = sum(t for _, t in parts)
        values.append(total / count if count else 0.0)
    seconds = time.perf_counter() - t0
    for conn in pipes:
        conn.send(None)
    for proc in procs:
        proc.join()
    driver.done = everyone.done = True
    driver.join()
    everyone.join()
    return {
        "setup_s": setup,
        "trials_s": seconds,
        "trials_per_s": trials / seconds,
        "driver_peak_mib": driver.peak,
        "all_processes_peak_mib": everyone.peak,
        "values": values,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", default="1000000,10000000")
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--blocks", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    import data_juicer.ops  # noqa: F401  (imported before anything is timed or measured)

    result = {"trials": args.trials, "blocks": args.blocks, "workers": args.workers, "runs": {}}
    for n_docs in [int(x) for x in args.docs.split(",")]:
        driver = run_driver(n_docs, args.blocks, args.trials)
        blocks = run_blocks(n_docs, args.blocks, args.workers, args.trials)
        same = np.allclose(driver["values"], blocks["values"], rtol=1e-12, atol=0)
        result["runs"][n_docs] = {"driver": driver, "blocks": blocks, "same_metrics": bool(same)}
        print(
            f"{n_docs:>10} docs  driver: {driver['trials_per_s']:6.2f} trials/s, peak {driver['peak_mib']:6.0f} MiB "
            f"(setup {driver['setup_s']:.1f} s) | blocks x{args.blocks} on {args.workers} workers: "
            f"{blocks['trials_per_s']:6.2f} trials/s, driver peak {blocks['driver_peak_mib']:5.0f} MiB, all "
            f"processes {blocks['all_processes_peak_mib']:6.0f} MiB | same metrics: {same}",
            flush=True,
        )
        for run in (driver, blocks):
            run["values"] = [round(v, 12) for v in run["values"]]
    print(f"saved {save('simulate-trials', result)}")


if __name__ == "__main__":
    main()
