"""The labelled documents (modes/wandb/trials/labelled.py): Data-Juicer's own ops judge them as they judge the data
-- a mapper applied first, the filters' decision checked against numpy on the mapped texts --, and the recipes they
cannot go through are refused by name."""

import json

import numpy as np
from data_juicer.ops import load_ops

from data_juicer_hpo.modes.wandb.trials import Bundles
from data_juicer_hpo.modes.wandb.trials.labelled import LabelledSet, labelled_recipe_problems
from data_juicer_hpo.objectives import get_objective
from data_juicer_hpo.ops.addressing import Target

PROCESS = [
    {"whitespace_normalization_mapper": {}},
    {"text_length_filter": {"min_len": 10, "max_len": 60}},
]
TARGETS = {
    "text_length_filter.min_len": Target("text_length_filter.min_len", 1, "min_len"),
    "text_length_filter.max_len": Target("text_length_filter.max_len", 1, "max_len"),
}


class _Cfg(dict):
    pass


def _labelled(tmp_path):
    rng = np.random.default_rng(4)
    texts = ["word\u2003" * int(k) for k in rng.integers(1, 30, size=40)]  # an em space the mapper makes a space
    rows = [{"text": t, "keep": i % 3 != 0, "meta": {"i": i}} for i, t in enumerate(texts)]
    path = tmp_path / "labels.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    objective = get_objective("labels", {"labels": {"path": str(path)}})
    assert objective.validate() == []
    return objective, texts


def test_the_filters_decide_on_the_mapped_labelled_documents(tmp_path):
    objective, texts = _labelled(tmp_path)
    data = Bundles(None, _Cfg(), None, PROCESS, {}, TARGETS, load_ops)  # the data's bundles: only their recipe is used
    labelled = LabelledSet.of([objective], data)
    assert len(labelled) == 40 and LabelledSet.of([get_objective("retention", {})], data) is None
    lengths = np.array([len(t.replace("\u2003", " ").strip()) for t in texts])  # what the mapper leaves
    wide = {"text_length_filter.min_len": 5, "text_length_filter.max_len": 100}
    for params in [{}, {"text_length_filter.min_len": 30}, wide]:
        low = params.get("text_length_filter.min_len", 10)
        high = params.get("text_length_filter.max_len", 60)
        expected = np.flatnonzero((lengths >= low) & (lengths <= high))
        assert labelled.kept(params).tolist() == expected.tolist()
        assert labelled.mask(params).tolist() == [i in set(expected.tolist()) for i in range(40)]


def test_recipes_the_labelled_documents_cannot_go_through():
    process = [
        {"text_length_filter": {"min_len": 1}},
        {"document_deduplicator": {}},
        {"random_selector": {"select_num": 5}},
        {"whitespace_normalization_mapper": {}},
    ]
    problems = labelled_recipe_problems(process)
    assert [p.split(";")[0] for p in problems] == [
        "auto_hpo.labels: process[1] document_deduplicator decides on the whole dataset",
        "auto_hpo.labels: process[2] random_selector decides on the whole dataset",
    ]
    assert labelled_recipe_problems(PROCESS) == []
