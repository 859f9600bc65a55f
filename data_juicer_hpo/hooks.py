"""Installing data-juicer-hpo into Data-Juicer: the parser section, the executor hook and the install guard.

Installation is lazy, idempotent and undoable (tests call :func:`uninstall`). Beware the import-order trap:
Data-Juicer imports op plugins (our entry point) from ``data_juicer.ops.__init__``, which
``data_juicer.config.config`` imports at its line ``from data_juicer.ops.base_op import OPERATORS`` -- so when we
are loaded, that config module is usually half-executed: ``build_base_parser`` does not exist yet, but the
``ArgumentParser`` name it will call has already been imported. We therefore swap that module-level name for a
subclass that adds the ``auto_hpo`` section when ``build_base_parser`` constructs it. When the config module is
not imported yet, a meta-path finder applies the same swap right after it finishes loading.
"""

import importlib.abc
import importlib.machinery
import sys

from .errors import AutoHpoError, reported
from .section import SECTION, add_section_arguments, section_of

__all__ = ["install", "uninstall", "is_installed"]

CONFIG_MODULE = "data_juicer.config.config"
EXECUTOR_MODULES = {
    "data_juicer.core.executor.default_executor": "DefaultExecutor",
    "data_juicer.core.executor.ray_executor": "RayExecutor",
}

_state = {"installed": False, "parser": None, "executors": {}}


def _make_parser_class(base):
    class AutoHpoArgumentParser(base):
        """Data-Juicer's parser plus the ``auto_hpo`` section, validated right after parsing."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            # only the parser of Data-Juicer's build_base_parser gets the section, not other jsonargparse users
            if sys._getframe(1).f_code.co_name == "build_base_parser":
                add_section_arguments(self)

        def error(self, message, *args, **kwargs):
            # jsonargparse reports a bad value of our keys on several lines; keep our one-line rule
            text = str(message)
            if text.startswith(f'Parser key "{SECTION}.'):
                key, _, detail = text.partition(":")
                detail = " ".join(detail.split()).replace("<class '", "").replace("'>", "")
                with reported():
                    raise AutoHpoError(f"{key.split(chr(34))[1]}: {detail}")
            return super().error(message, *args, **kwargs)

        def parse_args(self, *args, **kwargs):
            cfg = super().parse_args(*args, **kwargs)
            # The section's values are checked when the run starts (runner.wrap_run): Data-Juicer also parses
            # partial argument lists first (``--config`` alone), where a key set by a later flag is still missing.
            if cfg.get(SECTION) is not None and section_of(cfg)["mode"] is not None:
                _patch_executors()
            return cfg

    AutoHpoArgumentParser.__name__ = base.__name__
    AutoHpoArgumentParser.__qualname__ = base.__qualname__
    AutoHpoArgumentParser._dj_hpo_original = base
    return AutoHpoArgumentParser


def _patch_config_module(module) -> bool:
    base = getattr(module, "ArgumentParser", None)
    if base is None:
        return False
    if not hasattr(base, "_dj_hpo_original"):
        _state["parser"] = (module, base)
        module.ArgumentParser = _make_parser_class(base)
    return True


class _ConfigModuleFinder(importlib.abc.MetaPathFinder):
    """Patches ``data_juicer.config.config`` right after it is executed, when we are loaded before it."""

    def find_spec(self, fullname, path, target=None):
        if fullname != CONFIG_MODULE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        original_exec = loader.exec_module

        def exec_module(module):
            original_exec(module)
            _patch_config_module(module)

        loader.exec_module = exec_module
        return spec


_finder = _ConfigModuleFinder()


def _patch_executors() -> None:
    """Wrap ``run`` of Data-Juicer's executors so an ``auto_hpo`` mode takes over (imports them: called lazily)."""
    import importlib

    from .runner import wrap_run

    for module_name, class_name in EXECUTOR_MODULES.items():
        if module_name in _state["executors"]:
            continue
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except ImportError:  # e.g. ray missing: that executor cannot run anyway
            continue
        original = cls.__dict__["run"]
        _state["executors"][module_name] = (cls, original)
        cls.run = wrap_run(original)


def install() -> None:
    """Install the guard, the parser section and (lazily) the executor hook. Idempotent."""
    if _state["installed"]:
        return
    from .guard import install_guard

    install_guard()
    module = sys.modules.get(CONFIG_MODULE)
    if module is None or not _patch_config_module(module):
        sys.meta_path.insert(0, _finder)
    _state["installed"] = True


def uninstall() -> None:
    """Undo :func:`install` (tests)."""
    from .guard import uninstall_guard

    uninstall_guard()
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    if _state["parser"] is not None:
        module, base = _state["parser"]
        module.ArgumentParser = base
        _state["parser"] = None
    for cls, original in _state["executors"].values():
        cls.run = original
    _state["executors"].clear()
    _state["installed"] = False


def is_installed() -> bool:
    return _state["installed"]
