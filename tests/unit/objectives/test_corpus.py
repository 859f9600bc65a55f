"""quality_score and model_loss on the real corpora of ../shared/data (skipped when absent, failed in CI)."""

import gzip
import json

import numpy as np
import pytest

from data_juicer_hpo.objectives import Population, get_objective
from data_juicer_hpo.objectives.tokens import token_streams

from tests.helpers.runs import SHARED_DATA

pytestmark = [pytest.mark.corpus, pytest.mark.usefixtures("shared_data")]  # conftest: skip, or fail in CI
N_BENCH = 6000  # the bench corpus is shuffled, so its head is a fair sample of every source
JUNK = {"tweeteval", "xlm_t_tweets", "sms_spam_collection", "enron_spam"}


def _read(name, limit=None):
    rows = []
    with gzip.open(SHARED_DATA / name, "rt", encoding="utf-8") as f:
        for line in f:
            if limit is not None and len(rows) >= limit:
                break
            rows.append(json.loads(line))
    return rows


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    """Bench head, and the reference split 80/20 into a training file and held-out texts."""
    bench = _read("bench-corpus.jsonl.gz", N_BENCH)
    reference = [row["text"] for row in _read("reference-clean.jsonl.gz")]
    order = np.random.default_rng(0).permutation(len(reference))
    cut = int(0.8 * len(reference))
    train, held = [reference[i] for i in order[:cut]], [reference[i] for i in order[cut:]]
    folder = tmp_path_factory.mktemp("reference")
    paths = {}
    for name, texts in (("train", train), ("held", held)):
        paths[name] = folder / f"{name}.jsonl.gz"
        with gzip.open(paths[name], "wt", encoding="utf-8") as f:
            f.writelines(json.dumps({"text": t}) + "\n" for t in texts)
    return {
        "texts": [row["text"] for row in bench],
        "sources": np.array([row["meta"]["source"] for row in bench]),
        "train": train,
        "held": held,
        "paths": {name: str(path) for name, path in paths.items()},
    }


def test_quality_score_ranks_held_out_reference_far_above_tweets_sms_and_spam(corpora):
    # The held-out reference documents are put into the input, as good documents a filter should keep.
    population = Population(corpora["texts"] + corpora["held"])
    held = np.arange(N_BENCH, len(population))
    junk = np.flatnonzero(np.isin(corpora["sources"], list(JUNK)))
    objective = get_objective("quality_score", {"reference": corpora["paths"]["train"]})
    assert objective.validate() == []
    objective.setup(population)
    held_score, junk_score = objective.score(population, held), objective.score(population, junk)
    assert held_score > 0.7
    assert junk_score < 0.15
    assert objective.score(population, np.arange(N_BENCH)) < held_score - 0.5
    again = get_objective("quality_score", {"reference": corpora["paths"]["train"]})
    again.setup(Population(population.texts))
    assert np.array_equal(objective.probabilities, again.probabilities)


def test_model_loss_rewards_reference_like_text_and_more_of_it(corpora):
    population = Population(corpora["texts"] + corpora["train"])
    train = np.arange(N_BENCH, len(population))
    tweets = np.flatnonzero(np.isin(corpora["sources"], ["tweeteval", "xlm_t_tweets"]))
    objective = get_objective("model_loss", {"reference": corpora["paths"]["held"]})
    assert objective.validate() == []
    objective.setup(population)
    # Same number of training tokens on both sides: quality alone decides.
    tweet_tokens = len(token_streams([population.texts[i] for i in tweets]).hashes)
    lengths = token_streams([population.texts[i] for i in train]).lengths
    like_reference = train[: np.searchsorted(np.cumsum(lengths), tweet_tokens)]
    assert len(like_reference) > 0
    assert objective.score(population, like_reference) < objective.score(population, tweets) - 0.3
    # Same distribution, more documents: quantity decides.
    losses = [objective.score(population, train[: len(train) // d]) for d in (10, 3, 1)]
    assert losses[0] > losses[1] > losses[2]
    assert objective.worst() > losses[0]
