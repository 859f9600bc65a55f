"""The ``wandb`` backend's train function, exercised under a real W&B run in offline mode (no server here)."""

import json

import pytest

from tests.helpers.data import varied_texts, write_jsonl, write_yaml
from tests.helpers.recipes import length_recipe
from tests.helpers.runs import BIN, run, wandb_run_info

DRIVER = r"""
import json, sys
import wandb
from data_juicer.config import init_configs
from data_juicer.core import DefaultExecutor
from data_juicer_hpo.data import data_access
from data_juicer_hpo.modes.wandb.backends.wandb_agent import wandb_train_function
from data_juicer_hpo.modes.wandb.checks import load_sweep, validate
from data_juicer_hpo.modes.wandb.trials import Bundles, TrialEvaluator
from data_juicer_hpo.section import section_of

recipe, params, out = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
cfg = init_configs(["--config", recipe])
executor = DefaultExecutor(cfg)
section = section_of(cfg)
sweep = load_sweep(section["hpo_config"], cfg)
sweep, targets, judging, problems = validate(section, cfg, sweep)
assert not problems, problems
original_run = getattr(DefaultExecutor.run, "_dj_hpo_original", DefaultExecutor.run)
access = data_access(executor)
bundles = Bundles(access, cfg, executor.dataset_builder.load_dataset(), cfg.process, {}, targets, access.load_ops)
runner = TrialEvaluator(bundles, targets, judging.objectives[judging.main], extras=judging.extras,
                        original_run=original_run)
records = []
run = wandb.init(mode="offline", dir=out, project="wandb-backend-test", config=params)
value = wandb_train_function(sweep, runner, records, sweep.metric_name, judging.goals)()
run_dir = run.dir
run.finish()
print("RESULT " + json.dumps({"value": value, "states": [r.state for r in records], "run_dir": run_dir,
                             "scores": records[0].scores, "feasible": records[0].feasible}))
"""


def test_train_function_reads_the_run_config_and_logs_the_metric(tmp_path):
    texts = varied_texts(300)
    data = write_jsonl(tmp_path / "d.jsonl", texts)
    sweep = write_yaml(
        tmp_path / "sweep.yaml",
        {
            "method": "random",
            "run_cap": 2,
            "metric": {"name": "retention", "goal": "maximize"},
            "parameters": {"text_length_filter.min_len": {"distribution": "int_uniform", "min": 1, "max": 500}},
        },
    )
    recipe = length_recipe(
        tmp_path / "recipe.yaml",
        data,
        tmp_path / "out" / "kept.jsonl",
        mode="wandb",
        backend="wandb",
        hpo_config=str(sweep),
        constraints=["retention > 0.3"],
    )
    (tmp_path / "driver.py").write_text(DRIVER)
    params = {"text_length_filter.min_len": 250}
    res = run(
        [str(BIN / "python"), str(tmp_path / "driver.py"), str(recipe), json.dumps(params), str(tmp_path)],
        cwd=tmp_path,
        # backend wandb needs credentials before anything is written; the run itself is offline (wandb.init)
        env={"WANDB_API_KEY": "offline-test-key-" + "0" * 23, "NETRC": str(tmp_path / "none")},
    )
    assert res.returncode == 0, res.stderr[-3000:]
    line = next(x for x in (res.stdout + res.stderr).splitlines() if x.startswith("RESULT "))
    result = json.loads(line[len("RESULT ") :])
    expected = sum(1 for t in texts if 250 <= len(t) <= 100000) / len(texts)
    assert result["value"] == pytest.approx(expected)
    assert result["states"] == ["COMPLETE"]
    info = wandb_run_info(tmp_path / "wandb", tmp_path)
    assert info["summary"]["retention"] == pytest.approx(expected)
    assert info["config"]["text_length_filter.min_len"] == 250
    # constraints: logged to the run, and the record the best-recipe choice reads says whether they hold
    assert info["summary"]["feasible"] is (expected > 0.3) and result["feasible"] is (expected > 0.3)
