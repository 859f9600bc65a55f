"""Hook: what Data-Juicer's ``init_configs`` shows and writes -- the config table, the backed-up recipe and
``cli.yaml`` -- has its secrets masked, and a full disk there is one line, for runs with an ``auto_hpo`` mode
(installed when such a config is parsed). Recipes without ``auto_hpo`` get Data-Juicer's own bytes."""

import os
import sys
from typing import Optional

from data_juicer_hpo.errors import full_disk_is_one_line, reported
from data_juicer_hpo.files import write_atomic
from data_juicer_hpo.hooks._base import expect
from data_juicer_hpo.redaction import redact, redact_value

__all__ = ["check", "install", "uninstall", "redact_file"]

NAME = "config outputs"
CONFIG_MODULE = "data_juicer.config.config"
FUNCTIONS = {"display_config": ["cfg"], "config_backup": ["cfg"], "save_cli_arguments": ["cfg"]}
_state = {}


def redact_file(path: str) -> None:
    """Rewrite a text file that may hold a secret (a backed-up recipe), atomically, when it does."""
    if not path or not os.path.isfile(path):
        return
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError):
        return
    if redact(text) != text:
        write_atomic(path, text)  # masks it


def _places(cfg) -> dict:
    return {"work_dir": cfg.get("work_dir")}


def _masked(cfg):
    """A copy of ``cfg`` whose every string value is masked (a URL's password may be cut over two lines of the
    table, so the log's own masking is not enough)."""
    shown = cfg.clone() if hasattr(cfg, "clone") else cfg
    if hasattr(shown, "items"):
        for key, value in list(shown.items()):
            masked = redact_value(value)
            if masked != value:
                shown[key] = masked
    return shown


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
        return originals["display_config"](_masked(cfg))

    def config_backup(cfg):
        target = None
        if cfg.get("config"):
            target = getattr(cfg, "backed_up_config_path", None) or os.path.join(
                cfg.work_dir, os.path.basename(str(cfg.config[0]))
            )
        try:
            with reported(), full_disk_is_one_line(_places(cfg)):
                result = originals["config_backup"](cfg)
                redact_file(target)
        except BaseException:
            if target and os.path.isfile(target):  # never a half-copied recipe left behind
                os.unlink(target)
            raise
        return result

    def save_cli_arguments(cfg):
        with reported(), full_disk_is_one_line(_places(cfg)):
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
