"""The hooks: the no-install guard, the plugin's installation into Data-Juicer (import order, idempotence, undo),
self-checks, and nothing patched for recipes without a mode."""

import subprocess

import pytest

from conftest import BIN, ROOT, run, write_jsonl, write_yaml


@pytest.fixture
def active_hooks():
    """The run hooks of a config with an ``auto_hpo`` mode, undone afterwards (back to the plain plugin)."""
    import data_juicer.config  # noqa: F401  (loads our entry point)

    from data_juicer_hpo import hooks

    hooks.activate()
    yield hooks
    hooks.uninstall()
    hooks.install()


def test_lazy_loader_never_installs_in_a_mode_run(monkeypatch, active_hooks):
    from data_juicer.utils.lazy_loader import LazyLoader

    from data_juicer_hpo.hooks.install_guard import RuntimeInstallBlocked

    calls = []
    monkeypatch.setattr(subprocess, "check_call", lambda *a, **k: calls.append(a))
    module = LazyLoader("surely_missing_package_for_dj_hpo")
    with pytest.raises(RuntimeInstallBlocked, match="surely_missing_package_for_dj_hpo.*pip install"):
        module.anything
    with pytest.raises(RuntimeInstallBlocked):
        LazyLoader.check_packages(["another_missing_package_for_dj_hpo"])
    assert calls == []


def test_a_pinned_spec_whose_module_is_installed_installs_nothing(monkeypatch, active_hooks):
    """Data-Juicer imports the whole spec (``samplerate==0.1.0``: never importable), so audio_nmf_snr_filter would
    reinstall its packages every time it is built; the guard takes an installed module as enough."""
    from data_juicer.utils.lazy_loader import LazyLoader

    from data_juicer_hpo.hooks.install_guard import RuntimeInstallBlocked, spec_module

    assert [spec_module(s) for s in ("samplerate==0.1.0", "spacy-pkuseg", "x[y]>=1", "git+https://h/r.git")] == [
        "samplerate",
        "spacy_pkuseg",
        "x",
        None,
    ]
    calls = []
    monkeypatch.setattr(subprocess, "check_call", lambda *a, **k: calls.append(a))
    LazyLoader.check_packages(["numpy==0.0.1", "py-compile"])  # installed modules, other versions / hyphenated
    with pytest.raises(RuntimeInstallBlocked, match="surely_missing_package_for_dj_hpo==0.7"):
        LazyLoader.check_packages(["surely_missing_package_for_dj_hpo==0.7"])
    assert calls == []


def test_free_models_without_torch_does_not_install(active_hooks):
    import importlib.util

    from data_juicer.ops import base_op

    if importlib.util.find_spec("torch") is not None:
        pytest.skip("torch is installed here")
    base_op.free_models()  # would import torch through the LazyLoader without the guard
    assert importlib.util.find_spec("torch") is None


def test_without_a_mode_nothing_but_the_parser_is_patched():
    import data_juicer.config.config as config_module
    from data_juicer.utils.lazy_loader import LazyLoader

    from data_juicer_hpo import hooks

    hooks.install()
    assert hasattr(config_module.ArgumentParser, "_dj_hpo_original")
    assert not hooks.is_active()
    for name in ("display_config", "config_backup", "save_cli_arguments", "init_setup_from_cfg"):
        assert not hasattr(getattr(config_module, name), "_dj_hpo_original"), name
    assert "_blocked_install" not in repr(LazyLoader.__dict__["_install_package"].__func__)


def test_a_hook_whose_target_is_missing_warns_and_refuses_mode_runs(monkeypatch):
    import data_juicer.config.config as config_module

    from data_juicer_hpo import AutoHpoError, hooks

    hooks.uninstall()
    monkeypatch.delattr(config_module, "init_setup_from_cfg")
    try:
        with pytest.raises(
            AutoHpoError, match=r"cannot run on Data-Juicer [\d.]+ .*config checks.*init_setup_from_cfg"
        ):
            hooks.activate()
        assert not hooks.is_active()
        assert "config checks" in hooks.mismatches()
    finally:
        monkeypatch.undo()
        hooks.uninstall()
        hooks.install()


def test_auto_hpo_error_is_an_ordinary_exception():
    from data_juicer_hpo import AutoHpoError

    assert issubclass(AutoHpoError, Exception)
    assert not issubclass(AutoHpoError, SystemExit)
    try:
        raise AutoHpoError(["auto_hpo.k: bad", "auto_hpo.mode: bad"])
    except Exception as e:  # noqa: BLE001  (what a notebook writes)
        assert e.problems == ["auto_hpo.k: bad", "auto_hpo.mode: bad"]


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


def test_install_and_activate_are_idempotent_and_undoable():
    import data_juicer.config.config as config_module
    from data_juicer.utils.lazy_loader import LazyLoader

    import data_juicer_hpo
    from data_juicer_hpo import hooks

    data_juicer_hpo.install()
    data_juicer_hpo.install()
    assert hasattr(config_module.ArgumentParser, "_dj_hpo_original")
    hooks.activate()
    hooks.activate()
    from data_juicer.core.executor.default_executor import DefaultExecutor
    from data_juicer.core.executor.ray_executor_partitioned import PartitionedRayExecutor

    assert hasattr(DefaultExecutor.run, "_dj_hpo_original")
    assert hasattr(PartitionedRayExecutor.run, "_dj_hpo_original")
    assert not hasattr(DefaultExecutor.run._dj_hpo_original, "_dj_hpo_original")
    assert "_blocked_install" in repr(LazyLoader.__dict__["_install_package"].__func__)
    data_juicer_hpo.uninstall()
    try:
        assert not hasattr(config_module.ArgumentParser, "_dj_hpo_original")
        assert not hasattr(DefaultExecutor.run, "_dj_hpo_original")
        assert not hasattr(config_module.init_setup_from_cfg, "_dj_hpo_original")
        assert "_blocked_install" not in repr(LazyLoader.__dict__["_install_package"].__func__)
    finally:
        data_juicer_hpo.install()
    assert hasattr(config_module.ArgumentParser, "_dj_hpo_original")


def test_entry_point_is_declared():
    from importlib.metadata import entry_points

    names = {ep.name: ep.value for ep in entry_points(group="data_juicer.ops")}
    assert names.get("auto_hpo") == "data_juicer_hpo.ops.entry"
    assert (ROOT / "setup.cfg").read_text().count("data_juicer.ops") == 1
