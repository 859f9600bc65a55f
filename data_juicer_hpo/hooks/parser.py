"""Hook: the ``auto_hpo`` section in Data-Juicer's own config parser (so ``dj-process --help`` lists it, YAML and
flags set it, jsonargparse type-checks it).

Beware the import-order trap: Data-Juicer imports op plugins (our entry point) from ``data_juicer.ops.__init__``,
which ``data_juicer.config.config`` imports at its line ``from data_juicer.ops.base_op import OPERATORS`` -- so
when we are loaded, that config module is usually half-executed: ``build_base_parser`` does not exist yet, but
the ``ArgumentParser`` name it will call has already been imported. We therefore swap that module-level name for a
subclass that adds the section when ``build_base_parser`` constructs it. When the config module is not imported
yet, a meta-path finder applies the same swap right after it finishes loading.

When a parsed config has an ``auto_hpo`` mode, the parser calls ``on_mode`` (given to :func:`install`:
:func:`data_juicer_hpo.hooks.activate`, which installs the run's other hooks); without one nothing else of
Data-Juicer is touched.

Before jsonargparse reads a ``--config`` recipe that has an ``auto_hpo`` section (or is given ``--auto_hpo.*``
flags), its size and YAML alias expansion are checked (:mod:`data_juicer_hpo.inputs.yaml_limits`): jsonargparse
copies every alias while it parses, so an alias bomb would take minutes and gigabytes before any check of ours.
"""

import importlib.abc
import importlib.machinery
import re
import sys
from typing import Callable, Optional

from data_juicer_hpo.errors import AutoHpoError, reported
from data_juicer_hpo.hooks._base import expect, note_mismatch
from data_juicer_hpo.inputs import has_top_key, yaml_problem
from data_juicer_hpo.section import KEYS, SECTION, add_section_arguments, section_of

__all__ = ["check", "install", "uninstall"]

NAME = "config parser"
CONFIG_MODULE = "data_juicer.config.config"
_state = {"parser": None, "finder": None, "on_mode": None}


def _make_parser_class(base):
    class AutoHpoArgumentParser(base):
        """Data-Juicer's parser plus the ``auto_hpo`` section."""

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
            given = kwargs["args"] if "args" in kwargs else (args[0] if args else None)
            _check_recipe_files(list(sys.argv[1:] if given is None else given))
            cfg = super().parse_args(*args, **kwargs)
            if cfg.get(SECTION) is not None:
                with reported():
                    section = section_of(cfg)
                    if section["mode"] is not None and _state["on_mode"] is not None:
                        _state["on_mode"](section, cfg)
            return cfg

    AutoHpoArgumentParser.__name__ = base.__name__
    AutoHpoArgumentParser.__qualname__ = base.__qualname__
    AutoHpoArgumentParser._dj_hpo_original = base
    return AutoHpoArgumentParser


def _config_paths(argv):
    for i, arg in enumerate(argv):
        if arg == "--config" and i + 1 < len(argv):
            yield str(argv[i + 1])
        elif isinstance(arg, str) and arg.startswith("--config="):
            yield arg.split("=", 1)[1]


def _check_recipe_files(argv) -> None:
    """A recipe of an ``auto_hpo`` run past the YAML limits: its one line (recipes without the section are left to
    Data-Juicer as they are)."""
    flags = any(isinstance(a, str) and a.startswith(f"--{SECTION}.") for a in argv)
    for path in _config_paths(argv):
        problem = yaml_problem("--config", path)
        if problem and (flags or has_top_key(path, SECTION)):
            with reported():
                raise AutoHpoError(problem)


def _patch_config_module(module) -> bool:
    base = getattr(module, "ArgumentParser", None)
    if base is None:
        note_mismatch(NAME, f"{CONFIG_MODULE}.ArgumentParser not found")
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


def check() -> Optional[str]:
    module = sys.modules.get(CONFIG_MODULE)
    if module is None:
        return None  # checked when the finder patches it
    # ``build_base_parser`` may not exist yet (the module is half-executed when we load); if Data-Juicer renamed
    # it, the section is missing and an ``auto_hpo`` block fails loudly as an unknown key in Data-Juicer itself
    return expect(module, "ArgumentParser", f"{CONFIG_MODULE}.ArgumentParser")


def install(on_mode: Optional[Callable[..., None]] = None) -> None:
    """Add the section to Data-Juicer's parser; ``on_mode(section, cfg)`` is called for every parsed config with a
    mode."""
    _state["on_mode"] = on_mode
    module = sys.modules.get(CONFIG_MODULE)
    if module is not None and _patch_config_module(module):
        return
    if module is None and _state["finder"] is None:
        _state["finder"] = _ConfigModuleFinder()
        sys.meta_path.insert(0, _state["finder"])


def uninstall() -> None:
    if _state["finder"] is not None:
        if _state["finder"] in sys.meta_path:
            sys.meta_path.remove(_state["finder"])
        _state["finder"] = None
    if _state["parser"] is not None:
        module, base = _state["parser"]
        module.ArgumentParser = base
        _state["parser"] = None
    _state["on_mode"] = None
