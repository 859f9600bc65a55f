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


def test_atomic_write_masks_secrets_in_text_but_not_in_bytes(tmp_path):
    from data_juicer_hpo.redaction import register_secrets

    register_secrets(["files-test-s3cret"])
    write_atomic(str(tmp_path / "a.yaml"), "ray_address: ray://u:pw9@h:1\nkey: files-test-s3cret\n")
    assert (tmp_path / "a.yaml").read_text() == "ray_address: ray://u:***@h:1\nkey: ***\n"
    write_atomic(str(tmp_path / "b.bin"), b"files-test-s3cret")
    assert (tmp_path / "b.bin").read_bytes() == b"files-test-s3cret"


def test_temporaries_of_dead_processes_are_removed_by_the_next_write(tmp_path):
    import subprocess
    import sys

    from data_juicer_hpo.files import remove_stale_temporaries

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = [f".tmp-{dead.pid}-abc123out.csv", f".tmp-{dead.pid}-kept.jsonl"]
    alive = [f".tmp-{os.getppid()}-xyzout.csv", f".tmp-{dead.pid}-other.csv", ".tmp-notapid-out.csv"]
    for name in stale + alive:
        (tmp_path / name).write_text("partial")
    write_atomic(str(tmp_path / "out.csv"), "a,b\n")  # removes the stale temporaries of out.csv only
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(alive + [stale[1], "out.csv"])
    assert remove_stale_temporaries(str(tmp_path), ["kept.jsonl"]) == 1
    assert remove_stale_temporaries(str(tmp_path)) == 1  # other.csv's; the live process's and the odd one stay
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive[0], alive[2], "out.csv"])
    assert remove_stale_temporaries(str(tmp_path / "missing")) == 0
