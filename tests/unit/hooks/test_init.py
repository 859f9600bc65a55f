"""The hooks as a whole (hooks/__init__.py): install, activate, uninstall -- idempotent, undoable, and only the parser
patched for recipes without a mode."""


def test_fault_hooks_are_active_only_in_mode_runs_and_undoable():
    import sys
    import threading

    from data_juicer.core.exporter import Exporter

    import data_juicer_hpo
    from data_juicer_hpo import hooks

    data_juicer_hpo.uninstall()  # start from Data-Juicer as it is (another test may have activated the hooks)
    data_juicer_hpo.install()
    original_export, original_hook = Exporter.export, sys.excepthook
    assert original_export.__name__ == "export" and not original_hook.__module__.endswith("crash_redaction")
    hooks.activate()
    try:
        assert Exporter.export.__name__ == "_atomic_export"
        assert sys.excepthook.__module__.endswith("crash_redaction")
        assert threading.excepthook.__module__.endswith("crash_redaction")
    finally:
        data_juicer_hpo.uninstall()
        data_juicer_hpo.install()
    assert Exporter.export is original_export and sys.excepthook is original_hook


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
