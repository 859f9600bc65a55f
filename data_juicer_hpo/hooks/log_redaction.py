"""Hook: every loguru message of a run with an ``auto_hpo`` mode has its secrets masked (Data-Juicer's handlers
included: a patcher applies to every handler, even those added later)."""

from typing import Optional

from loguru import logger

from data_juicer_hpo.hooks._base import expect
from data_juicer_hpo.redaction import redact

__all__ = ["check", "install", "uninstall"]

NAME = "log redaction"
_state = {"installed": False}


def _patch(record) -> None:
    record["message"] = redact(record["message"])


def check() -> Optional[str]:

    return expect(logger, "configure", "loguru.logger.configure")


def install() -> None:
    logger.configure(patcher=_patch)
    _state["installed"] = True


def uninstall() -> None:
    if _state["installed"]:
        logger.configure(patcher=lambda record: None)
        _state["installed"] = False
