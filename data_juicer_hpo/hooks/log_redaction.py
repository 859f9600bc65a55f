"""Hook: every loguru message of a run with an ``auto_hpo`` mode has its secrets masked (Data-Juicer's handlers
included: a patcher applies to every handler, even those added later)."""

from typing import Optional

__all__ = ["check", "install", "uninstall"]

NAME = "log redaction"
_state = {"installed": False}


def _patch(record) -> None:
    from ..redaction import redact

    record["message"] = redact(record["message"])


def check() -> Optional[str]:
    from loguru import logger

    from ._base import expect

    return expect(logger, "configure", "loguru.logger.configure")


def install() -> None:
    from loguru import logger

    logger.configure(patcher=_patch)
    _state["installed"] = True


def uninstall() -> None:
    if _state["installed"]:
        from loguru import logger

        logger.configure(patcher=lambda record: None)
        _state["installed"] = False
