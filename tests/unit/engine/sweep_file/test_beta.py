"""The beta distribution's CDF and its inverse (engine/sweep_file/beta.py), against closed forms."""

import pytest

from data_juicer_hpo.engine.sweep_file.beta import beta_cdf, beta_ppf


def test_beta_cdf_matches_closed_forms_and_ppf_inverts_it():
    for x in (0.01, 0.2, 0.5, 0.77, 0.99):
        assert beta_cdf(x, 1.0, 1.0) == pytest.approx(x, abs=1e-12)
        assert beta_cdf(x, 1.0, 3.5) == pytest.approx(1 - (1 - x) ** 3.5, abs=1e-12)
        assert beta_cdf(x, 2.0, 1.0) == pytest.approx(x**2, abs=1e-12)
        for a, b in ((0.3, 0.7), (2.0, 5.0), (30.0, 4.0)):
            assert beta_cdf(beta_ppf(x, a, b), a, b) == pytest.approx(x, abs=1e-10)
