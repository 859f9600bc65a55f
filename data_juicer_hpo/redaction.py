"""Secrets stay secret: passwords and API keys never reach a log, a file, W&B or Optuna.

One pass, :func:`redact`, masks as ``***``:

- the password of any URL (``scheme://user:password@host``: a storage URL, ``ray://``, ``s3://``...) and any
  password-like query parameter (``?password=``, ``&sslpassword=``, ``?token=``, ``?api_key=``...);
- the registered secrets (:func:`register_secrets`): those of a run's config (:func:`secrets_of` -- its storage URL,
  ``ray_address``) and of the environment (:func:`environment_secrets`: ``WANDB_API_KEY``, ``PGPASSWORD``, and every
  variable named like ``*_API_KEY``, ``*_PASSWORD``, ``*_SECRET``, ``*_TOKEN``).

Everything the plugin writes goes through it: every text file (:func:`data_juicer_hpo.files.write_atomic`),
every loguru message and traceback (the ``log_redaction`` and ``crash_redaction`` hooks), Data-Juicer's config
table, backup and ``cli.yaml`` (``config_outputs``), what the sweep stores with Optuna (its storage masks every user
attribute, :func:`redact_value`) and hands to W&B (each run's config and summary).
"""

import os
import re
from typing import Iterable, List, Optional
from urllib.parse import unquote

from loguru import logger

__all__ = [
    "MASK",
    "redact",
    "redact_url",
    "redact_value",
    "register_secrets",
    "secrets_of",
    "environment_secrets",
    "install_log_redaction",
]

MASK = "***"
_SECRETS: set = set()
_URL_PASSWORD = re.compile(r"(\b[a-zA-Z][\w+.-]*://[^:/@\s]*:)([^@\s/]+)(@)")
# password-like parameters of a URL's query (libpq's ``password``/``sslpassword``, tokens and keys of other URLs)
_QUERY_SECRET = re.compile(
    r"([?&;](?:password|passwd|pwd|pass|sslpassword|secret|token|access_token|api_key|apikey)=)([^&;#\s'\"]+)",
    re.IGNORECASE,
)
_ENV_NAMES = ("WANDB_API_KEY", "PGPASSWORD")
_ENV_PATTERN = re.compile(r"(?:^|_)(?:API_KEY|PASSWORD|SECRET|TOKEN|SECRET_ACCESS_KEY)$")
# a secret of the environment is masked only when its value cannot be a common word (a short one would garble every
# line that happens to contain it)
_MIN_NAMED, _MIN_GENERIC = 6, 8


def redact_url(url: Optional[str]) -> Optional[str]:
    """``url`` with its password (``user:password@``, ``?password=``) replaced by ``***`` (``None`` stays ``None``)."""
    if not url:
        return url
    text = _URL_PASSWORD.sub(lambda m: m.group(1) + MASK + m.group(3), str(url))
    return _QUERY_SECRET.sub(lambda m: m.group(1) + MASK, text)


def redact(text):
    """``text`` with every registered secret and every URL password masked (anything but a string: unchanged)."""
    if not isinstance(text, str):
        return text
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return redact_url(text)


def redact_value(value):
    """``value`` -- a string, or lists, tuples and dicts of them (JSON-like data) -- with every string masked."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_value(k): redact_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact_value(v) for v in value)
    return value


def _url_secrets(url) -> List[str]:
    found = []
    for match in _URL_PASSWORD.finditer(str(url)):
        found.append(match.group(2))
    for match in _QUERY_SECRET.finditer(str(url)):
        found.append(match.group(2))
    # the decoded forms too: a password with %-escapes is printed decoded by some tools
    return found + [unquote(s) for s in found if unquote(s) != s]


def secrets_of(*urls: Optional[str]) -> List[str]:
    """The secrets a run knows: the passwords of the given URLs (the storage, ``ray_address``) and those of the
    environment (:func:`environment_secrets`)."""
    found = [s for url in urls if url for s in _url_secrets(url)]
    return [s for s in found if len(s) >= 3] + environment_secrets()  # never mask trivial strings everywhere


def environment_secrets() -> List[str]:
    """The values of ``WANDB_API_KEY`` and ``PGPASSWORD`` (at least 6 characters long), and of variables named like an
    API key, a password, a secret or a token (at least 8)."""
    found = []
    for name, value in os.environ.items():
        value = value.strip()
        if name in _ENV_NAMES and len(value) >= _MIN_NAMED:
            found.append(value)
        elif _ENV_PATTERN.search(name.upper()) and len(value) >= _MIN_GENERIC:
            found.append(value)
    return found


def register_secrets(secrets: Iterable[str]) -> None:
    """Mask these strings too, everywhere, from now on."""
    _SECRETS.update(s for s in secrets if s)


def _patch(record) -> None:
    record["message"] = redact(record["message"])


def install_log_redaction() -> None:
    """Mask secrets in every loguru message (Data-Juicer's handlers included, they are added later)."""

    logger.configure(patcher=_patch)
