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
import os
import re
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
            unknown = re.match(rf"Option '({SECTION}\.[^']+)' is not accepted", text)
            if unknown:
                from .section import KEYS

                with reported():
                    valid = ", ".join(key.name for key in KEYS)
                    raise AutoHpoError(f"{unknown.group(1)}: unknown key (valid keys of {SECTION}: {valid})")
            if text.startswith(f'Parser key "{SECTION}.'):
                key, _, detail = text.partition(":")
                detail = " ".join(detail.split()).replace("<class '", "").replace("'>", "")
                with reported():
                    raise AutoHpoError(f"{key.split(chr(34))[1]}: {detail}")
            return super().error(message, *args, **kwargs)

        def parse_args(self, *args, **kwargs):
            cfg = super().parse_args(*args, **kwargs)
            if cfg.get(SECTION) is not None:
                from .redaction import register_secrets, secrets_of

                with reported():
                    section = section_of(cfg)
                register_secrets(secrets_of(section["storage"]))
                _patch_config_outputs()
            # The section's values are checked when the run starts (runner.wrap_run): Data-Juicer also parses
            # partial argument lists first (``--config`` alone), where a key set by a later flag is still missing.
            if cfg.get(SECTION) is not None and section["mode"] is not None:
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


def _patch_config_outputs() -> None:
    """Redact secrets in what Data-Juicer's ``init_configs`` shows and writes (config table, backups).

    Called from parsing, i.e. inside ``init_configs``, when its module is complete and the functions exist.
    """
    module = sys.modules.get(CONFIG_MODULE)
    if module is None or getattr(module.display_config, "_dj_hpo_original", None) is not None:
        return
    from .redaction import redact_file, redact_url

    originals = {name: getattr(module, name) for name in ("display_config", "config_backup", "save_cli_arguments")}

    def display_config(cfg):
        shown = cfg.clone() if hasattr(cfg, "clone") else cfg
        if shown.get(SECTION) is not None and shown[SECTION].get("storage"):
            shown[SECTION]["storage"] = redact_url(shown[SECTION]["storage"])
        return originals["display_config"](shown)

    def config_backup(cfg):
        result = originals["config_backup"](cfg)
        if cfg.get("config"):
            target = getattr(cfg, "backed_up_config_path", None) or os.path.join(
                cfg.work_dir, os.path.basename(str(cfg.config[0]))
            )
            redact_file(target)
        return result

    def save_cli_arguments(cfg):
        result = originals["save_cli_arguments"](cfg)
        if cfg.get("work_dir"):
            redact_file(os.path.join(cfg.work_dir, "cli.yaml"))
        return result

    for name, wrapper in (
        ("display_config", display_config),
        ("config_backup", config_backup),
        ("save_cli_arguments", save_cli_arguments),
    ):
        wrapper._dj_hpo_original = originals[name]
        setattr(module, name, wrapper)
    _state["config_outputs"] = (module, originals)


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

    from .runner import wrap_init, wrap_run

    for module_name, class_name in EXECUTOR_MODULES.items():
        if module_name in _state["executors"]:
            continue
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except ImportError:  # e.g. ray missing: that executor cannot run anyway
            continue
        original = cls.__dict__["run"], cls.__dict__["__init__"]
        _state["executors"][module_name] = (cls, original)
        cls.run, cls.__init__ = wrap_run(original[0]), wrap_init(original[1])


def install() -> None:
    """Install the guard, the parser section and (lazily) the executor hook. Idempotent."""
    if _state["installed"]:
        return
    from .guard import install_guard

    install_guard()
    from .redaction import install_log_redaction

    install_log_redaction()
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
    if _state.get("config_outputs"):
        module, originals = _state.pop("config_outputs")
        for name, original in originals.items():
            setattr(module, name, original)
    for cls, (run, init) in _state["executors"].values():
        cls.run, cls.__init__ = run, init
    _state["executors"].clear()
    _state["installed"] = False


def is_installed() -> bool:
    return _state["installed"]
