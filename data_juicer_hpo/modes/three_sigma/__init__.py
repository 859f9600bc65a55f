"""``auto_hpo.mode: 3sigma``: every filter's bounds set to mean +/- k*std of its statistic, then the data processed
once (:mod:`.mode`); the rule (:mod:`.bounds`), the plan of changes (:mod:`.plan`), applying them (:mod:`.tune`) and
the histograms (:mod:`.plots`)."""

from data_juicer_hpo.modes.three_sigma.mode import ThreeSigma
from data_juicer_hpo.modes.three_sigma.plan import Change, Skip, plan_bounds
from data_juicer_hpo.modes.three_sigma.tune import tune

__all__ = ["ThreeSigma", "Change", "Skip", "plan_bounds", "tune"]
