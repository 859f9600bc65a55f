"""Where things are (this checkout, ../shared/data, the venv's commands) and ``run``: a command in a subprocess with
the environment every end-to-end test uses."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Optional

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = ROOT.parent / "shared" / "data"
BIN = Path(sys.executable).parent


def run_env(env=None) -> dict:
    """The environment of the tests' subprocesses (``env``: more variables)."""
    full_env = dict(os.environ)
    full_env.setdefault("WANDB_SILENT", "true")
    # plain Data-Juicer (no auto_hpo mode) would install a multi-GB torch at run time after every op; the plugin's
    # documented opt-in keeps the test runs offline (tests of the default behaviour remove it)
    full_env.setdefault("DJ_HPO_BLOCK_RUNTIME_INSTALLS", "1")
    full_env["PATH"] = f"{BIN}{os.pathsep}{full_env.get('PATH', '')}"
    if env:
        full_env.update(env)
    return full_env


def run(cmd, cwd, env=None, timeout=900):
    full_env = run_env(env)
    return subprocess.run(
        cmd, cwd=cwd, env=full_env, capture_output=True, text=True, encoding="utf-8", errors="replace", timeout=timeout
    )


def require(why: Optional[str], what: str) -> None:
    """Skip the calling test when ``why`` says what is missing here; fail it in CI, which must run ``what``."""
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run {what}, but: {why}")
        pytest.skip(why)


def wandb_run_info(path, cwd) -> dict:
    """An offline run's config and summary as W&B's own reader shows them (``wandb leet inspect``; ``path``: the
    run's directory, or a ``wandb`` directory for its latest run)."""
    res = run([str(BIN / "wandb"), "leet", "inspect", "--summary", "--json", str(path)], cwd=cwd)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def wandb_runs_by_trial(wandb_dir, cwd) -> dict:
    """Trial number -> :func:`wandb_run_info` of every ``offline-run-*`` under ``wandb_dir``."""
    infos = (wandb_run_info(run_dir, cwd) for run_dir in sorted(Path(wandb_dir).glob("offline-run-*")))
    return {info["summary"]["trial_number"]: info for info in infos}
