"""Generic atomic file writing (files.py): a failed write leaves no partial file."""

import os

from data_juicer_hpo.files import write_atomic


def test_atomic_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "out.yaml"
    target.write_text("old\n")

    try:  # a lone surrogate cannot be encoded: the write fails half-way
        write_atomic(str(target), "new text " * 1000 + "\ud800")
    except UnicodeEncodeError:
        pass
    else:
        raise AssertionError("the write should have failed")
    assert target.read_text() == "old\n"
    assert [p for p in os.listdir(tmp_path) if p.startswith(".tmp-")] == []
