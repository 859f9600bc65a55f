"""A sweep's trials: the evaluator that scores one trial (:mod:`.evaluator`), what trials sharing statistic-shaping
values share (:mod:`.bundles`), which samples a trial keeps (:mod:`.keep_masks`) and a mixture sweep's rows
(:mod:`.mixtures`)."""

from data_juicer_hpo.modes.wandb.trials.bundles import Bundle, Bundles
from data_juicer_hpo.modes.wandb.trials.evaluator import TrialEvaluator
from data_juicer_hpo.modes.wandb.trials.keep_masks import KeepMasks
from data_juicer_hpo.modes.wandb.trials.mixtures import SourceMixture

__all__ = ["Bundle", "Bundles", "KeepMasks", "SourceMixture", "TrialEvaluator"]
