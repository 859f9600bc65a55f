"""Populations that take rows several times (objectives/views.py: PopulationView, as a data mixture makes them): the
objectives count the rows with their multiplicity."""

import json
from collections import Counter

import datasets
import numpy as np
import pytest

from data_juicer_hpo.objectives import Population, get_objective
from data_juicer_hpo.objectives.tokens import population_streams, token_streams
from data_juicer_hpo.objectives.views import PopulationView, documents, gather_streams

TEXTS = [
    "the cat sat on the mat",
    "a dog ran in the park",
    "the cat ran after the dog",
    "mat mat mat cat",
    "stocks fell sharply on monday",
    "",
]


ROWS = np.array([4, 0, 0, 2, 5, 2, 2, 1])


def test_gathered_streams_equal_tokenizing_the_rows():
    base = token_streams(TEXTS)
    gathered = gather_streams(base, ROWS)
    direct = token_streams([TEXTS[i] for i in ROWS])
    assert np.array_equal(gathered.offsets, direct.offsets) and np.array_equal(gathered.hashes, direct.hashes)


def test_view_is_a_population_of_the_rows_taken():
    base = Population(TEXTS, dataset=datasets.Dataset.from_dict({"text": TEXTS, "n": list(range(len(TEXTS)))}))
    view = PopulationView(base, ROWS)
    assert len(view) == len(ROWS) and view.texts == [TEXTS[i] for i in ROWS]
    assert view.dataset["n"] == ROWS.tolist()
    streams = population_streams(view)  # derived from the base's, which is tokenized once
    assert "tokens.streams" in base.cache and len(streams) == len(ROWS)
    population, docs = documents(view, [7, 1, 2, 3])
    assert population is base and Counter(docs.tolist()) == Counter({0: 2, 2: 1, 1: 1})


@pytest.fixture
def reference(tmp_path):
    path = tmp_path / "ref.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in ["the cat sat on a mat", "the dog ran home"] * 3))
    return str(path)


KEPT = np.array([0, 1, 2, 3, 5, 6, 7])  # view positions: row 2 is kept three times, row 0 twice


def test_model_loss_counts_repeated_rows(reference):
    view = PopulationView(Population(TEXTS), ROWS)
    explicit = Population([TEXTS[i] for i in ROWS])  # the same documents, repeated as separate ones
    scored, expected = get_objective("model_loss", {"reference": reference}), get_objective(
        "model_loss", {"reference": reference}
    )
    value = scored.score(view, KEPT)
    assert value == pytest.approx(expected.score(explicit, KEPT), rel=1e-12)
    once = get_objective("model_loss", {"reference": reference}).score(Population(TEXTS), np.unique(ROWS[KEPT]))
    assert value != pytest.approx(once, rel=1e-9)  # multiplicity changes the model


def test_quality_score_is_set_up_once_on_the_base_and_weighs_repeats(reference):
    base = Population(TEXTS)
    objective = get_objective("quality_score", {"reference": reference})
    objective.setup(base)
    probabilities = objective.probabilities.copy()
    value = objective.score(PopulationView(base, ROWS), KEPT)
    assert objective._population is base  # not retrained per view
    assert value == pytest.approx(float(np.mean(probabilities[ROWS[KEPT]])), rel=1e-12)


def test_retention_is_kept_rows_over_sampled_rows():
    view = PopulationView(Population(TEXTS), ROWS)
    assert get_objective("retention", {}).score(view, KEPT) == pytest.approx(len(KEPT) / len(ROWS))
