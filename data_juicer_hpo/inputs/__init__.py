"""The user's input files read safely: YAML within a size and an alias-expansion limit (:mod:`.yaml_limits`)."""

from data_juicer_hpo.inputs.yaml_limits import MAX_BYTES, MAX_NODES, has_top_key, load_yaml, yaml_problem

__all__ = ["MAX_BYTES", "MAX_NODES", "load_yaml", "yaml_problem", "has_top_key"]
