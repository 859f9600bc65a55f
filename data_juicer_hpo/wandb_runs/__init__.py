"""The process that records a local sweep's trials as W&B offline runs beside the sweep:
``python -m data_juicer_hpo.wandb_runs`` (see :mod:`data_juicer_hpo.wandb_runs.__main__`). It imports W&B and
nothing of Data-Juicer or of the plugin's upper layers, so that it starts in a moment."""
