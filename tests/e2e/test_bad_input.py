"""The bad-input matrix: every malformed input gets one line naming the key and the problem, a non-zero exit, no
traceback, and nothing written or changed. One row per input; the README's troubleshooting section lists them.

Most rows are checked in-process, where ``dj-process`` checks them: Data-Juicer's ``init_configs`` raises the
:class:`AutoHpoError` before it writes anything (fast). The rows in ``SUBPROCESS_ROWS`` -- those found only once the
data is loaded, and a sample of each kind of check -- run the real ``dj-process`` command (one line, exit 1)."""

import json
import sqlite3

import pytest
import yaml

from tests.helpers.data import tree_digest, varied_texts, write_jsonl, write_yaml
from tests.helpers.recipes import PROCESS, SWEEP


def _sweep(**changes):
    out = {**SWEEP, **changes}
    return {k: v for k, v in out.items() if v is not None}


def _params(**parameters):
    return _sweep(parameters=parameters)


# id, auto_hpo section, sweep file (None: none), data, process, extra CLI args, expected fragments
CASES = [
    ("mode-unknown", {"mode": "5sigma"}, None, "ok", None, [], ["auto_hpo.mode: unknown mode '5sigma'"]),
    ("k-negative", {"mode": "3sigma", "k": -1}, None, "ok", None, [], ["auto_hpo.k: must be a finite number > 0"]),
    ("k-not-a-number", {"mode": "3sigma"}, None, "ok", None, ["--auto_hpo.k", "abc"], ["auto_hpo.k: Expected a float"]),
    ("recipe-suffix", {"mode": "3sigma", "path_3sigma_recipe": "r.txt"}, None, "ok", None, [], ["must end with"]),
    (
        "recipe-unwritable",
        {"mode": "3sigma", "path_3sigma_recipe": "/proc/r.yaml"},
        None,
        "ok",
        None,
        [],
        ["auto_hpo.path_3sigma_recipe: cannot write there"],
    ),
    ("recipe-is-dir", {"mode": "3sigma", "path_3sigma_recipe": "adir.yaml"}, None, "ok", None, [], ["is a directory"]),
    ("report-suffix", {"mode": "3sigma", "report": "r.txt"}, None, "ok", None, [], ["auto_hpo.report: must end with"]),
    (
        "tighten-not-bool",
        {"mode": "3sigma"},
        None,
        "ok",
        None,
        ["--auto_hpo.tighten_only", "maybe"],
        ["auto_hpo.tighten_only: Expected a bool"],
    ),
    ("unknown-key", {"mode": "3sigma", "kk": 3}, None, "ok", None, [], ["auto_hpo.kk: unknown key"]),
    ("sample-one", {"mode": "3sigma", "sample": 1}, None, "ok", None, [], ["auto_hpo.sample: must be a number of"]),
    ("sample-fractional-count", {"mode": "wandb", "sample": 2.5}, SWEEP, "ok", None, [], ["auto_hpo.sample: must be"]),
    ("sample-negative", {"mode": "3sigma", "sample": -0.5}, None, "ok", None, [], ["auto_hpo.sample: must be"]),
    ("sample-not-a-number", {"mode": "3sigma"}, None, "ok", None, ["--auto_hpo.sample", "half"], ["auto_hpo.sample:"]),
    ("section-not-mapping", "3sigma", None, "ok", None, [], ["auto_hpo: must be a mapping"]),
    ("backend-unknown", {"mode": "wandb", "backend": "cloud"}, SWEEP, "ok", None, [], ["auto_hpo.backend: unknown"]),
    ("workers-zero", {"mode": "wandb", "n_workers": 0}, SWEEP, "ok", None, [], ["auto_hpo.n_workers: must be"]),
    (
        "plot-not-bool",
        {"mode": "3sigma"},
        None,
        "ok",
        None,
        ["--auto_hpo.plot", "maybe"],
        ["auto_hpo.plot: Expected a bool"],
    ),
    ("wandb-no-sweep", {"mode": "wandb"}, None, "ok", None, [], ["auto_hpo.hpo_config: required"]),
    (
        "sweep-missing",
        {"mode": "wandb", "hpo_config": "nope.yaml"},
        None,
        "ok",
        None,
        [],
        ["auto_hpo.hpo_config: no such file"],
    ),
    ("sweep-bad-yaml", {"mode": "wandb"}, "method: [random\n", "ok", None, [], ["is not valid YAML"]),
    ("sweep-not-mapping", {"mode": "wandb"}, "- 1\n- 2\n", "ok", None, [], ["must hold a mapping"]),
    ("method-unknown", {"mode": "wandb"}, _sweep(method="sideways"), "ok", None, [], ["hpo_config.method"]),
    (
        "goal-and-min-max",
        {"mode": "wandb"},
        _sweep(
            metric={"name": "retention", "goal": "up"},
            parameters={"text_length_filter.min_len": {"distribution": "uniform", "min": 5, "max": 1}},
        ),
        "ok",
        None,
        [],
        ["hpo_config.metric.goal", "hpo_config.parameters.text_length_filter.min_len"],
    ),
    (
        "param-addresses-nothing",
        {"mode": "wandb"},
        _params(**{"text_lenght_filter.min_len": {"values": [1]}}),
        "ok",
        None,
        [],
        ["hpo_config.parameters.text_lenght_filter.min_len: addresses nothing"],
    ),
    (
        "param-unknown-arg",
        {"mode": "wandb"},
        _params(**{"text_length_filter.min_lenn": {"values": [1]}}),
        "ok",
        None,
        [],
        ["has no argument 'min_lenn'"],
    ),
    (
        "param-ambiguous-op",
        {"mode": "wandb"},
        _params(**{"text_length_filter.min_len": {"values": [1]}}),
        "ok",
        PROCESS + [{"text_length_filter": {"min_len": 2}}],
        [],
        ["appears 2 times in process"],
    ),
    (
        "param-index-range",
        {"mode": "wandb"},
        _params(**{"text_length_filter[3].min_len": {"values": [1]}}),
        "ok",
        None,
        [],
        ["[3] is out of range"],
    ),
    ("random-no-cap", {"mode": "wandb"}, _sweep(run_cap=None), "ok", None, [], ["hpo_config.run_cap"]),
    (
        "probabilities",
        {"mode": "wandb"},
        _params(**{"text_length_filter.min_len": {"values": [1, 2], "probabilities": [0.5, 0.7]}}),
        "ok",
        None,
        [],
        ["probabilities"],
    ),
    (
        "param-not-a-number",
        {"mode": "wandb"},
        _params(**{"text_length_filter.min_len": {"values": ["ten"]}}),
        "ok",
        None,
        [],
        ["text_length_filter.min_len is a number, but the sweep gives 'ten'"],
    ),
    (
        "objective-unknown",
        {"mode": "wandb"},
        _sweep(metric={"name": "bogus_metric"}),
        "ok",
        None,
        [],
        ["auto_hpo.objective: unknown objective 'bogus_metric'"],
    ),
    (
        "objective-custom-import",
        {"mode": "wandb", "objective": "no_such_module_x:f"},
        SWEEP,
        "ok",
        None,
        [],
        ["auto_hpo.objective"],
    ),
    (
        "reference-required",
        {"mode": "wandb", "objective": "quality_score"},
        SWEEP,
        "ok",
        None,
        [],
        ["auto_hpo.reference"],
    ),
    (
        "reference-missing",
        {"mode": "wandb", "objective": "model_loss", "reference": "nope.jsonl"},
        SWEEP,
        "ok",
        None,
        [],
        ["auto_hpo.reference"],
    ),
    ("storage-dialect", {"mode": "wandb", "storage": "nosuchdb://x/y"}, SWEEP, "ok", None, [], ["auto_hpo.storage"]),
    (
        "storage-unreachable",
        {"mode": "wandb", "storage": "postgresql+psycopg2://u:pw12345@127.0.0.1:1/db"},
        SWEEP,
        "ok",
        None,
        [],
        ["auto_hpo.storage: cannot connect"],
    ),
    (
        "wandb-no-credentials",
        {"mode": "wandb", "backend": "wandb"},
        SWEEP,
        "ok",
        None,
        [],
        ["auto_hpo.backend: 'wandb' needs W&B credentials"],
    ),
    (
        "recipe-min-above-max",
        {"mode": "wandb"},
        SWEEP,
        "ok",
        [PROCESS[0], {"character_repetition_filter": {"rep_len": 10, "min_ratio": 0.6, "max_ratio": 0.5}}],
        [],
        ["process[1].character_repetition_filter: min_ratio (0.6) > max_ratio (0.5)"],
    ),
    ("dataset-missing", {"mode": "3sigma"}, None, "missing", None, [], ["dataset_path: no such file or directory"]),
    ("dataset-empty", {"mode": "3sigma"}, None, "empty", None, [], ["dataset_path:", "is empty"]),
    ("text-field-absent", {"mode": "3sigma"}, None, "no-text", None, [], ["text_keys:"]),
    ("one-sample", {"mode": "3sigma"}, None, "one", None, [], ["needs at least 2 to estimate a std"]),
    ("sweep-data-missing", {"mode": "wandb"}, SWEEP, "missing", None, [], ["dataset_path: no such file or directory"]),
    # faults (issue 12)
    ("retry-negative", {"mode": "wandb", "storage_retry_s": -1}, SWEEP, "ok", None, [], ["auto_hpo.storage_retry_s:"]),
    ("resume-unknown", {"mode": "wandb", "resume": "maybe"}, SWEEP, "ok", None, [], ["auto_hpo.resume: must be"]),
    ("db-empty", {"mode": "wandb", "storage": "sqlite:///sweep.db"}, SWEEP, "empty-db", None, [], ["is empty (0"]),
    ("db-not-sqlite", {"mode": "wandb", "storage": "sqlite:///sweep.db"}, SWEEP, "junk-db", None, [], ["not a SQLite"]),
    # issue 8: log-scale bounds, size thresholds
    (
        "scale-unknown",
        {"mode": "3sigma", "scale": "x"},
        None,
        "ok",
        None,
        [],
        ["auto_hpo.scale: unknown scale 'x' (valid: linear, log)"],
    ),
    (
        "sweep-size-unreadable",
        {"mode": "wandb"},
        _params(**{"image_size_filter.max_size": {"values": ["1.5MB", 20000]}}),
        "ok",
        [PROCESS[0], {"image_size_filter": {"max_size": "1MB"}}],
        [],
        ["hpo_config.parameters.image_size_filter.max_size: image_size_filter.max_size is a size", "(got '1.5MB')"],
    ),
    # issue 7: constraints, several objectives, integer arguments
    (
        "constraint-form",
        {"mode": "wandb", "constraints": ["retention => 0.5"]},
        SWEEP,
        "ok",
        None,
        [],
        ["auto_hpo.constraints[0]: must read '<objective> <op> <number>'"],
    ),
    (
        "constraint-objective",
        {"mode": "wandb", "constraints": ["retention >= 0.5", "bogus < 1"]},
        SWEEP,
        "ok",
        None,
        [],
        ["auto_hpo.constraints[1]: unknown objective 'bogus'"],
    ),
    (
        "constraint-bound",
        {"mode": "wandb", "constraints": ["retention >= half"]},
        SWEEP,
        "ok",
        None,
        [],
        ["auto_hpo.constraints[0]: the bound must be a finite number"],
    ),
    (
        "constraints-not-list",
        {"mode": "wandb", "constraints": "retention >= 0.5"},
        SWEEP,
        "ok",
        None,
        [],
        ["auto_hpo.constraints"],
    ),
    (
        "objectives-one",
        {"mode": "wandb", "objectives": {"retention": "maximize"}},
        SWEEP,
        "ok",
        None,
        [],
        ["auto_hpo.objectives: must map 2 or 3 objectives"],
    ),
    (
        "objectives-goal",
        {"mode": "wandb", "objectives": {"retention": "up", "model_loss": "minimize"}, "reference": "ref.jsonl"},
        _sweep(metric=None),
        "ok",
        None,
        [],
        ["auto_hpo.objectives.retention: goal must be"],
    ),
    (
        "objectives-metric",
        {"mode": "wandb", "objectives": {"retention": "maximize", "model_loss": "minimize"}, "reference": "ref.jsonl"},
        _sweep(metric={"name": "quality"}),
        "ok",
        None,
        [],
        ["hpo_config.metric.name: must name one of"],
    ),
    (
        "select-unknown",
        {
            "mode": "wandb",
            "objectives": {"retention": "maximize", "model_loss": "minimize"},
            "reference": "ref.jsonl",
            "select": "x",
        },
        _sweep(metric=None),
        "ok",
        None,
        [],
        ["auto_hpo.select: must name one of"],
    ),
    (
        "objectives-wandb",
        {
            "mode": "wandb",
            "backend": "wandb",
            "objectives": {"retention": "maximize", "model_loss": "minimize"},
            "reference": "ref.jsonl",
        },
        _sweep(metric=None),
        "ok",
        None,
        [],
        ["auto_hpo.objectives: backend 'wandb' optimizes one metric"],
    ),
    (
        "int-arg-fractional-q",
        {"mode": "wandb"},
        _params(**{"text_length_filter.min_len": {"distribution": "q_uniform", "min": 1, "max": 9, "q": 0.5}}),
        "ok",
        None,
        [],
        ["hpo_config.parameters.text_length_filter.min_len.q: text_length_filter.min_len takes an int"],
    ),
]

# issue 20: outputs that would overwrite or sit in an input, paths Data-Juicer cannot write, foreign or misplaced
# sweep databases, YAML past its limits -- refused before anything is written
BOMB = "".join(
    [f"a0: &a0 [{', '.join(['lol'] * 9)}]\n"]
    + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 9)]
)
CASES += [
    ("export-is-input", {"mode": "3sigma"}, None, "ok", None, ["--export_path", "d.jsonl"], ["export_path: would"]),
    ("export-is-input-sweep", {"mode": "wandb"}, SWEEP, "ok", None, ["--export_path", "d.jsonl"], ["would overwrite"]),
    ("export-is-dir", {"mode": "3sigma"}, None, "ok", None, ["--export_path", "adir.yaml"], ["is a directory; give"]),
    (
        "export-suffix",
        {"mode": "3sigma"},
        None,
        "ok",
        None,
        ["--export_path", "out/kept.csv"],
        ["export_path: Data-Juicer's default executor cannot write the suffix .csv"],
    ),
    (
        "export-in-dataset-dir",
        {"mode": "3sigma"},
        None,
        "dir",
        None,
        ["--export_path", "corpus/kept.jsonl"],
        ["export_path:", "is inside", "the directory dataset_path reads whole"],
    ),
    (
        "output-dir-in-dataset-dir",
        {"mode": "wandb", "output_dir": "corpus/hpo"},
        SWEEP,
        "dir",
        None,
        [],
        ["auto_hpo.output_dir:", "is inside", "the next run would load it as data"],
    ),
    ("output-dir-is-file", {"mode": "wandb", "output_dir": "d.jsonl"}, SWEEP, "ok", None, [], ["is a file, not"]),
    (
        "refined-recipe-is-recipe",
        {"mode": "3sigma", "path_3sigma_recipe": "recipe.yaml"},
        None,
        "ok",
        None,
        [],
        ["auto_hpo.path_3sigma_recipe: would overwrite the input the recipe"],
    ),
    ("db-foreign", {"mode": "wandb", "storage": "sqlite:///hpo/x.db"}, SWEEP, "foreign-db", None, [], ["another app"]),
    ("db-default-empty", {"mode": "wandb"}, SWEEP, "empty-default-db", None, [], ["hpo/sweep.db is empty (0"]),
    (
        "db-outside-output-dir",
        {"mode": "wandb", "storage": "sqlite:///elsewhere/sweep.db"},
        SWEEP,
        "ok",
        None,
        [],
        ["auto_hpo.storage: the SQLite file", "is outside auto_hpo.output_dir", "storage_outside_output_dir: true"],
    ),
    (
        "db-outside-relative",
        {"mode": "wandb", "storage": "sqlite:///elsewhere/sweep.db", "storage_outside_output_dir": True},
        SWEEP,
        "ok",
        None,
        [],
        ["auto_hpo.storage: with auto_hpo.storage_outside_output_dir, give the SQLite file as an absolute path"],
    ),
    ("sweep-alias-bomb", {"mode": "wandb"}, BOMB, "ok", None, [], ["auto_hpo.hpo_config:", "through its YAML aliases"]),
]

# downstream_task (issue 7): "EVAL", "EMPTY", "UNLABELLED" stand for files _downstream_files writes.
DOWNSTREAM = {"mode": "wandb", "objective": "downstream_task"}
CASES += [
    ("downstream-required", DOWNSTREAM, SWEEP, "ok", None, [], ["auto_hpo.downstream: required by objective"]),
    (
        "downstream-metric",
        {**DOWNSTREAM, "downstream": {"label_key": "meta.source", "eval": "EVAL", "metric": "f1"}},
        SWEEP,
        "ok",
        None,
        [],
        ["auto_hpo.downstream.metric: unknown metric 'f1' (valid: accuracy, macro_f1)"],
    ),
    (
        "downstream-eval-missing",
        {**DOWNSTREAM, "downstream": {"label_key": "meta.source", "eval": "nope.jsonl"}},
        SWEEP,
        "ok",
        None,
        [],
        ["auto_hpo.downstream.eval: file not found"],
    ),
    (
        "downstream-eval-empty",
        {**DOWNSTREAM, "downstream": {"label_key": "meta.source", "eval": "EMPTY"}},
        SWEEP,
        "ok",
        None,
        [],
        ["auto_hpo.downstream.eval:", "holds no records"],
    ),
    (
        "downstream-eval-unlabelled",
        {**DOWNSTREAM, "downstream": {"label_key": "meta.source", "eval": "UNLABELLED"}},
        SWEEP,
        "ok",
        None,
        [],
        ["auto_hpo.downstream.eval:", "record 2 has no label 'meta.source'"],
    ),
    (
        "downstream-data-unlabelled",
        {**DOWNSTREAM, "downstream": {"label_key": "meta.source", "eval": "EVAL"}},
        SWEEP,
        "ok",
        None,
        [],
        ["auto_hpo.downstream.label_key: 'meta.source' is missing (or null, an object, a list) in 60 of 60 samples"],
    ),
]

# labels and budgets (issue 17): "LABELS_*" stand for files _labels_files writes.
LABELS = {"mode": "wandb", "objective": "labels"}
DEDUP = PROCESS + [{"document_deduplicator": {}}]
CASES += [
    ("labels-required", LABELS, SWEEP, "ok", None, [], ["auto_hpo.labels: required by the labels objectives"]),
    (
        "labels-missing",
        {**LABELS, "labels": {"path": "nope.jsonl"}},
        SWEEP,
        "ok",
        None,
        [],
        ["auto_hpo.labels.path: file not found (got 'nope.jsonl')"],
    ),
    (
        "labels-unlabelled",
        {**LABELS, "labels": {"path": "LABELS_UNLABELLED"}},
        SWEEP,
        "ok",
        None,
        [],
        ["auto_hpo.labels.path:", "record 1 has no label field 'keep' (auto_hpo.labels.label_key)"],
    ),
    (
        "labels-one-class",
        {**LABELS, "labels": {"path": "LABELS_ONE_CLASS"}},
        SWEEP,
        "ok",
        None,
        [],
        ["labels every document keep; both keep and drop are needed to tell them apart"],
    ),
    (
        "labels-too-few",
        {**LABELS, "labels": {"path": "LABELS_FEW"}},
        SWEEP,
        "ok",
        None,
        [],
        ["holds 5 labelled documents; at least 20 are needed"],
    ),
    (
        "labels-bad-value",
        {**LABELS, "labels": {"path": "LABELS_BAD_VALUE"}},
        SWEEP,
        "ok",
        None,
        [],
        ["record 3 has label 'maybe' under 'keep' (valid: true/false, \"keep\"/\"drop\", 1/0)"],
    ),
    (
        "labels-metric",
        {**LABELS, "labels": {"path": "LABELS_OK", "metric": "auc"}},
        SWEEP,
        "ok",
        None,
        [],
        ["auto_hpo.labels.metric: unknown metric 'auc' (valid: youden, mcc, f1, balanced_accuracy)"],
    ),
    (
        "labels-deduplicator",
        {"mode": "wandb", "constraints": ["labels_recall >= 0.9"], "labels": {"path": "LABELS_OK"}},
        SWEEP,
        "ok",
        DEDUP,
        [],
        ["auto_hpo.labels: process[2] document_deduplicator decides on the whole dataset"],
    ),
    (
        "budget-unused",
        {"mode": "wandb", "budget": {"samples": 10}},
        SWEEP,
        "ok",
        None,
        [],
        ["auto_hpo.budget: applies to model_loss and downstream_task"],
    ),
    (
        "budget-not-a-count",
        {"mode": "wandb", "objective": "model_loss", "reference": "ref.jsonl", "budget": {"samples": 0}},
        SWEEP,
        "ok",
        None,
        [],
        ["auto_hpo.budget.samples: must be an integer >= 1 (got 0)"],
    ),
    (
        "repeats-without-budget",
        {"mode": "wandb", "objective": "model_loss", "reference": "ref.jsonl", "repeats": 3},
        SWEEP,
        "ok",
        None,
        [],
        ["auto_hpo.repeats: needs auto_hpo.budget"],
    ),
    (
        "downstream-test-fraction",
        {**DOWNSTREAM, "downstream": {"label_key": "meta.source", "eval": "EVAL", "test": 1.5}},
        SWEEP,
        "ok",
        None,
        [],
        ["auto_hpo.downstream.test: a fraction of the eval file must lie in (0, 1) (got 1.5)"],
    ),
]


def _labels_files(tmp_path, section):
    """Write the labels files a labels case names and put their paths into its section."""
    if not isinstance(section, dict) or not isinstance(section.get("labels"), dict):
        return section
    good = [{"text": f"doc {i}", "keep": i % 2 == 0} for i in range(24)]
    files = {
        "LABELS_OK": good,
        "LABELS_UNLABELLED": [{"text": "a"}] + good,
        "LABELS_ONE_CLASS": [{"text": f"d{i}", "keep": "keep"} for i in range(24)],
        "LABELS_FEW": good[:5],
        "LABELS_BAD_VALUE": good[:2] + [{"text": "x", "keep": "maybe"}] + good,
    }
    path = section["labels"].get("path")
    if path in files:
        target = tmp_path / f"{path.lower()}.jsonl"
        target.write_text("".join(json.dumps(r) + "\n" for r in files[path]))
        return {**section, "labels": {**section["labels"], "path": str(target)}}
    return section


def _downstream_files(tmp_path, section):
    """Write the labelled files a downstream_task case names and put their paths into its section."""
    if not isinstance(section, dict) or not isinstance(section.get("downstream"), dict):
        return section
    rows = [{"text": "a b c", "meta": {"source": "x"}}, {"text": "d e f", "meta": {}}]
    files = {"EVAL": rows[:1] * 3, "EMPTY": [], "UNLABELLED": rows}
    paths = {}
    for name, content in files.items():
        paths[name] = tmp_path / f"{name.lower()}.jsonl"
        paths[name].write_text("".join(json.dumps(r) + "\n" for r in content))
    downstream = {k: str(paths[v]) if v in paths else v for k, v in section["downstream"].items()}
    return {**section, "downstream": downstream}


def _data(tmp_path, kind):
    path = tmp_path / "d.jsonl"
    if kind == "ok":
        write_jsonl(path, varied_texts(60))
    elif kind == "empty":
        path.write_text("")
    elif kind == "one":
        write_jsonl(path, ["just one sample"])
    elif kind == "no-text":
        path.write_text('{"content": "abc def"}\n{"content": "ghi"}\n')
    elif kind in ("empty-db", "junk-db"):  # a sweep database that must be refused, never replaced
        write_jsonl(path, varied_texts(60))
        (tmp_path / "sweep.db").write_bytes(
            b"" if kind == "empty-db" else b"these are not the pages of a database" * 50
        )
    elif kind == "empty-default-db":  # the default storage, output_dir/sweep.db, left empty
        write_jsonl(path, varied_texts(60))
        (tmp_path / "hpo").mkdir()
        (tmp_path / "hpo" / "sweep.db").write_bytes(b"")
    elif kind == "foreign-db":  # another application's SQLite database
        write_jsonl(path, varied_texts(60))
        (tmp_path / "hpo").mkdir()
        conn = sqlite3.connect(tmp_path / "hpo" / "x.db")
        conn.execute("CREATE TABLE invoices (id INTEGER)")
        conn.commit()
        conn.close()
    elif kind == "dir":  # a dataset directory, which Data-Juicer reads whole
        path = write_jsonl(tmp_path / "corpus" / "part-0.jsonl", varied_texts(60)).parent
    if kind == "ok":  # a reference set for the rows that name one
        write_jsonl(tmp_path / "ref.jsonl", varied_texts(10, seed=3))
    return path


# the real command: the rows found only with the data loaded, a parser error and a storage URL with a password (the
# real output never shows it); tests/e2e/test_dj_boundary.py runs more kinds of early errors through dj-process
FOUND_WITH_THE_DATA = {"text-field-absent", "one-sample", "downstream-data-unlabelled"}
SUBPROCESS_ROWS = FOUND_WITH_THE_DATA | {"k-not-a-number", "storage-unreachable"}
NO_CREDENTIALS = {"WANDB_API_KEY": "", "NETRC": "none"}


def _inputs(tmp_path, case):
    """The row's recipe (and sweep file and data) under ``tmp_path``; returns (recipe, extra CLI args)."""
    _, section, sweep, data_kind, process, extra, _ = case
    (tmp_path / "adir.yaml").mkdir()
    data = _data(tmp_path, data_kind)
    section = _labels_files(tmp_path, _downstream_files(tmp_path, section))
    if isinstance(section, dict) and section.get("mode") == "wandb" and sweep is not None:
        sweep_path = tmp_path / "sweep.yaml"
        sweep_path.write_text(sweep if isinstance(sweep, str) else yaml.safe_dump(sweep))
        section = {"hpo_config": str(sweep_path), **section}
    if isinstance(section, dict) and section.get("mode") == "wandb":
        section = {"output_dir": str(tmp_path / "hpo"), **section}
    recipe = write_yaml(
        tmp_path / "recipe.yaml",
        {
            "dataset_path": str(data),
            "export_path": str(tmp_path / "out" / "kept.jsonl"),
            "np": 1,
            "process": process or PROCESS,
            "auto_hpo": section,
        },
    )
    return recipe, extra


def _check_lines(lines, fragments):
    for fragment in fragments:
        assert any(fragment in line for line in lines), (fragment, lines)
    if len(fragments) == 1:
        assert len(lines) == 1, lines


@pytest.fixture
def in_process(tmp_path, monkeypatch):
    """``init_configs`` in this process, as ``dj-process`` calls it; the run hooks it activates are undone after."""
    from data_juicer.config import init_configs

    from data_juicer_hpo import hooks

    monkeypatch.chdir(tmp_path)
    for key, value in NO_CREDENTIALS.items():
        monkeypatch.setenv(key, str(tmp_path / value) if key == "NETRC" else value)
    try:
        yield init_configs
    finally:
        hooks.uninstall()
        hooks.install()


IN_PROCESS = [c for c in CASES if c[0] not in SUBPROCESS_ROWS]
IN_SUBPROCESS = [c for c in CASES if c[0] in SUBPROCESS_ROWS]


@pytest.mark.parametrize("case", IN_PROCESS, ids=[c[0] for c in IN_PROCESS])
def test_bad_input(tmp_path, in_process, capfd, case):
    from data_juicer_hpo import AutoHpoError

    recipe, extra = _inputs(tmp_path, case)
    before = tree_digest(tmp_path)
    with pytest.raises(AutoHpoError) as caught:
        in_process(["--config", str(recipe), *extra])
    _check_lines([f"error: {p}" for p in caught.value.problems], case[-1])
    assert all("\n" not in p for p in caught.value.problems)
    assert tree_digest(tmp_path) == before  # nothing changed, nothing new anywhere (no work_dir, logs, outputs)
    captured = capfd.readouterr()
    assert "pw12345" not in str(caught.value) + captured.out + captured.err  # a storage password never shows


@pytest.mark.e2e
@pytest.mark.parametrize("case", IN_SUBPROCESS, ids=[c[0] for c in IN_SUBPROCESS])
def test_bad_input_command(tmp_path, dj_process, case):
    recipe, extra = _inputs(tmp_path, case)
    before = tree_digest(tmp_path)
    res = dj_process("--config", recipe, *extra, env={"WANDB_API_KEY": "", "NETRC": str(tmp_path / "none")})
    output = res.stdout + res.stderr
    assert res.returncode == 1, output[-2000:]
    assert "Traceback" not in output, output[-3000:]
    lines = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    _check_lines(lines, case[-1])
    after = tree_digest(tmp_path)
    if case[0] in FOUND_WITH_THE_DATA:
        # found once the data is loaded, after Data-Juicer made its work directory (its logs): nothing else
        assert {k: v for k, v in after.items() if not k.startswith("out")} == before
        assert not (tmp_path / "out" / "kept.jsonl").exists()
    else:
        assert lines[0] in res.stderr.splitlines()[:5]  # before Data-Juicer's config table
        assert after == before
    assert "pw12345" not in output  # a storage password never shows


@pytest.mark.e2e
def test_wandb_script_needs_a_sweep_file(tmp_path, script):
    data = _data(tmp_path, "ok")
    recipe = write_yaml(tmp_path / "recipe.yaml", {"dataset_path": str(data), "process": PROCESS})
    res = script("execute_hpo_wandb.py", "--config", recipe)
    assert res.returncode != 0 and "Traceback" not in res.stdout + res.stderr
    assert [line for line in res.stderr.splitlines() if line.startswith("error:")] == [
        "error: --hpo_config: required (the W&B sweep configuration file)"
    ]


# ---- data-mixture sweeps (dataset.configs[i].weight, dataset.max_sample_num) --------------------------------
# id, dataset block (None: dataset_path only), extra recipe keys, sweep parameters, expected fragment
MIXTURE_CASES = [
    ("mixture-no-configs", None, {}, {"dataset.configs[0].weight": {"value": 1.0}}, "has no dataset.configs to mix"),
    ("mixture-no-max", "no-max", {}, {"dataset.configs[0].weight": {"value": 1.0}}, "without dataset.max_sample_num"),
    ("mixture-negative", "ok", {}, {"dataset.configs[1].weight": {"min": -1.0, "max": 1.0}}, "must be a number >= 0"),
    ("mixture-index", "ok", {}, {"dataset.configs[2].weight": {"value": 1.0}}, "[2] is out of range"),
    ("mixture-max-float", "ok", {}, {"dataset.max_sample_num": {"min": 10.0, "max": 50.0}}, "a positive integer"),
    ("mixture-path-too", "ok", {"dataset_path": "d.jsonl"}, {"dataset.configs[0].weight": {"value": 1.0}}, "sets"),
    ("mixture-ray", "ok", {"executor_type": "ray"}, {"dataset.configs[0].weight": {"value": 1.0}}, "default only"),
    ("mixture-all-zero", "zero", {}, {"dataset.max_sample_num": {"value": 10}}, "weights are all 0"),
]


@pytest.mark.parametrize("case", MIXTURE_CASES, ids=[c[0] for c in MIXTURE_CASES])
def test_bad_mixture_input(tmp_path, dj_process, case):
    _, block, extra, parameters, fragment = case
    data = _data(tmp_path, "ok")
    sweep = write_yaml(tmp_path / "sweep.yaml", _params(**parameters))
    configs = {"configs": [{"type": "local", "path": str(data), "weight": 1.0}] * 2}
    recipe = {"dataset_path": str(data)} if block is None else {"dataset": configs}
    if block in ("ok", "zero"):
        recipe["dataset"]["max_sample_num"] = 50
    if block == "zero":
        recipe["dataset"]["configs"] = [{**c, "weight": 0.0} for c in configs["configs"]]
    recipe.update(
        {k: str(data) if k == "dataset_path" else v for k, v in extra.items()},
        export_path=str(tmp_path / "out" / "kept.jsonl"),
        np=1,
        process=PROCESS,
        auto_hpo={"mode": "wandb", "hpo_config": str(sweep), "output_dir": str(tmp_path / "hpo")},
    )
    path = write_yaml(tmp_path / "recipe.yaml", recipe)
    before = tree_digest(tmp_path)
    res = dj_process("--config", path, env={"WANDB_API_KEY": "", "NETRC": str(tmp_path / "none")})
    output = res.stdout + res.stderr
    assert res.returncode == 1 and "Traceback" not in output, output[-3000:]
    lines = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    key = "dataset.configs" if block == "zero" else f"hpo_config.parameters.{next(iter(parameters))}"
    assert len(lines) == 1 and lines[0].startswith(f"error: {key}: "), lines
    assert fragment in lines[0], lines
    assert tree_digest(tmp_path) == before and not (tmp_path / "out").exists() and not (tmp_path / "hpo").exists()


@pytest.mark.e2e
def test_a_recipe_alias_bomb_is_refused_before_data_juicer_expands_it(tmp_path, dj_process):
    import time

    data = _data(tmp_path, "ok")
    recipe = tmp_path / "recipe.yaml"
    head = yaml.safe_dump({"dataset_path": str(data), "export_path": str(tmp_path / "out" / "kept.jsonl")})
    recipe.write_text(head + "auto_hpo: {mode: 3sigma}\nprocess:\n  - text_length_filter: {min_len: 1}\n" + BOMB)
    before = tree_digest(tmp_path)
    started = time.monotonic()
    res = dj_process("--config", recipe)
    assert time.monotonic() - started < 60  # Data-Juicer's parser would spend minutes and gigabytes
    assert res.returncode == 1 and "Traceback" not in res.stdout + res.stderr, res.stderr[-3000:]
    lines = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert lines == [
        f"error: --config: '{recipe}' expands to more than 250,000 values through its YAML aliases (&anchor / "
        f"*alias), more than a recipe or sweep file may hold; write the values out or use fewer aliases"
    ]
    assert tree_digest(tmp_path) == before


def test_a_sample_with_a_mixture_sweep_is_one_line(tmp_path, dj_process):
    data = _data(tmp_path, "ok")
    sweep = write_yaml(tmp_path / "sweep.yaml", _params(**{"dataset.configs[0].weight": {"value": 1.0}}))
    recipe = {
        "dataset": {"configs": [{"type": "local", "path": str(data), "weight": 1.0}] * 2, "max_sample_num": 50},
        "export_path": str(tmp_path / "out" / "kept.jsonl"),
        "np": 1,
        "process": PROCESS,
        "auto_hpo": {"mode": "wandb", "hpo_config": str(sweep), "output_dir": str(tmp_path / "hpo"), "sample": 20},
    }
    path = write_yaml(tmp_path / "recipe.yaml", recipe)
    before = tree_digest(tmp_path)
    res = dj_process("--config", path, env={"WANDB_API_KEY": "", "NETRC": str(tmp_path / "none")})
    assert res.returncode == 1 and "Traceback" not in res.stdout + res.stderr, res.stderr[-3000:]
    lines = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert lines == [
        "error: auto_hpo.sample: not with a mixture sweep (its trials draw their own mixtures of the sources)"
    ]
    assert tree_digest(tmp_path) == before
