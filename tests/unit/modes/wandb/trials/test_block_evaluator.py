"""When a Ray sweep's trials can run as per-block partial aggregates (modes/wandb/trials/block_evaluator.py), and
the one reason given when they cannot. The engine itself runs on a cluster: tests/e2e/test_ray_blocks.py."""

from types import SimpleNamespace

import pytest

pytest.importorskip("ray")

from data_juicer.ops import load_ops  # noqa: E402

from data_juicer_hpo.modes.wandb.trials.block_evaluator import (  # noqa: E402
    why_not_after_statistics,
    why_not_on_blocks,
)
from data_juicer_hpo.objectives import get_objective  # noqa: E402
from data_juicer_hpo.ops.addressing import Target  # noqa: E402

PROCESS = [
    {"remove_specific_chars_mapper": {"chars_to_remove": "#"}},
    {"text_length_filter": {"min_len": 10, "max_len": 1000}},
    {"character_repetition_filter": {"rep_len": 10, "max_ratio": 0.5}},
]
SWEEP = SimpleNamespace(hyperband=None)


def _scoring(**objectives):
    return SimpleNamespace(objectives=objectives)


def _quality(tmp_path):
    reference = tmp_path / "ref.jsonl"
    reference.write_text('{"text": "good text"}\n')
    return get_objective("quality_score", {"reference": str(reference)})


def test_thresholds_and_reducible_objectives_run_on_blocks(tmp_path):
    ops = load_ops(PROCESS)
    targets = {"text_length_filter.min_len": Target("text_length_filter.min_len", 1, "min_len"),
               "character_repetition_filter.max_ratio": Target("character_repetition_filter.max_ratio", 2,
                                                               "max_ratio")}  # fmt: skip
    scoring = _scoring(
        quality_score=_quality(tmp_path),
        retention=get_objective("retention", {}),
        model_loss=get_objective("model_loss", {"reference": _quality(tmp_path).options["reference"]}),
    )
    assert why_not_on_blocks(SWEEP, scoring, targets, ops, None) is None
    stats = SimpleNamespace(stat_keys={1: ["text_len"], 2: ["char_rep_ratio"]}, aligned=True, prefix_len=3)
    assert why_not_after_statistics(stats, ops) is None


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"mixture": {"dataset.configs[0].weight": 1}}, "a data-mixture sweep"),
        ({"sweep": SimpleNamespace(hyperband=object())}, "hyperband"),
        ({"objective": "kept_tokens"}, "objective kept_tokens needs the kept documents themselves"),
        ({"target": ("character_repetition_filter.rep_len", 2, "rep_len")}, "rep_len is not a filter's threshold"),
        ({"target": ("remove_specific_chars_mapper.chars_to_remove", 0, "chars_to_remove")}, "is not a filter's"),
        ({"process": [{"document_deduplicator": {}}]}, "op #3 (document_deduplicator) is neither a mapper nor"),
    ],
)
def test_what_keeps_the_trials_on_the_driver_is_said(tmp_path, change, reason):
    process = PROCESS + change.get("process", [])
    ops = load_ops(process)
    targets = {"text_length_filter.min_len": Target("text_length_filter.min_len", 1, "min_len")}
    if "target" in change:
        name, position, arg = change["target"]
        targets[name] = Target(name, position, arg)
    objectives = {"quality_score": _quality(tmp_path)}
    if "objective" in change:
        objectives[change["objective"]] = get_objective(change["objective"], {})
    why = why_not_on_blocks(change.get("sweep", SWEEP), _scoring(**objectives), targets, ops, change.get("mixture"))
    assert why is not None and reason in why


def test_what_the_statistics_pass_says_keeps_the_trials_on_the_driver():
    ops = load_ops(PROCESS)
    full = dict(stat_keys={1: ["text_len"], 2: ["char_rep_ratio"]}, aligned=True, prefix_len=3)
    assert "op #2 (character_repetition_filter) got no statistics" in why_not_after_statistics(
        SimpleNamespace(**{**full, "stat_keys": {1: ["text_len"]}}), ops
    )
    assert "changed the number of samples" in why_not_after_statistics(
        SimpleNamespace(**{**full, "aligned": False}), ops
    )
    assert "does not end with a statistic filter" in why_not_after_statistics(
        SimpleNamespace(**{**full, "prefix_len": 2}), ops
    )
