"""The hooks' self-checks (hooks/_base.py): a hook whose Data-Juicer target is missing warns, and mode runs are refused
in one line."""

import pytest


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
