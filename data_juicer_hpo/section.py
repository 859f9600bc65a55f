"""The ``auto_hpo`` section of a Data-Juicer recipe: its keys, their types and docs, and their validation.

The keys are added to Data-Juicer's own parser (see :mod:`data_juicer_hpo.hooks.parser`), so they are typed, listed by
``dj-process --help`` and settable from YAML (``auto_hpo: {mode: 3sigma}``) or flags (``--auto_hpo.k 2.5``).
Semantic checks live here, as a pure function that collects every problem before any work starts.
"""

import os
import tempfile
from dataclasses import dataclass
from typing import Any, List, Optional

from data_juicer_hpo.errors import AutoHpoError

__all__ = [
    "SECTION",
    "MODES",
    "BACKENDS",
    "add_section_arguments",
    "section_of",
    "sample_problem",
    "validate_section",
]

SECTION = "auto_hpo"
MODES = ("3sigma", "wandb")
BACKENDS = ("auto", "wandb", "local")
RECIPE_SUFFIXES = (".yaml", ".yml", ".json")
REPORT_SUFFIXES = (".html", ".htm")
SCALES = ("linear", "log")  # the same as ksigma.SCALES (section.py stays free of numpy for the entry point)


@dataclass(frozen=True)
class _Key:
    name: str
    type: Any
    default: Any
    help: str


KEYS = (
    _Key("mode", Optional[str], None, f"Auto-HPO mode, one of {', '.join(MODES)}; unset = the plugin does nothing."),
    _Key("k", float, 3.0, "3sigma: bounds are mean +/- k * std of each filter's statistic (k > 0)."),
    _Key(
        "scale",
        str,
        "linear",
        "3sigma: linear (mean +/- k*std) or log (exp(mean(ln x) +/- k*std(ln x)), for statistics all > 0).",
    ),
    _Key(
        "path_3sigma_recipe",
        Optional[str],
        None,
        "3sigma: where to write the refined recipe (.yaml, .yml or .json); it runs with plain dj-process.",
    ),
    _Key("plot", bool, False, "3sigma: draw one histogram PNG per tuned statistic next to the refined recipe."),
    _Key(
        "tighten_only",
        bool,
        False,
        "3sigma: only ever tighten the recipe as written: new min = max(written, 3sigma), new max = min(...).",
    ),
    _Key(
        "report",
        Optional[str],
        None,
        "Where to write report.html (3sigma: only when set; sweeps: default <output_dir>/report.html).",
    ),
    _Key("hpo_config", Optional[str], None, "wandb: path of the W&B sweep configuration (YAML)."),
    _Key("backend", str, "auto", f"wandb: sweep backend, one of {', '.join(BACKENDS)}."),
    _Key("storage", Optional[str], None, "wandb/local: SQLAlchemy URL of the sweep storage (default: SQLite file)."),
    _Key("objective", Optional[str], None, "wandb: objective name or 'package.module:function' (default: metric)."),
    _Key("reference", Optional[str], None, "wandb: reference set of good text (.jsonl/.jsonl.gz) for objectives."),
    _Key("synergy", Optional[dict], None, "wandb: weights {objective: weight} of the synergy objective."),
    _Key(
        "downstream",
        Optional[dict],
        None,
        "wandb: {label_key, eval, metric} of the downstream_task objective (metric: accuracy or macro_f1).",
    ),
    _Key(
        "output_dir",
        Optional[str],
        None,
        "wandb: where sweep.db, trials.csv, best_recipe.yaml and plots go (default: auto_hpo/ beside export_path).",
    ),
    _Key("process_best", bool, True, "wandb: after the sweep, process the full data once with the best recipe."),
    _Key("n_workers", int, 1, "wandb/local: number of local sweep worker processes."),
    _Key("fail_fast", bool, False, "wandb: stop the sweep at the first failed trial instead of going on."),
    _Key("seed", int, 0, "wandb/local: random seed of the samplers."),
    # faults (issue 12)
    _Key(
        "storage_retry_s",
        float,
        60.0,
        "wandb/local: seconds a storage call retries a lost database connection before the run stops (>= 0).",
    ),
    _Key(
        "resume",
        str,
        "auto",
        "wandb/local: 'auto' resumes a study only on the same data, recipe and objective; 'force' resumes anyway.",
    ),
    # issue 7: constraints, several objectives
    _Key(
        "constraints",
        Optional[list],
        None,
        "wandb: constraints every trial is checked against, e.g. ['retention >= 0.5']; the best trial is feasible.",
    ),
    _Key(
        "objectives",
        Optional[dict],
        None,
        "wandb/local: 2-3 objectives {name: maximize|minimize} of a multi-objective sweep (instead of one metric).",
    ),
    _Key(
        "select",
        Optional[str],
        None,
        "wandb/local: the objective that picks the processed Pareto trial (default: the front's compromise).",
    ),
    # issue 17: labels, fixed training budgets
    _Key(
        "labels",
        Optional[dict],
        None,
        "wandb: {path, label_key, metric} of the labels objectives: a JSON Lines file of documents labelled keep/drop.",
    ),
    _Key(
        "budget",
        Optional[dict],
        None,
        "wandb: {samples: N} or {tokens: N}: model_loss and downstream_task train each trial on that much of what it "
        "keeps.",
    ),
    _Key("repeats", int, 1, "wandb: draws of the budget per trial; the score is their mean (with its standard error)."),
    # issue 19: tune on a sample, process everything
    _Key(
        "sample",
        Optional[float],
        None,
        "3sigma/wandb: tune on a seeded uniform sample of the documents (a number, an integer >= 2, or a fraction in "
        "(0, 1); seed: auto_hpo.seed), then process all of them with the tuned recipe.",
    ),
    # issue 20: a SQLite storage file elsewhere than output_dir, on purpose
    _Key(
        "storage_outside_output_dir",
        bool,
        False,
        "wandb/local: allow a SQLite storage file outside output_dir, given as an absolute path (a shared study).",
    ),
)
RESUME = ("auto", "force")


def add_section_arguments(parser) -> None:
    """Add every ``auto_hpo.*`` key to a jsonargparse parser, as one documented group."""
    group = parser.add_argument_group(
        "auto_hpo (data-juicer-hpo)",
        "Automatic hyper-parameter optimisation of this recipe. See docs/configuration.md of data-juicer-hpo.",
    )
    for key in KEYS:
        group.add_argument(f"--{SECTION}.{key.name}", type=key.type, default=key.default, help=key.help)


def section_of(cfg) -> dict:
    """The ``auto_hpo`` section of a parsed config as a plain dict with every key (defaults filled in)."""
    raw = cfg.get(SECTION) if hasattr(cfg, "get") else getattr(cfg, SECTION, None)
    if raw is None:
        raw = {}
    elif hasattr(raw, "__dict__") and not isinstance(raw, dict):
        raw = {k: getattr(raw, k) for k in vars(raw)}
    if not isinstance(raw, dict):
        raise AutoHpoError(f"{SECTION}: must be a mapping such as {{mode: 3sigma, k: 3}} (got {raw!r})")
    return {key.name: raw.get(key.name, key.default) for key in KEYS}


def _nearest_existing_dir(path: str) -> str:
    parent = os.path.dirname(os.path.abspath(path))
    while not os.path.isdir(parent):
        up = os.path.dirname(parent)
        if up == parent:
            break
        parent = up
    return parent


def writable_path_problem(key: str, path: str, suffixes=None) -> Optional[str]:
    """A problem line when ``path`` cannot be written as a file (wrong suffix, a directory, no permission)."""
    if suffixes and not path.lower().endswith(suffixes):
        return f"{key}: must end with one of {', '.join(suffixes)} (got {path!r})"
    if os.path.isdir(path):
        return f"{key}: is a directory, expected a file path (got {path!r})"
    parent = _nearest_existing_dir(path)
    if os.path.exists(path) and not os.access(path, os.W_OK):
        return f"{key}: file exists and is not writable (got {path!r})"
    try:  # permission bits lie (root, read-only mounts, /proc): try to create a file where ours will go
        fd, probe = tempfile.mkstemp(prefix=".dj-hpo-probe-", dir=parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        return f"{key}: cannot write there, {parent!r} is not a writable directory ({e.strerror}; got {path!r})"
    return None


def sample_problem(key: str, value) -> Optional[str]:
    """One line when ``value`` is not a valid ``sample``: a count (an integer >= 2) or a fraction in (0, 1)."""
    if value is None:
        return None
    valid = not isinstance(value, bool) and isinstance(value, (int, float)) and value == value
    if valid and (0 < value < 1 or (2 <= value < 2**63 and float(value).is_integer())):
        return None
    return f"{key}: must be a number of documents (an integer >= 2) or a fraction in (0, 1) (got {value!r})"


def validate_section(section: dict) -> List[str]:
    """Every problem of the section's values, one line each naming the key (empty when all is well)."""
    problems = []
    mode = section["mode"]
    if mode is None:
        return problems
    if mode not in MODES:
        problems.append(f"{SECTION}.mode: unknown mode {mode!r} (valid: {', '.join(MODES)})")
    k = section["k"]
    if not isinstance(k, (int, float)) or isinstance(k, bool) or not k > 0 or k != k or k == float("inf"):
        problems.append(f"{SECTION}.k: must be a finite number > 0 (got {k!r})")
    if section["scale"] not in SCALES:
        problems.append(f"{SECTION}.scale: unknown scale {section['scale']!r} (valid: {', '.join(SCALES)})")
    path = section["path_3sigma_recipe"]
    if path is not None:
        problem = writable_path_problem(f"{SECTION}.path_3sigma_recipe", str(path), RECIPE_SUFFIXES)
        if problem:
            problems.append(problem)
    report = section["report"]
    if report is not None:
        problem = writable_path_problem(f"{SECTION}.report", str(report), REPORT_SUFFIXES)
        if problem:
            problems.append(problem)
    if section["backend"] not in BACKENDS:
        problems.append(f"{SECTION}.backend: unknown backend {section['backend']!r} (valid: {', '.join(BACKENDS)})")
    if not isinstance(section["n_workers"], int) or section["n_workers"] < 1:
        problems.append(f"{SECTION}.n_workers: must be an integer >= 1 (got {section['n_workers']!r})")
    retry = section["storage_retry_s"]
    if isinstance(retry, bool) or not isinstance(retry, (int, float)) or not 0 <= retry < float("inf"):
        problems.append(f"{SECTION}.storage_retry_s: must be a finite number of seconds >= 0 (got {retry!r})")
    if section["resume"] not in RESUME:
        problems.append(f"{SECTION}.resume: must be one of {', '.join(RESUME)} (got {section['resume']!r})")
    problem = sample_problem(f"{SECTION}.sample", section.get("sample"))
    if problem:
        problems.append(problem)
    if mode == "wandb" and not section["hpo_config"]:
        problems.append(f"{SECTION}.hpo_config: required when {SECTION}.mode is 'wandb' (the sweep configuration)")
    return problems
