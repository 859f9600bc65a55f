"""The numpy logistic regression of the quality classifier (objectives/logistic.py)."""

import numpy as np
import pytest

from data_juicer_hpo.objectives.features import hashed_ngram_features
from data_juicer_hpo.objectives.logistic import fit_logistic
from data_juicer_hpo.objectives.tokens import token_streams


def test_logistic_regression_separates_and_is_deterministic():
    good = ["the report was approved by the council"] * 5 + ["the council will publish the report"] * 5
    bad = ["lol omg free prize now"] * 5 + ["omg u r gr8 lol"] * 5
    streams = token_streams(good + bad)
    rows = hashed_ngram_features(streams, np.arange(20), 2**10)
    labels = np.array([1] * 10 + [0] * 10)
    model = fit_logistic(rows, labels)
    p = model.predict_proba(rows)
    assert p[:10].min() > 0.8 and p[10:].max() < 0.2
    again = fit_logistic(rows, labels)
    assert np.array_equal(model.weights, again.weights) and model.intercept == again.intercept
    with pytest.raises(ValueError):
        fit_logistic(rows, labels[:3])
