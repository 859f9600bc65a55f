"""auto_hpo.sample (data/sampling.py, section.sample_problem, LocalData.sample): keys computed independently here
(BLAKE2b of the text, the seed as its key), the N smallest or the fraction below f * 2^64, the same whatever the
split into parts, and every bad value refused in one line."""

import hashlib

import numpy as np
import pytest
from datasets import Dataset

from data_juicer_hpo.data.local import LocalData
from data_juicer_hpo.data.sampling import document_keys, sample_spec, smallest_keys, threshold_of
from data_juicer_hpo.section import sample_problem

TEXTS = [f"document {i} " + "x" * (i % 17) for i in range(2_000)]


def _key(text, seed, media=()):
    h = hashlib.blake2b(text.encode("utf-8"), digest_size=8, key=seed.to_bytes(8, "little", signed=True))
    for paths in media:
        h.update(b"\0" + ("[" + ", ".join(f'"{p}"' for p in paths) + "]").encode("utf-8"))
    return int.from_bytes(h.digest(), "little")


def test_keys_are_a_keyed_hash_of_the_text_and_media():
    keys = document_keys(TEXTS[:50], seed=7)
    assert [int(k) for k in keys] == [_key(t, 7) for t in TEXTS[:50]]
    with_media = document_keys(["a", "a"], [[["x.png"], ["y.png"]]], seed=7)
    assert [int(k) for k in with_media] == [_key("a", 7, [["x.png"]]), _key("a", 7, [["y.png"]])]
    assert document_keys(TEXTS[:5], seed=8).tolist() != keys[:5].tolist()


@pytest.mark.parametrize("parts", [1, 3, 11])
def test_a_count_keeps_the_n_smallest_keys_whatever_the_parts(parts):
    keys = document_keys(TEXTS, seed=3)
    n = 250
    pieces = np.array_split(keys, parts)
    threshold = threshold_of(("count", n), [smallest_keys(p, n) for p in pieces], keys.size)
    chosen = np.flatnonzero(keys <= threshold)
    want = sorted(range(len(TEXTS)), key=lambda i: _key(TEXTS[i], 3))[:n]
    assert sorted(chosen.tolist()) == sorted(want)


def test_a_fraction_keeps_the_keys_below_it_and_a_count_above_the_size_keeps_all():
    keys = document_keys(TEXTS, seed=0)
    threshold = threshold_of(("fraction", 0.3), [], keys.size)
    chosen = keys <= threshold
    assert chosen.tolist() == [_key(t, 0) < int(0.3 * 2**64) for t in TEXTS]
    assert 0.25 < chosen.mean() < 0.35
    assert threshold_of(("count", 2_000), [smallest_keys(keys, 2_000)], keys.size) is None


def test_local_data_draws_the_same_documents():
    dataset = Dataset.from_dict({"text": TEXTS, "n": list(range(len(TEXTS)))})
    sample = LocalData(None).sample(dataset, sample_spec(100), 5, "text")
    want = sorted(range(len(TEXTS)), key=lambda i: _key(TEXTS[i], 5))[:100]
    assert sorted(sample["n"]) == sorted(want)
    assert LocalData(None).sample(dataset, sample_spec(5_000), 5, "text") is dataset


@pytest.mark.parametrize("value", [0.5, 2, 2.0, 1_000, 0.0001])
def test_valid_samples(value):
    assert sample_problem("auto_hpo.sample", value) is None


@pytest.mark.parametrize("value", [0, 1, 1.0, -3, 2.5, float("nan"), float("inf"), True, "10"])
def test_bad_samples_are_one_line_naming_the_key(value):
    problem = sample_problem("auto_hpo.sample", value)
    assert problem.startswith("auto_hpo.sample: must be") and "\n" not in problem
