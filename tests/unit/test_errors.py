"""The one user-error type and the one-line write failures (errors.py)."""

import errno

from data_juicer_hpo.errors import write_failure


def test_write_failure_names_the_path_anywhere_in_the_chain():
    inner = OSError(errno.ENOSPC, "No space left on device", "/data/kept.jsonl")
    outer = RuntimeError("export failed")
    outer.__cause__ = inner
    assert write_failure(outer) == (
        "auto_hpo: cannot write /data/kept.jsonl: No space left on device (ENOSPC); make room there and rerun the "
        "same command to resume"
    )
    assert write_failure(OSError(errno.EFBIG, "File too large")).startswith("auto_hpo: a write failed: File too")
    assert write_failure(OSError(errno.ENOENT, "No such file", "/x")) is None


def test_auto_hpo_error_is_an_ordinary_exception():
    from data_juicer_hpo import AutoHpoError

    assert issubclass(AutoHpoError, Exception)
    assert not issubclass(AutoHpoError, SystemExit)
    try:
        raise AutoHpoError(["auto_hpo.k: bad", "auto_hpo.mode: bad"])
    except Exception as e:  # noqa: BLE001  (what a notebook writes)
        assert e.problems == ["auto_hpo.k: bad", "auto_hpo.mode: bad"]
