"""BLAS threads while a block runs (objectives/blas.py)."""

import numpy as np
import pytest

from data_juicer_hpo.objectives import blas


def test_blas_threads_sets_the_count_inside_the_block_and_restores_it():
    setter = blas._local_setter()
    if setter is None:
        pytest.skip("this numpy's BLAS cannot set its thread count")
    before = setter(3)  # the setter returns the count it replaces
    with blas.blas_threads(1):
        assert setter(1) == 1
        a = np.arange(120.0).reshape(12, 10)
        assert np.array_equal(a @ a.T, np.einsum("ij,kj->ik", a, a))
    assert setter(before) == 3  # restored on leaving


def test_blas_threads_is_harmless_without_a_setter(monkeypatch):
    monkeypatch.setattr(blas, "_SETTER", [None])
    with blas.blas_threads(1):
        assert np.ones(3) @ np.ones(3) == 3.0
