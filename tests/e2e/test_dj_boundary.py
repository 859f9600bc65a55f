"""The Data-Juicer boundary, on the real ``dj-process``: an ``auto_hpo`` run's bad input is refused before
Data-Juicer prints or writes anything; every executor is either run or refused in one line; a recipe without a
mode runs exactly as Data-Juicer without the plugin (same export, backup and ``cli.yaml`` bytes)."""

import pytest
import yaml

from tests.helpers.data import tree_digest, varied_texts, write_jsonl, write_yaml
from tests.helpers.recipes import PROCESS, SWEEP  # the same small recipe and sweep as the matrix
from tests.helpers.runs import BIN, run

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


# id, auto_hpo section (the sweep file is written when "sweep" is given), top-level recipe changes, expected line
EARLY_ERRORS = [
    ("bad-k", {"mode": "3sigma", "k": 0}, {}, "error: auto_hpo.k: must be a finite number > 0"),
    (
        "missing-sweep-file",
        {"mode": "wandb", "hpo_config": "no-such-sweep.yaml"},
        {},
        "error: auto_hpo.hpo_config: no such file",
    ),
    (
        "unknown-objective",
        {"mode": "wandb", "sweep": {**SWEEP, "metric": {"name": "no_such_objective"}}},
        {},
        "error: auto_hpo.objective: unknown objective 'no_such_objective'",
    ),
    (
        "missing-reference",
        {"mode": "wandb", "sweep": SWEEP, "objective": "model_loss", "reference": "no-such-reference.jsonl"},
        {},
        "error: auto_hpo.reference:",
    ),
    ("missing-dataset", {"mode": "3sigma"}, {"dataset_path": "missing/d.jsonl"}, "error: dataset_path: no such file"),
    (
        "parameter-addresses-nothing",
        {"mode": "wandb", "sweep": {**SWEEP, "parameters": {"text_length_filtr.min_len": {"values": [1, 2]}}}},
        {},
        "error: hpo_config.parameters.text_length_filtr.min_len: addresses nothing",
    ),
    (
        "ray-partitioned-3sigma",
        {"mode": "3sigma"},
        {"executor_type": "ray_partitioned"},
        "error: executor_type: auto_hpo.mode 3sigma does not run on executor_type 'ray_partitioned'",
    ),
    (
        "ray-partitioned-sweep",
        {"mode": "wandb", "sweep": SWEEP},
        {"executor_type": "ray_partitioned"},
        "error: executor_type: auto_hpo.mode wandb does not run on executor_type 'ray_partitioned'",
    ),
]


@pytest.mark.parametrize("case", EARLY_ERRORS, ids=[c[0] for c in EARLY_ERRORS])
def test_bad_input_is_refused_before_anything_is_written(tmp_path, dj_process, case):
    _, section, changes, expected = case
    inputs = tmp_path / "in"
    data = write_jsonl(inputs / "d.jsonl", varied_texts(40))
    section = dict(section)
    if "sweep" in section:
        section["hpo_config"] = str(write_yaml(inputs / "sweep.yaml", section.pop("sweep")))
    if section["mode"] == "wandb":
        section["output_dir"] = str(tmp_path / "hpo")
    else:
        section["path_3sigma_recipe"] = str(tmp_path / "refined" / "recipe.yaml")
    body = {
        "project_name": "early",
        "dataset_path": str(data),
        "export_path": str(tmp_path / "out" / "kept.jsonl"),
        "np": 1,
        "process": PROCESS,
        "auto_hpo": section,
    }
    body.update({k: (str(tmp_path / v) if k == "dataset_path" else v) for k, v in changes.items()})
    recipe = write_yaml(inputs / "recipe.yaml", body)
    before = tree_digest(tmp_path)

    res = dj_process("--config", recipe, env={"WANDB_API_KEY": "", "NETRC": str(tmp_path / "none")})

    assert res.returncode == 1, res.stderr[-3000:]
    assert "Traceback" not in res.stdout + res.stderr, res.stderr[-3000:]
    errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith(expected), res.stderr[-3000:]
    first = res.stderr.splitlines()[:5]
    assert errors[0] in first, first  # before Data-Juicer's config table
    assert tree_digest(tmp_path) == before  # no work_dir, export dir, logs, cli.yaml, backup, output_dir, W&B dir


def test_recipe_without_a_mode_runs_as_without_the_plugin(tmp_path):
    """Same export bytes, same backed-up recipe bytes (a password included: not redacted without a mode), same
    ``cli.yaml`` bytes, with the plugin installed and with its entry point hidden from Data-Juicer."""
    data = write_jsonl(tmp_path / "d.jsonl", varied_texts(150))
    secret = "s3cr3t-pw-991"
    recipe = write_yaml(
        tmp_path / "recipe.yaml",
        {
            "project_name": "plain",
            "dataset_path": str(data),
            "export_path": str(tmp_path / "out" / "processed.jsonl"),
            "job_id": "same-job",
            "np": 1,
            "ray_address": f"ray://admin:{secret}@127.0.0.1:10001",
            "process": [
                {"text_length_filter": {"min_len": 30, "max_len": 400}},
                {"character_repetition_filter": {"rep_len": 10, "max_ratio": 0.4}},
            ],
        },
    )

    def dj_run(hide_plugin: bool):
        # Both runs go through the same driver: Data-Juicer 1.6 would install torch (GBs) from free_models() after
        # every op, so the driver forbids any subprocess install and makes free_models() (which only empties the
        # CUDA cache when no model is loaded) a no-op. The only difference: whether Data-Juicer sees our entry point.
        code = (
            "import importlib.metadata as m, subprocess, sys\n"
            "def refuse(*a, **k): raise RuntimeError('install attempted: %r' % (a,))\n"
            "subprocess.check_call = refuse  # the LazyLoader installs through check_call only\n"
            f"if {hide_plugin!r}:\n"
            "    real = m.entry_points\n"
            "    m.entry_points = lambda **kw: [] if kw.get('group') == 'data_juicer.ops' else real(**kw)\n"
            "import data_juicer.ops.base_op as base_op\n"
            "base_op.free_models = lambda *a, **k: None\n"
            "from data_juicer.tools.process_data import main\n"
            f"sys.argv = ['dj-process', '--config', {str(recipe)!r}]\n"
            "main()\n"
            "import data_juicer_hpo.hooks as h; print('PLUGIN', h.is_installed(), h.is_active())\n"
        )
        # the plugin's opt-in install guard stays off: Data-Juicer's own install behaviour is part of what we compare
        res = run([str(BIN / "python"), "-c", code], cwd=tmp_path, env={"DJ_HPO_BLOCK_RUNTIME_INSTALLS": ""})
        assert res.returncode == 0, res.stderr[-3000:]
        work_dir = tmp_path / "out" / "same-job"
        files = {
            "export": (tmp_path / "out" / "processed.jsonl").read_bytes(),
            "backup": (work_dir / "recipe.yaml").read_bytes(),
            "cli.yaml": (work_dir / "cli.yaml").read_bytes(),
        }
        (tmp_path / "out").rename(tmp_path / ("out-hidden" if hide_plugin else "out-plugin"))
        return res, files

    with_plugin, plugin_files = dj_run(hide_plugin=False)
    bare, bare_files = dj_run(hide_plugin=True)
    # Data-Juicer redirects stdout into its log on stderr
    assert "PLUGIN True False" in with_plugin.stderr and "PLUGIN False False" in bare.stderr
    assert "Discovered 1 operator plugin" in with_plugin.stderr and "operator plugin" not in bare.stderr
    assert plugin_files == bare_files
    assert secret in plugin_files["backup"].decode()  # Data-Juicer's own backup: a copy of the recipe
    assert plugin_files["backup"] == recipe.read_bytes()
    kept = [yaml.safe_load(line)["text"] for line in plugin_files["export"].decode().splitlines()]
    assert kept and all(30 <= len(text) <= 400 for text in kept)


def test_a_recipe_without_a_mode_on_ray_partitioned_is_untouched(tmp_path):
    """No mode: neither the executors nor anything else but the parser is patched, whatever the executor."""
    data = write_jsonl(tmp_path / "d.jsonl", ["a text", "another text"])
    recipe = write_yaml(
        tmp_path / "recipe.yaml",
        {
            "dataset_path": str(data),
            "executor_type": "ray_partitioned",
            "process": PROCESS,
            "auto_hpo": {"k": 2.0},  # a section without a mode is only parsed
        },
    )
    code = (
        "from data_juicer.config import init_configs\n"
        f"cfg = init_configs(['--config', {str(recipe)!r}], load_configs_only=True)\n"
        "from data_juicer.core.executor.ray_executor_partitioned import PartitionedRayExecutor\n"
        "import data_juicer.config.config as c, data_juicer_hpo.hooks as h\n"
        "print('EXECUTOR', cfg.executor_type, cfg.auto_hpo.k, h.is_installed(), h.is_active(),\n"
        "      hasattr(PartitionedRayExecutor.run, '_dj_hpo_original'),\n"
        "      hasattr(c.init_setup_from_cfg, '_dj_hpo_original'), hasattr(c.config_backup, '_dj_hpo_original'))\n"
    )
    res = run([str(BIN / "python"), "-c", code], cwd=tmp_path, env={"DJ_HPO_BLOCK_RUNTIME_INSTALLS": ""})
    assert res.returncode == 0, res.stderr[-3000:]
    assert "EXECUTOR ray_partitioned 2.0 True False False False False" in res.stdout, res.stdout + res.stderr[-2000:]


@pytest.mark.parametrize(
    "name, flags",
    [
        ("execute_hpo_3sigma.py", ["--config", "--path_3sigma_recipe", "--path_k_sigma_recipe", "--auto_hpo.k"]),
        ("execute_hpo_wandb.py", ["--config", "--hpo_config", "--auto_hpo.KEY"]),
    ],
)
@pytest.mark.parametrize("help_flag", ["--help", "-h"])
def test_script_help_is_its_own(script, name, flags, help_flag):
    res = script(name, help_flag)
    assert res.returncode == 0, res.stderr[-2000:]
    lines = res.stdout.splitlines()
    assert lines[0].startswith(f"usage: {name} --config RECIPE.yaml"), lines[:3]
    options = [line.split()[0] for line in lines if line.startswith("  -")]
    for flag in flags:
        assert flag in options, (flag, options)
    assert "dj-process --help" in lines[-1]
    assert len(lines) < 30 and res.stderr == ""  # not Data-Juicer's 600-line help, no log line


@pytest.mark.parametrize(
    "name, args, expected",
    [
        ("execute_hpo_3sigma.py", ["--auto_hpo.k", "-1"], "error: auto_hpo.k: must be a finite number > 0"),
        ("execute_hpo_wandb.py", ["--hpo_config", "no-such-sweep.yaml"], "error: auto_hpo.hpo_config: no such file"),
    ],
)
def test_scripts_refuse_bad_input_before_anything_is_written(tmp_path, script, name, args, expected):
    data = write_jsonl(tmp_path / "in" / "d.jsonl", varied_texts(40))
    recipe = write_yaml(
        tmp_path / "in" / "recipe.yaml",
        {"dataset_path": str(data), "export_path": str(tmp_path / "out" / "kept.jsonl"), "process": PROCESS},
    )
    before = tree_digest(tmp_path)
    res = script(name, "--config", recipe, *args)
    assert res.returncode == 1 and "Traceback" not in res.stdout + res.stderr, res.stderr[-3000:]
    errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith(expected), res.stderr[-3000:]
    assert errors[0] in res.stderr.splitlines()[:5]
    assert tree_digest(tmp_path) == before


@pytest.mark.ray
def test_ray_partitioned_without_a_mode_runs_as_data_juicer(tmp_path, ray_runner):
    """A real ray_partitioned run of a recipe without a mode, on a local Ray cluster: Data-Juicer's own result."""
    import glob
    import json

    texts = varied_texts(200)
    data = write_jsonl(tmp_path / "d.jsonl", texts)
    recipe = write_yaml(
        tmp_path / "recipe.yaml",
        {
            "executor_type": "ray_partitioned",
            "ray_address": "auto",
            "dataset_path": str(data),
            "export_path": str(tmp_path / "out" / "kept.jsonl"),
            "process": [{"text_length_filter": {"min_len": 30, "max_len": 400}}],
            "auto_hpo": {"k": 2.0},
        },
    )
    res = ray_runner([BIN / "dj-process", "--config", recipe], cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "auto_hpo[" not in res.stdout + res.stderr  # no mode ran
    export = tmp_path / "out" / "kept.jsonl"
    files = sorted(glob.glob(str(export / "*.json*"))) if export.is_dir() else [str(export)]
    kept = [json.loads(line)["text"] for f in files for line in open(f, encoding="utf-8") if line.strip()]
    assert sorted(kept) == sorted(t for t in texts if 30 <= len(t) <= 400)
