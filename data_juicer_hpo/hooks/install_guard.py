"""Hook: no package installs at run time, for runs with an ``auto_hpo`` mode.

Data-Juicer 1.6's ``LazyLoader`` runs ``uv pip install`` / ``pip install`` whenever a lazily imported module is
missing: for ``ray`` when ``data_juicer.core`` is imported, and for ``torch`` after every filter, because
``data_juicer.utils.model_utils.free_models`` calls ``torch.cuda.empty_cache()`` (a multi-GB CUDA download on a
fresh machine). Our runs must be fast and offline, so the installer is replaced by a clear ``ImportError`` naming
the package, and ``free_models`` skips the CUDA cache when torch is not installed (text recipes need no torch).
Recipes without ``auto_hpo`` keep Data-Juicer's own behaviour: this hook is installed only when a mode runs.

Data-Juicer's ``LazyLoader.check_packages`` decides whether a package is installed by importing the whole spec
(``importlib.import_module("samplerate==0.1.0")``), which never succeeds for a pinned or hyphenated spec, so
``audio_nmf_snr_filter`` (``samplerate==0.1.0``, ``torchcodec==0.7``) would reinstall, and downgrade, both every time
it is built. The guard takes such a spec as satisfied when its module imports, and logs the versions.
"""

import importlib.metadata
import re
from typing import Optional

from loguru import logger

from data_juicer_hpo.hooks._base import expect
from data_juicer_hpo.imports import module_installed

__all__ = ["RuntimeInstallBlocked", "spec_module", "check", "is_installed", "install", "uninstall"]

NAME = "install guard"
_saved = {}


class RuntimeInstallBlocked(ImportError):
    """A module is missing and Data-Juicer tried to install it while running."""


def spec_module(package_spec: str) -> Optional[str]:
    """The module a pip spec such as ``samplerate==0.1.0`` or ``spacy-pkuseg`` names, or None for a URL."""
    if "/" in package_spec:
        return None
    name = re.split(r"[=<>!~@\[;\s]", package_spec.strip(), maxsplit=1)[0]
    return name.replace("-", "_") or None


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _blocked_install(cls, package_spec, pip_args=None):
    module = spec_module(str(package_spec))
    if module and module_installed(module):
        logger.info(
            f"data-juicer-hpo: [{package_spec}] asked for; its module [{module}] is installed "
            f"(version [{_version(module)}]), so nothing is installed at run time"
        )
        return True
    raise RuntimeInstallBlocked(
        f"data-juicer-hpo: package {package_spec!r} is not installed and installing packages at run time is disabled;"
        f" install it before the run: pip install {package_spec}"
    )


def _torch_installed() -> bool:
    return module_installed("torch")


def check() -> Optional[str]:
    from data_juicer.ops import base_op
    from data_juicer.utils import lazy_loader, model_utils

    return (
        expect(lazy_loader.LazyLoader, "_install_package", "data_juicer.utils.lazy_loader.LazyLoader._install_package")
        or expect(model_utils, "free_models", "data_juicer.utils.model_utils.free_models")
        or expect(base_op, "free_models", "data_juicer.ops.base_op.free_models")
    )


def is_installed() -> bool:
    return bool(_saved)


def install() -> None:
    """Patch Data-Juicer's LazyLoader and free_models (idempotent)."""
    if _saved:
        return
    from data_juicer.ops import base_op
    from data_juicer.utils import lazy_loader, model_utils

    original_free_models = model_utils.free_models

    def free_models(clear_model_zoo=True):
        if _torch_installed():
            return original_free_models(clear_model_zoo)
        # without torch no model can hold CUDA memory; only drop the cached models
        if clear_model_zoo:
            model_utils.MODEL_ZOO.clear()

    _saved["install"] = lazy_loader.LazyLoader.__dict__["_install_package"]
    _saved["free_models"] = (model_utils, base_op, original_free_models)
    lazy_loader.LazyLoader._install_package = classmethod(_blocked_install)
    model_utils.free_models = free_models
    base_op.free_models = free_models


def uninstall() -> None:
    if not _saved:
        return
    from data_juicer.utils import lazy_loader

    lazy_loader.LazyLoader._install_package = _saved.pop("install")
    model_utils, base_op, original = _saved.pop("free_models")
    model_utils.free_models = original
    base_op.free_models = original
