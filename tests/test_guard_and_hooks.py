"""The no-install guard and the plugin's installation into Data-Juicer (import order, idempotence, undo)."""

import subprocess

import pytest

from conftest import BIN, ROOT, run, write_jsonl, write_yaml


def test_lazy_loader_never_installs(monkeypatch):
    import data_juicer.ops  # noqa: F401  (loads our entry point, which installs the guard)
    from data_juicer.utils.lazy_loader import LazyLoader

    from data_juicer_hpo.guard import RuntimeInstallBlocked

    calls = []
    monkeypatch.setattr(subprocess, "check_call", lambda *a, **k: calls.append(a))
    module = LazyLoader("surely_missing_package_for_dj_hpo")
    with pytest.raises(RuntimeInstallBlocked, match="surely_missing_package_for_dj_hpo.*pip install"):
        module.anything
    with pytest.raises(RuntimeInstallBlocked):
        LazyLoader.check_packages(["another_missing_package_for_dj_hpo"])
    assert calls == []


def test_free_models_without_torch_does_not_install():
    import importlib.util

    import data_juicer.ops  # noqa: F401
    from data_juicer.ops import base_op

    if importlib.util.find_spec("torch") is not None:
        pytest.skip("torch is installed here")
    base_op.free_models()  # would import torch through the LazyLoader without the guard
    assert importlib.util.find_spec("torch") is None


def test_a_filter_run_installs_nothing(tmp_path, dj_process):
    data = write_jsonl(tmp_path / "d.jsonl", ["short", "a longer text here", "and another line of text"] * 5)
    recipe = write_yaml(
        tmp_path / "r.yaml",
        {
            "dataset_path": str(data),
            "export_path": str(tmp_path / "out" / "o.jsonl"),
            "np": 1,
            "process": [{"text_length_filter": {"min_len": 6}}, {"character_repetition_filter": {}}],
        },
    )
    res = dj_process("--config", recipe)
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


def test_install_is_idempotent_and_undoable():
    import data_juicer.config.config as config_module
    from data_juicer.utils.lazy_loader import LazyLoader

    import data_juicer_hpo
    from data_juicer_hpo import hooks

    data_juicer_hpo.install()
    data_juicer_hpo.install()
    patched = config_module.ArgumentParser
    assert hasattr(patched, "_dj_hpo_original")
    hooks._patch_executors()
    from data_juicer.core.executor.default_executor import DefaultExecutor

    assert hasattr(DefaultExecutor.run, "_dj_hpo_original")
    data_juicer_hpo.uninstall()
    try:
        assert not hasattr(config_module.ArgumentParser, "_dj_hpo_original")
        assert not hasattr(DefaultExecutor.run, "_dj_hpo_original")
        assert "_blocked_install" not in repr(LazyLoader.__dict__["_install_package"].__func__)
    finally:
        data_juicer_hpo.install()
    assert hasattr(config_module.ArgumentParser, "_dj_hpo_original")
    assert "_blocked_install" in repr(LazyLoader.__dict__["_install_package"].__func__)


def test_entry_point_is_declared():
    from importlib.metadata import entry_points

    names = {ep.name: ep.value for ep in entry_points(group="data_juicer.ops")}
    assert names.get("auto_hpo") == "data_juicer_hpo._plugin"
    assert (ROOT / "setup.cfg").read_text().count("data_juicer.ops") == 1
