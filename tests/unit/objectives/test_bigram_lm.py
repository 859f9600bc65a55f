"""The bigram language model of model_loss (objectives/bigram_lm.py): the counting shortcut matches the model written
out token by token."""

import math
from collections import Counter

import numpy as np
import pytest

from data_juicer_hpo.objectives.bigram_lm import bigram_counts, cross_entropy, held_out
from data_juicer_hpo.objectives.tokens import token_streams


def _naive_loss(train_texts, eval_texts, n_buckets, k, beta):
    """The model written out token by token with dictionaries."""

    def ids(text):
        return [int(h % n_buckets) for h in token_streams([text]).hashes]

    unigram, pairs, contexts = Counter(), Counter(), Counter()
    for text in train_texts:
        words = ids(text)
        unigram.update(words)
        contexts.update(words[:-1])
        pairs.update(zip(words[:-1], words[1:]))
    total = sum(unigram.values())

    def p_word(w):
        return (unigram[w] + k) / (total + k * n_buckets)

    log_sum, n = 0.0, 0
    for text in eval_texts:
        words = ids(text)
        for i, w in enumerate(words):
            if i == 0:
                p = p_word(w)
            else:
                v = words[i - 1]
                p = (pairs[(v, w)] + beta * p_word(w)) / (contexts[v] + beta)
            log_sum += math.log(p)
            n += 1
    return -log_sum / n


@pytest.mark.parametrize("k, beta", [(1.0, 1000.0), (0.5, 2.0)])
def test_matches_the_naive_model(k, beta):
    train = ["a b c a b", "", "b b a", "c", "a b d e"]
    evaluation_texts = ["a b c", "b a", "x a b"]
    evaluation = held_out(token_streams(evaluation_texts), 64)
    counts = bigram_counts(token_streams(train), evaluation)
    for docs in ([0, 1, 2, 3, 4], [2], [0, 4], [3]):
        expected = _naive_loss([train[i] for i in docs], evaluation_texts, 64, k, beta)
        assert cross_entropy(counts, evaluation, np.array(docs), k, beta) == pytest.approx(expected, rel=1e-12)
    assert cross_entropy(counts, evaluation, np.array([], dtype=int), k, beta) == pytest.approx(math.log(64))
