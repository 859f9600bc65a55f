"""Trials recorded as W&B offline runs by the process beside the sweep (backends/tracking.py, wandb_runs): every run
written with its config and summary, also when a process forked from the sweep holds the recorder's input open, and
when the sweep's process dies without closing it."""

import json
import os
import subprocess
import sys
import textwrap
import time
import types

import pytest

from data_juicer_hpo.modes.wandb.backends.tracking import OfflineRecorder

from tests.helpers.runs import ROOT, wandb_runs_by_trial


def _record(number: int, value: float):
    return types.SimpleNamespace(
        state="COMPLETE", number=number, value=value, scores={"m": value}, feasible=None, error=None,
        params={"text_length_filter.min_len": number, "url": "postgresql://u:hunter2@db/x"},
    )  # fmt: skip


def _summaries(out_dir):
    return {n: info["summary"] for n, info in wandb_runs_by_trial(out_dir / "wandb", out_dir).items()}


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")


def test_every_trial_is_written_even_while_a_forked_process_holds_the_input(tmp_path):
    recorder = OfflineRecorder(str(tmp_path), "p", "g", "m")
    for number in range(4):
        recorder.record(_record(number, number / 10), [(1, 0.5)] if number == 0 else [])
    holder = os.fork()  # as a Data-Juicer worker pool forked from the sweep: it holds the recorder's input too
    if holder == 0:
        time.sleep(60)
        os._exit(0)
    try:
        started = time.monotonic()
        recorder.close()
        assert time.monotonic() - started < 30  # the end line, not the end of the input, ends the recording
    finally:
        os.kill(holder, 9)
        os.waitpid(holder, 0)
    assert len(recorder.runs) == 4 and all(os.path.isdir(d) for d in recorder.runs)
    summaries = _summaries(tmp_path)
    assert sorted(summaries) == [0, 1, 2, 3]
    assert all(summaries[n]["m"] == pytest.approx(n / 10) and summaries[n]["state"] == "COMPLETE" for n in summaries)
    logs = b"".join(p.read_bytes() for p in (tmp_path / "wandb").rglob("*") if p.is_file())
    assert b"hunter2" not in logs  # masked before it left the sweep's process


def test_a_sweep_process_that_dies_without_closing_still_gets_its_runs_written(tmp_path):
    """The sweep's process hands three trials over and is killed; a process it forked keeps the input open. The
    recorder notices its parent is gone, writes the three runs and ends."""
    script = tmp_path / "sweep.py"
    script.write_text(textwrap.dedent(f"""
        import os, signal, time, types
        from data_juicer_hpo.modes.wandb.backends.tracking import OfflineRecorder
        recorder = OfflineRecorder({str(tmp_path)!r}, "p", "g", "m")
        for number in range(3):
            recorder.record(types.SimpleNamespace(state="COMPLETE", number=number, value=0.5, scores={{}},
                                                  feasible=None, error=None, params={{"a": number}}))
        holder = os.fork()
        if holder == 0:
            time.sleep(120)
            os._exit(0)
        print(recorder._process.pid, holder, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """))
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    with open(out, "w") as stdout, open(err, "w") as stderr:  # files: the holder keeps its copies open
        code = subprocess.call([sys.executable, str(script)], stdout=stdout, stderr=stderr, timeout=120, cwd=ROOT,
                               env={**os.environ, "WANDB_MODE": "offline"})  # fmt: skip
    assert code == -9, err.read_text()[-2000:]
    recorder_pid, holder = map(int, out.read_text().split())
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and _alive(recorder_pid):
            time.sleep(0.2)
        assert not _alive(recorder_pid)
        assert sorted(_summaries(tmp_path)) == [0, 1, 2]
    finally:
        os.kill(holder, 9)


def _alive(pid: int) -> bool:
    """Running (not gone, not a zombie nobody reaped yet)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_recording_is_off_when_wandb_is_disabled(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "disabled")
    recorder = OfflineRecorder(str(tmp_path / "out"), "p", "g", "m")
    recorder.record(_record(0, 0.5))
    recorder.close()
    assert recorder.runs == [] and not (tmp_path / "out").exists()


def test_a_line_cut_short_is_skipped_and_the_next_runs_are_written(tmp_path):
    """A signal can cut the sweep's write of a line: the recorder skips what it cannot read and goes on."""
    run_spec = {
        "init": {"mode": "offline", "dir": str(tmp_path), "project": "p", "group": "g", "name": "t", "config": {}},
        "metric": "m",
        "history": [],
        "summary": {"trial_number": 7, "m": 0.25},
        "exit_code": 0,
    }
    feed = b'{"init": {"mode": "off' + b"\n" + json.dumps(run_spec).encode() + b'\n{"end": true}\n'
    done = subprocess.run([sys.executable, "-m", "data_juicer_hpo.wandb_runs", str(os.getpid())], input=feed,
                          capture_output=True, cwd=ROOT, timeout=120)  # fmt: skip
    report = json.loads(done.stdout.decode().splitlines()[-1])
    assert done.returncode == 0 and report["error"] is None and len(report["runs"]) == 1
    assert _summaries(tmp_path)[7]["m"] == 0.25
