"""Fault injection into real ``dj-process`` runs: a slow custom objective that counts its calls, a sweep recipe on it,
runs started in their own session with their output in files, and the checks every fault test makes (the study's
states, no secret in any file, no traceback)."""

import gzip
import os
import signal
import subprocess
import textwrap
import time
from pathlib import Path

import optuna
import pytest

from tests.helpers.recipes import min_len_sweep
from tests.helpers.runs import BIN

__all__ = [
    "API_KEY",
    "OBJECTIVE",
    "setup",
    "study_of",
    "start",
    "marks",
    "wait_for_marks",
    "output",
    "finish",
    "states",
    "assert_no_secret",
    "no_traceback",
]

API_KEY = "k3y" + "fedcba9876543210" * 2 + "cafe"
# The objectives of the fault runs: ``slow`` counts its calls (FAULT_MARKS, and ``.started``; one line per call,
# with the worker's pid) and sleeps FAULT_SLEEP seconds; ``leaky`` raises with the storage URL and
# the W&B key in its message, as a careless objective might.
OBJECTIVE = """
import json, os, time

def _mark(name, cfg):
    with open(os.environ["FAULT_MARKS"] + name, "a") as f:
        f.write(json.dumps({"pid": os.getpid()}) + "\\n")

def slow(dataset, cfg):
    _mark(".started", cfg)
    time.sleep(float(os.environ.get("FAULT_SLEEP", "1")))
    _mark("", cfg)
    return float(len(dataset))

def leaky(dataset, cfg):
    url = os.environ["FAULT_URL"]  # a local variable holding the password: loguru's diagnose would print it
    raise RuntimeError("cannot reach " + url + " with key " + os.environ.get("WANDB_API_KEY", ""))
"""


def study_of(tmp_path: Path) -> str:
    return f"faults-{tmp_path.name}"[:60]


def setup(tmp_path: Path, storage: str, run_cap: int, objective: str = "faultobj:slow", **section) -> Path:
    """The recipe of a local sweep over ``text_length_filter.min_len`` scored by ``objective`` (see OBJECTIVE)."""
    (tmp_path / "faultobj.py").write_text(textwrap.dedent(OBJECTIVE))
    return min_len_sweep(
        tmp_path, 150, storage, study_of(tmp_path), run_cap, metric="kept", objective=objective, **section
    )


def _default_sigint() -> None:
    """In the child before exec: SIGINT as a terminal delivers it. A test run started in the background of a script
    (``cmd &``) ignores SIGINT, children inherit that, and dj-process then rightly ignores it too."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(
    tmp_path: Path, recipe: Path, url: str = "", sleep: float = 1.0, env=None, name: str = ""
) -> subprocess.Popen:
    """``dj-process --config recipe`` in its own session, stdout and stderr to files (``proc.output_files``)."""
    full_env = dict(os.environ)
    full_env.update(
        WANDB_SILENT="true",
        WANDB_API_KEY=API_KEY,
        DJ_HPO_BLOCK_RUNTIME_INSTALLS="1",
        PYTHONPATH=f"{tmp_path}{os.pathsep}{full_env.get('PYTHONPATH', '')}",
        PATH=f"{BIN}{os.pathsep}{full_env.get('PATH', '')}",
        FAULT_MARKS=str(tmp_path / "marks"),
        FAULT_SLEEP=str(sleep),
        FAULT_URL=url,
        **(env or {}),
    )
    # output to files, not pipes: nobody reads a pipe while the run goes on, and a full pipe would block it
    runs = len(list(tmp_path.glob("stdout-*")))
    out, err = tmp_path / f"stdout-{runs}{name}", tmp_path / f"stderr-{runs}{name}"
    with open(out, "w") as fout, open(err, "w") as ferr:
        proc = subprocess.Popen(
            [str(BIN / "dj-process"), "--config", str(recipe)],
            cwd=tmp_path,
            env=full_env,
            stdout=fout,
            stderr=ferr,
            start_new_session=True,
            preexec_fn=_default_sigint,
        )
    proc.output_files = (out, err)
    return proc


def marks(tmp_path: Path, name: str = "marks") -> int:
    path = tmp_path / name
    return len(path.read_text().splitlines()) if path.exists() else 0


def wait_for_marks(tmp_path: Path, proc, n: int, timeout: float = 120, name: str = "marks") -> None:
    """Until ``n`` trials finished their objective (``name="marks.started"``: started it)."""
    deadline = time.monotonic() + timeout
    while marks(tmp_path, name) < n:
        assert proc.poll() is None, f"dj-process ended early ({proc.returncode}): {output(proc)[1][-3000:]}"
        assert time.monotonic() < deadline, "the sweep made no progress"
        time.sleep(0.1)


def output(proc):
    return tuple(path.read_text(errors="replace") for path in proc.output_files)


def finish(proc, timeout: float = 300):
    """``(exit status, stdout, stderr)`` once the run ends; a run that hangs is killed and fails the test."""
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        pytest.fail(f"dj-process hung: {output(proc)[1][-3000:]}")
    return (proc.returncode, *output(proc))


def states(url: str, study: str) -> dict:
    """How many trials of the study are in each state, as Optuna reads the storage."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    trials = optuna.load_study(study_name=study, storage=url).get_trials(deepcopy=False)
    counts: dict = {}
    for t in trials:
        counts[t.state.name] = counts.get(t.state.name, 0) + 1
    return counts


def assert_no_secret(tmp_path: Path, outputs, secrets, skip=()) -> int:
    """No secret in the captured output nor in any file under ``tmp_path`` (gzip files decompressed); returns how
    many files were read."""
    for text in outputs:
        for secret in secrets:
            assert secret not in text
    checked = 0
    for root, _, files in os.walk(tmp_path):
        for name in files:
            path = os.path.join(root, name)
            if path in map(str, skip):
                continue
            content = Path(path).read_bytes()
            if name.endswith(".gz"):
                content = gzip.decompress(content)
            checked += 1
            for secret in secrets:
                assert secret.encode() not in content, path
    return checked


def no_traceback(err: str) -> None:
    assert "Traceback" not in err, err[-3000:]
