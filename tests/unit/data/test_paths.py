"""What a run reads and writes (data/paths.py): outputs that would overwrite an input, sit in a directory read as
data, or that Data-Juicer cannot write are refused in one line each; full places are named."""

import os

from data_juicer_hpo.data.paths import (
    export_problems,
    free_space_problem,
    inputs_of,
    output_dir_problems,
    output_file_problem,
)
from data_juicer_hpo.section import section_of


def _cfg(tmp_path, **keys):
    (tmp_path / "d.jsonl").write_text('{"text": "a"}\n')
    (tmp_path / "recipe.yaml").write_text("process: []\n")
    cfg = {"config": [str(tmp_path / "recipe.yaml")], "dataset_path": str(tmp_path / "d.jsonl"), **keys}
    return cfg, section_of({"auto_hpo": {"mode": "wandb", **cfg.pop("auto_hpo", {})}})


def test_an_export_over_an_input_or_in_a_directory_read_as_data_is_refused(tmp_path):
    cfg, section = _cfg(tmp_path, export_path=str(tmp_path / "d.jsonl"))
    inputs = inputs_of(cfg, section)
    assert ("dataset_path", str(tmp_path / "d.jsonl")) in inputs and (
        "the recipe",
        str(tmp_path / "recipe.yaml"),
    ) in inputs
    assert export_problems(cfg, inputs) == [
        f"export_path: would overwrite the input dataset_path ({tmp_path / 'd.jsonl'}); give another path"
    ]
    # the same file through a relative path and a symlink
    os.symlink(tmp_path / "d.jsonl", tmp_path / "link.jsonl")
    cfg["export_path"] = str(tmp_path / "link.jsonl")
    assert len(export_problems(cfg, inputs)) == 1
    # the statistics Data-Juicer writes beside the export: kept.jsonl -> kept_stats.jsonl
    (tmp_path / "kept_stats.jsonl").write_text("")
    cfg.update(export_path=str(tmp_path / "kept.jsonl"), dataset_path=str(tmp_path / "kept_stats.jsonl"))
    assert "would overwrite the input dataset_path" in export_problems(cfg, inputs_of(cfg, section))[0]
    # a dataset directory is read whole: an export inside it would be loaded by the next run
    (tmp_path / "corpus").mkdir()
    cfg.update(dataset_path=str(tmp_path / "corpus"), export_path=str(tmp_path / "corpus" / "out" / "kept.jsonl"))
    (problem,) = export_problems(cfg, inputs_of(cfg, section))
    assert problem.startswith(f"export_path: {tmp_path / 'corpus' / 'out' / 'kept.jsonl'} is inside ")
    assert "the next run would load it as data" in problem
    # a mixture's "weight path" pairs are inputs too
    cfg.update(
        dataset_path=f"0.5 {tmp_path / 'd.jsonl'} 0.5 {tmp_path / 'corpus'}", export_path=str(tmp_path / "d.jsonl")
    )
    assert "would overwrite the input dataset_path" in export_problems(cfg, inputs_of(cfg, section))[0]


def test_an_export_that_is_a_directory_or_has_an_unwritable_suffix_is_refused(tmp_path):
    cfg, section = _cfg(tmp_path, export_path=str(tmp_path))
    assert export_problems(cfg, []) == [
        f"export_path: {tmp_path} is a directory; give the file to write, e.g. {tmp_path / 'kept.jsonl'}"
    ]
    cfg["export_path"] = str(tmp_path / "kept.csv")
    assert export_problems(cfg, []) == [
        f"export_path: Data-Juicer's default executor cannot write the suffix .csv (it writes: .json, .jsonl, "
        f".parquet; got '{tmp_path / 'kept.csv'}')"
    ]
    assert export_problems(cfg, [], "ray") == []  # the Ray exporter writes csv
    cfg["export_type"] = "parquet"  # an explicit type wins over the suffix, as in Data-Juicer
    assert export_problems(cfg, []) == []
    cfg.update(export_path="s3://bucket/kept.jsonl", export_type=None)
    assert export_problems(cfg, []) == []  # remote: not ours to check


def test_output_directories_and_files(tmp_path):
    cfg, section = _cfg(tmp_path)
    inputs = inputs_of(cfg, section)
    (tmp_path / "afile").write_text("x")
    assert output_dir_problems("auto_hpo.output_dir", str(tmp_path / "afile"), inputs) == [
        f"auto_hpo.output_dir: {tmp_path / 'afile'} is a file, not a directory"
    ]
    assert output_dir_problems("auto_hpo.output_dir", str(tmp_path / "hpo"), inputs) == []
    (tmp_path / "trials.csv").write_text("x")
    cfg["dataset_path"] = str(tmp_path / "trials.csv")
    (problem,) = output_dir_problems("auto_hpo.output_dir", str(tmp_path), inputs_of(cfg, section), ["trials.csv"])
    assert problem == (
        f"auto_hpo.output_dir: would overwrite the input dataset_path ({tmp_path / 'trials.csv'}); give another path"
    )
    key = "auto_hpo.path_3sigma_recipe"
    assert output_file_problem(key, str(tmp_path / "recipe.yaml"), inputs).startswith(f"{key}: would overwrite")
    assert output_file_problem(key, str(tmp_path / "refined.yaml"), inputs) is None


def test_a_full_place_is_named_before_the_run(tmp_path):
    assert free_space_problem({"export_path": str(tmp_path / "new" / "dir"), "work_dir": None}) is None
    stat = os.statvfs(tmp_path)
    if stat.f_bavail * stat.f_frsize > 2**40:  # a filesystem this test cannot fill: nothing to say
        return
    from data_juicer_hpo.data import paths

    paths.MIN_FREE_BYTES, saved = 2**62, paths.MIN_FREE_BYTES
    try:
        problem = free_space_problem({"export_path": str(tmp_path / "new" / "dir"), "work_dir": str(tmp_path)})
    finally:
        paths.MIN_FREE_BYTES = saved
    assert problem.startswith(f"auto_hpo: {tmp_path} (export_path, work_dir) is full before the run starts")
