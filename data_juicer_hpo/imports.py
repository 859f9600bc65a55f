"""Costly and optional dependencies, in one place (as ``optuna/_imports.py`` does for Optuna).

Modules import what they need at their top. Two kinds of dependency go through this helper instead:

- *costly* ones that only some runs need (W&B, Data-Juicer itself in a script's ``--help``, the mode registry that
  the executor hook hands a run to): :func:`lazy_import` gives a stand-in for the module at once and imports it on the
  first attribute read, so importing our module stays cheap -- Data-Juicer imports the plugin's entry point while its
  own config module is half-loaded, and a 3sigma run never pays for W&B;
- matplotlib's ``pyplot`` (2 s to import) through :func:`pyplot`, on the file-only Agg backend;
- *optional* ones (the extras): :func:`module_installed` says whether one can be imported, without importing it.
"""

import importlib
import importlib.util
import sys
from types import ModuleType

__all__ = ["lazy_import", "module_installed", "pyplot"]


def module_installed(module: str) -> bool:
    """Whether ``module`` can be found for import (without importing it)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


class _LazyModule(ModuleType):
    """Stands for the module ``__name__``; the first attribute read imports it, and every read is the module's own
    (nothing is copied, so an attribute the module changes later, ``wandb.run``, reads fresh)."""

    def __getattr__(self, attr: str):
        return getattr(importlib.import_module(self.__name__), attr)

    def __repr__(self) -> str:
        return f"<lazy module {self.__name__!r}>"


def lazy_import(name: str) -> ModuleType:
    """The module ``name`` (dotted names too), imported on the first attribute read; the module itself when it is
    imported already. Nothing of it -- not even a parent package -- is imported before, so a missing module shows
    at that first read, as an ``ImportError``."""
    return sys.modules.get(name) or _LazyModule(name)


def pyplot() -> ModuleType:
    """``matplotlib.pyplot`` on the Agg backend (figures written to files; no display needed), imported now."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot

    return matplotlib.pyplot
