"""Sweep parameters addressing op arguments (ops/addressing.py): values of parsed thresholds are checked and written as
the recipe writes them."""


def test_sweep_values_of_parsed_thresholds_are_checked():
    from data_juicer.ops import OPERATORS

    from data_juicer_hpo.engine.sweep_file.parameters import parse_parameters
    from data_juicer_hpo.ops.addressing import apply_params, recipe_problems, resolve_targets

    process = [{"image_size_filter": {"max_size": "1MB"}}, {"video_aspect_ratio_filter": {}}]
    raw = {
        "image_size_filter.max_size": {"values": ["10KB", 20000, "1.5MB"]},
        "video_aspect_ratio_filter.min_ratio": {"values": ["16/9", 0.5, "wide"]},
    }
    targets, problems = resolve_targets(raw, process, OPERATORS.modules, [])
    assert not problems and targets["image_size_filter.max_size"].parse == "size"
    specs, problems = parse_parameters(raw, "hpo_config.parameters")
    assert not problems
    problems = recipe_problems(process, targets, specs, OPERATORS.modules)
    assert any("image_size_filter.max_size is a size" in p and "'1.5MB'" in p for p in problems)
    assert any("video_aspect_ratio_filter.min_ratio is a ratio" in p and "'wide'" in p for p in problems)
    assert len(problems) == 2
    out, _ = apply_params(process, targets, {"image_size_filter.max_size": 20000})
    assert out[0]["image_size_filter"]["max_size"] == "20000"
