"""The no-install guard (hooks/install_guard.py): nothing is installed at run time in a mode run."""

import subprocess

import pytest


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
