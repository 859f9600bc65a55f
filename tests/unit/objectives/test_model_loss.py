"""model_loss: more good text lowers the loss, the reference is never trained on, chunks and processes count the
same (the counting shortcut itself: test_bigram_lm.py)."""

import json
import math

import numpy as np
import pytest

from data_juicer_hpo.objectives import Population, get_objective
from data_juicer_hpo.objectives.bigram_lm import bigram_counts, cross_entropy, held_out
from data_juicer_hpo.objectives.tokens import token_streams

from tests.helpers.texts import BAD as BAD_WORDS
from tests.helpers.texts import GOOD, word_docs

BAD = BAD_WORDS + ["the"]  # this spam shares one word, "the", with the good text


@pytest.fixture
def reference(tmp_path):
    path = tmp_path / "ref.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in word_docs(GOOD, 20, seed=1)))
    return str(path)


@pytest.fixture
def population():
    return Population(word_docs(GOOD, 40, seed=2) + word_docs(BAD, 40, seed=3))


def test_good_text_beats_bad_text_and_more_beats_less(reference, population):
    objective = get_objective("model_loss", {"reference": reference})
    assert objective.validate() == [] and objective.goal == "minimize"
    objective.setup(population)
    good_all = objective.score(population, np.arange(40))
    good_few = objective.score(population, np.arange(4))
    bad_all = objective.score(population, np.arange(40, 80))
    assert good_all < good_few < objective.worst()
    assert good_all < bad_all
    assert objective.worst() == pytest.approx(math.log(2**18))


def test_the_reference_is_never_trained_on(reference, population):
    objective = get_objective("model_loss", {"reference": reference})
    with_reference = Population(population.texts + word_docs(GOOD, 20, seed=1))
    objective.setup(with_reference)
    # Training on the held-out text itself would be a leak: it must beat unseen text of the same kind by far.
    leaked = objective.score(with_reference, np.arange(80, 100))
    unseen = objective.score(with_reference, np.arange(20))
    assert leaked < unseen  # the model does see the text it is trained on ...
    objective.setup(population)
    assert objective.score(population, np.arange(20)) == pytest.approx(unseen)  # ... but setup adds nothing


def test_counts_of_chunks_join_to_the_counts_of_the_whole(monkeypatch, reference, population):
    from data_juicer_hpo.objectives import model_loss, tokens
    from data_juicer_hpo.objectives.bigram_lm import BigramCounts, joined_counts

    texts = list(population.texts) + ["", "one", ""]
    evaluation = held_out(token_streams(word_docs(GOOD, 20, seed=1)), 2**18)
    whole = bigram_counts(token_streams(texts), evaluation)
    parts = [bigram_counts(streams, evaluation) for _, streams in tokens.chunked_streams(texts, 7)]
    joined = joined_counts(parts)
    for field in BigramCounts.__dataclass_fields__:
        a, b = getattr(whole, field), getattr(joined, field)
        assert a.dtype == b.dtype and np.array_equal(a, b), field
    assert joined_counts([]).words.size == 0
    monkeypatch.setattr(model_loss, "SETUP_CHUNK_DOCS", 7)
    objective = get_objective("model_loss", {"reference": reference})
    objective.setup(Population(texts))
    for docs in (np.arange(len(texts)), np.arange(0, len(texts), 3), np.array([40, 41, 82])):
        assert objective.score(Population(texts), docs) == cross_entropy(whole, evaluation, docs)


def test_setup_in_worker_processes_counts_the_same(monkeypatch, reference, population):
    from types import SimpleNamespace

    from data_juicer_hpo.objectives import model_loss

    monkeypatch.setattr(model_loss, "SETUP_CHUNK_DOCS", 9)
    one = get_objective("model_loss", {"reference": reference})
    one.setup(Population(population.texts))
    two = get_objective("model_loss", {"reference": reference})
    two.setup(Population(population.texts, cfg=SimpleNamespace(np=2)))
    for field in one._counts.__dataclass_fields__:
        assert np.array_equal(getattr(one._counts, field), getattr(two._counts, field)), field
