"""``auto_hpo.mode: wandb``: a W&B sweep over the recipe whose train function is the executor (:mod:`.mode`).

The checks before any trial (:mod:`.checks`), how trials are judged (:mod:`.scoring`), sweep values fitted to integer
arguments (:mod:`.int_arguments`), the trials themselves (:mod:`.trials`: the evaluator, the statistics bundles, the
keep masks, mixtures), where they run (:mod:`.backends`: ``local`` on the engine, ``wandb`` with a W&B agent), and
what a finished sweep writes (:mod:`.results`, :mod:`.outputs`).
"""

from data_juicer_hpo.modes.wandb.mode import WandbSweep

__all__ = ["WandbSweep"]
