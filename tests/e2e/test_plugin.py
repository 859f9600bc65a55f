"""The plugin inside Data-Juicer, in a fresh interpreter or the real dj-process: the section is in the parser whatever
the import order, --help lists it, a library caller catches the error, a mode run installs nothing."""

import pytest

from tests.helpers.data import write_jsonl, write_yaml
from tests.helpers.runs import BIN, run


def test_library_caller_catches_the_error(tmp_path):
    data = write_jsonl(tmp_path / "d.jsonl", ["x", "y"])
    recipe = write_yaml(tmp_path / "r.yaml", {"dataset_path": str(data), "auto_hpo": {"mode": "3sigma", "k": -1}})
    code = (
        "from data_juicer.config import init_configs\nfrom data_juicer_hpo import AutoHpoError\n"
        f"try:\n    init_configs(['--config', {str(recipe)!r}])\nexcept Exception as e:\n"
        "    print('CAUGHT', type(e).__name__, e)\n"
    )
    res = run([str(BIN / "python"), "-c", code], cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "CAUGHT AutoHpoError auto_hpo.k: must be a finite number > 0" in res.stdout
    assert not (tmp_path / "outputs").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["d.jsonl", "r.yaml"]


def test_a_mode_run_installs_nothing(tmp_path, dj_process):
    data = write_jsonl(tmp_path / "d.jsonl", ["short", "a longer text here", "and another line of text"] * 5)
    recipe = write_yaml(
        tmp_path / "r.yaml",
        {
            "dataset_path": str(data),
            "export_path": str(tmp_path / "out" / "o.jsonl"),
            "np": 1,
            "process": [{"text_length_filter": {"min_len": 6}}, {"character_repetition_filter": {}}],
            "auto_hpo": {"mode": "3sigma"},
        },
    )
    res = dj_process("--config", recipe, env={"DJ_HPO_BLOCK_RUNTIME_INSTALLS": ""})
    assert res.returncode == 0, res.stderr[-2000:]
    assert "Installing" not in res.stdout + res.stderr
    assert "data-juicer-hpo: package" not in res.stdout + res.stderr


@pytest.mark.parametrize(
    "prelude",
    [
        "from data_juicer.config import init_configs",  # config first: we load while it is half-executed
        "import data_juicer.ops\nfrom data_juicer.config import init_configs",  # ops first, config later
        "import data_juicer_hpo\nfrom data_juicer.config import init_configs",
    ],
)
def test_section_is_in_the_parser_whatever_the_import_order(tmp_path, prelude):
    data = write_jsonl(tmp_path / "d.jsonl", ["x"])
    recipe = write_yaml(tmp_path / "r.yaml", {"dataset_path": str(data), "auto_hpo": {"k": 2.5}})
    code = f"{prelude}\ncfg = init_configs(['--config', {str(recipe)!r}, '--auto_hpo.plot', 'true'])\n"
    code += "print('K', cfg.auto_hpo.k, cfg.auto_hpo.plot, cfg.auto_hpo.mode)"
    res = run([str(BIN / "python"), "-c", code], cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "K 2.5 True None" in res.stdout + res.stderr


def test_help_lists_the_section(dj_process):
    res = dj_process("--help")
    assert res.returncode == 0
    for key in ("--auto_hpo.mode", "--auto_hpo.k", "--auto_hpo.path_3sigma_recipe", "--auto_hpo.hpo_config"):
        assert key in res.stdout
