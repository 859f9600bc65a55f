"""Hook: every check of an ``auto_hpo`` run happens before Data-Juicer writes anything.

``init_configs`` parses the argument list twice (``--config`` alone first, then everything); the whole config is
known once ``init_setup_from_cfg`` is called, and that function is the first to create the work directory and the
log files. Wrapping it, the section, the mode's own input (sweep file, objective options, dataset path, storage)
and the executor are checked there: an ``error:`` line before Data-Juicer's config table, and no file written.
"""

import os
import sys
from typing import Optional

from data_juicer_hpo.errors import full_disk_is_one_line, reported
from data_juicer_hpo.hooks._base import expect
from data_juicer_hpo.imports import lazy_import

__all__ = ["check", "install", "uninstall"]

NAME = "config checks"
CONFIG_MODULE = "data_juicer.config.config"
FUNCTION = "init_setup_from_cfg"
_state = {}


def check() -> Optional[str]:
    module = sys.modules.get(CONFIG_MODULE)
    if module is None:
        return f"{CONFIG_MODULE} is not imported"
    return expect(module, FUNCTION, f"{CONFIG_MODULE}.{FUNCTION}", ["cfg"])


def install() -> None:
    if _state:
        return
    module = sys.modules[CONFIG_MODULE]
    original = getattr(module, FUNCTION)

    def init_setup_from_cfg(cfg, *args, **kwargs):
        with reported():
            # the mode registry by name: it imports the modes, which sit above the hooks (see imports.py)
            lazy_import("data_juicer_hpo.modes").check_config(cfg)
            # a disk that fills up between the check and Data-Juicer's first writes (work_dir, logs): one line
            export = cfg.get("export_path")
            places = {"work_dir": cfg.get("work_dir"), "export_path": os.path.dirname(str(export)) if export else None}
            with full_disk_is_one_line(places):
                return original(cfg, *args, **kwargs)

    init_setup_from_cfg._dj_hpo_original = original
    setattr(module, FUNCTION, init_setup_from_cfg)
    _state["saved"] = (module, original)


def uninstall() -> None:
    if _state:
        module, original = _state.pop("saved")
        setattr(module, FUNCTION, original)
