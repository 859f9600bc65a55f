"""Recipe edits (ops/recipe.py): the refined recipe is a copy without the block, dumped with its types."""

import json

import yaml

from data_juicer_hpo.ops.recipe import dump_recipe, refined_recipe


def test_refined_recipe_is_a_copy_without_the_block():
    original = {
        "dataset_path": "d.jsonl",
        "auto_hpo": {"mode": "3sigma"},
        "process": [{"text_length_filter": {"min_len": 10, "max_len": 100, "min_closed_interval": True}}, {"x": None}],
    }
    snapshot = json.loads(json.dumps(original))
    out = refined_recipe(original, {(0, "max_len"): 42, (1, "min_ratio"): 0.5}, [("export_path", "o.jsonl")])
    assert original == snapshot  # input untouched
    assert "auto_hpo" not in out
    args = out["process"][0]["text_length_filter"]
    assert args == {"min_len": 10, "max_len": 42, "min_closed_interval": True}
    assert out["process"][1] == {"x": {"min_ratio": 0.5}}
    assert out["export_path"] == "o.jsonl"


def test_dump_keeps_types(tmp_path):
    recipe = {"process": [{"f": {"min_len": 3, "max_ratio": 0.25, "min_closed_interval": False}}]}
    dump_recipe(recipe, str(tmp_path / "r.yaml"))
    dump_recipe(recipe, str(tmp_path / "r.json"))
    for loaded in (yaml.safe_load((tmp_path / "r.yaml").read_text()), json.loads((tmp_path / "r.json").read_text())):
        args = loaded["process"][0]["f"]
        assert type(args["min_len"]) is int and type(args["max_ratio"]) is float
        assert args["min_closed_interval"] is False
