"""Secrets stay secret: a storage URL's password and the W&B API key never reach logs or files we or
Data-Juicer write (its config table, the backed-up recipe, ``cli.yaml``).

Known secrets are registered when the config is parsed; a loguru patcher replaces them (and the password part of
any ``scheme://user:password@host`` URL) in every log message, and Data-Juicer's config display and backups are
redacted as they are made.
"""

import os
import re
from typing import Iterable, Optional
from urllib.parse import unquote

from loguru import logger

from data_juicer_hpo.files import write_atomic

__all__ = ["redact", "redact_url", "register_secrets", "secrets_of", "install_log_redaction", "redact_file"]

MASK = "***"
_SECRETS: set = set()
_URL_PASSWORD = re.compile(r"(\b[a-zA-Z][\w+.-]*://[^:/@\s]*:)([^@\s/]+)(@)")


def redact_url(url: Optional[str]) -> Optional[str]:
    """``url`` with its password replaced by ``***`` (``None`` stays ``None``)."""
    if not url:
        return url
    return _URL_PASSWORD.sub(lambda m: m.group(1) + MASK + m.group(3), str(url))


def redact(text):
    """``text`` with every registered secret and every URL password masked."""
    if not isinstance(text, str):
        return text
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return redact_url(text)


def secrets_of(storage: Optional[str]) -> Iterable[str]:
    """The secrets a run knows: the storage URL's password and ``WANDB_API_KEY``."""
    found = []
    if storage:
        match = _URL_PASSWORD.search(str(storage))
        if match:
            found.append(match.group(2))
            try:  # the decoded form too: a password with %-escapes is printed decoded by some tools

                found.append(unquote(match.group(2)))
            except Exception:  # noqa: BLE001
                pass
    key = os.environ.get("WANDB_API_KEY", "").strip()
    if key:
        found.append(key)
    return [s for s in found if len(s) >= 3]  # never mask trivial strings everywhere


def register_secrets(secrets: Iterable[str]) -> None:
    _SECRETS.update(secrets)


def _patch(record) -> None:
    record["message"] = redact(record["message"])


def install_log_redaction() -> None:
    """Mask secrets in every loguru message (Data-Juicer's handlers included, they are added later)."""

    logger.configure(patcher=_patch)


def redact_file(path: str) -> None:
    """Rewrite a text file that may hold a secret (a backed-up recipe), atomically, when it does."""
    if not path or not os.path.isfile(path):
        return
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError):
        return
    masked = redact(text)
    if masked != text:
        write_atomic(path, masked)
