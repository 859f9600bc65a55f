"""Hook: what Data-Juicer's ``init_configs`` shows and writes -- the config table, the backed-up recipe and
``cli.yaml`` -- has its secrets masked, for runs with an ``auto_hpo`` mode (installed when such a config is
parsed). Recipes without ``auto_hpo`` get Data-Juicer's own bytes."""

import os
import sys
from typing import Optional

from data_juicer_hpo.hooks._base import expect
from data_juicer_hpo.redaction import redact_file, redact_url
from data_juicer_hpo.section import SECTION

__all__ = ["check", "install", "uninstall"]

NAME = "config outputs"
CONFIG_MODULE = "data_juicer.config.config"
FUNCTIONS = {"display_config": ["cfg"], "config_backup": ["cfg"], "save_cli_arguments": ["cfg"]}
_state = {}


def check() -> Optional[str]:
    module = sys.modules.get(CONFIG_MODULE)
    if module is None:
        return f"{CONFIG_MODULE} is not imported"
    for name, params in FUNCTIONS.items():
        problem = expect(module, name, f"{CONFIG_MODULE}.{name}", params)
        if problem:
            return problem
    return None


def install() -> None:
    module = sys.modules[CONFIG_MODULE]
    if _state:
        return

    originals = {name: getattr(module, name) for name in FUNCTIONS}

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
    _state["saved"] = (module, originals)


def uninstall() -> None:
    if _state:
        module, originals = _state.pop("saved")
        for name, original in originals.items():
            setattr(module, name, original)
