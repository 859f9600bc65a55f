"""The crash redaction of loguru records (hooks/crash_redaction.py), on real loguru and real exceptions."""

import io

from loguru import logger


def test_crash_redaction_masks_a_caught_exception_without_its_locals():
    from data_juicer_hpo.hooks import crash_redaction
    from data_juicer_hpo.redaction import register_secrets

    secret = "s3cr3t-pa55word"
    register_secrets([secret])
    out = io.StringIO()
    handler = logger.add(out, diagnose=True, backtrace=True, format="{message}")
    crash_redaction.install()
    try:

        def connect():
            password = secret  # a local variable: loguru's diagnose prints the values of those in the failing line
            raise ConnectionError("cannot reach postgresql://u:" + password + "@host/db")

        try:
            connect()
        except ConnectionError:
            logger.exception("caught")
    finally:
        crash_redaction.uninstall()
        logger.remove(handler)
    text = out.getvalue()
    assert secret not in text
    assert (
        "Traceback (most recent call last)" in text and "ConnectionError: cannot reach postgresql://u:***@host" in text
    )
    assert 'raise ConnectionError("cannot reach postgresql' in text  # the source line, as Python prints it
