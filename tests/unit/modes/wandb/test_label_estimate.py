"""What the labels say a choice is worth (modes/wandb/label_estimate.py): stratified folds, bootstrap intervals
against resamples made one document at a time, and the cross-validated selection against a brute-force loop."""

import numpy as np
import pytest

from data_juicer_hpo.engine import TrialRecord
from data_juicer_hpo.engine.goals import Constraint, Goals
from data_juicer_hpo.modes.wandb.label_estimate import (
    bootstrap,
    cross_validate,
    difference,
    resample_weights,
    stratified_folds,
)
from data_juicer_hpo.objectives import get_objective

from tests.helpers.labels import youden


def test_folds_are_stratified_and_seeded():
    truth = np.array([True] * 37 + [False] * 23)
    folds = stratified_folds(truth, 5, seed=1)
    assert sorted(set(folds.tolist())) == [0, 1, 2, 3, 4]
    for label in (True, False):
        sizes = np.bincount(folds[truth == label], minlength=5)
        assert sizes.max() - sizes.min() <= 1
    sizes = np.bincount(folds, minlength=5)
    assert sizes.max() - sizes.min() <= 1
    assert np.array_equal(folds, stratified_folds(truth, 5, seed=1))
    assert not np.array_equal(folds, stratified_folds(truth, 5, seed=2))


def test_bootstrap_against_resamples_made_one_document_at_a_time():
    rng = np.random.default_rng(0)
    truth = rng.random(80) < 0.5
    chosen, written = rng.random(80) < 0.5, np.ones(80, dtype=bool)
    weights = resample_weights(80, 300, seed=2)
    assert weights.shape == (300, 80) and np.all(weights.sum(axis=1) == 80)
    boot = bootstrap("youden", truth, {"chosen": chosen, "written": written}, weights)
    by_hand = []
    for row in weights:
        docs = np.repeat(np.arange(80), row)
        by_hand.append(youden(truth[docs], chosen[docs]))
    assert boot["chosen"]["_resampled"] == pytest.approx(by_hand)
    assert boot["chosen"]["interval95"] == pytest.approx(np.percentile(by_hand, [2.5, 97.5]).tolist())
    assert boot["chosen"]["value"] == pytest.approx(youden(truth, chosen))
    assert boot["written"]["value"] == 0.0 and boot["written"]["interval95"] == [0.0, 0.0]
    assert boot["chosen"]["good_kept"] == pytest.approx(chosen[truth].mean())
    assert boot["chosen"]["bad_kept"] == pytest.approx(chosen[~truth].mean())
    versus = difference(boot["chosen"], boot["written"])
    assert versus["value"] == pytest.approx(boot["chosen"]["value"])
    assert versus["distinguishable"] == (versus["interval95"][0] > 0 or versus["interval95"][1] < 0)


def test_a_perfect_decision_is_distinguishable_and_a_coin_is_not():
    rng = np.random.default_rng(7)
    truth = rng.random(300) < 0.4
    weights = resample_weights(300, 1000)
    decisions = {"perfect": truth, "coin": rng.random(300) < 0.5, "all": np.ones(300, bool)}
    boot = bootstrap("youden", truth, decisions, weights)
    assert difference(boot["perfect"], boot["all"])["distinguishable"]
    assert not difference(boot["coin"], boot["all"])["distinguishable"]


def _labels_objective(tmp_path, truth):
    path = tmp_path / "l.jsonl"
    path.write_text("".join(f'{{"text": "d{i}", "keep": {str(t).lower()}}}\n' for i, t in enumerate(truth)))
    objective = get_objective("labels", {"labels": {"path": str(path)}})
    assert objective.validate() == []
    return objective


@pytest.mark.parametrize("constrained", [False, True])
def test_cross_validation_against_a_brute_force_loop(tmp_path, constrained):
    rng = np.random.default_rng(11)
    n, k = 90, 3
    truth = rng.random(n) < 0.5
    objective = _labels_objective(tmp_path, truth)
    # 25 trials: noisy copies of the truth, a few better than others; retention recorded, as a sweep records it
    masks = {}
    records = []
    for number in range(25):
        flip = rng.random(n) < rng.uniform(0.05, 0.5)
        masks[number] = truth ^ flip
        retention = float(masks[number].mean())
        scores = {"labels": youden(truth, masks[number]), "retention": retention}
        feasible = retention >= 0.5 if constrained else None
        records.append(TrialRecord(number, "COMPLETE", {}, scores["labels"], None, 1.0, None, None, scores, feasible))
    constraints = (Constraint("retention", ">=", 0.5),) if constrained else ()
    goals = Goals((("labels", "maximize"),), constraints)
    got = cross_validate(records, goals, None, {"labels": objective}, masks, truth, k, seed=3)

    folds = stratified_folds(truth, k, seed=3)
    held = np.zeros(n, dtype=bool)
    expected_chosen, expected_per_fold = [], []
    for fold in range(k):
        train = [i for i in range(n) if folds[i] != fold]
        test = [i for i in range(n) if folds[i] == fold]
        best, best_value = None, None
        for r in records:  # in number order: a later trial must be strictly better to win
            if constrained and not r.scores["retention"] >= 0.5:
                continue
            value = youden([truth[i] for i in train], [masks[r.number][i] for i in train])
            if best_value is None or value > best_value:
                best, best_value = r.number, value
        expected_chosen.append(best)
        for i in test:
            held[i] = masks[best][i]
        expected_per_fold.append(youden([truth[i] for i in test], [masks[best][i] for i in test]))
    assert got["chosen_trials"] == expected_chosen
    assert got["per_fold"] == pytest.approx(expected_per_fold)
    assert got["pooled"]["labels"] == pytest.approx(youden(truth, held))
