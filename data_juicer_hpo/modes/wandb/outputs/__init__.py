"""What a sweep leaves behind, each file written atomically: ``trials.csv`` and ``best_recipe.yaml``
(:mod:`.trials_csv`), the history and importance plots (:mod:`.plots`), parallel coordinates
(:mod:`.parallel_coordinates`) and, with several objectives, the Pareto front (:mod:`.pareto`)."""
