"""Recording a local sweep's trials as W&B offline runs, in a process beside the sweep's.

A sweep hands each finished trial to this process (one JSON line on its standard input, already masked of secrets)
and goes on with the next trial while W&B writes the run here, on another core. At the sweep's end line
(``{"end": true}``), or when the sweep's process is gone (its input ends, or this process has another parent: a
process Data-Juicer forked from the sweep may still hold the input open), it records what it was given and writes
one JSON line to its standard output: the run directories, and the first error if a run could not be recorded (then
it stops reading). It runs in a session of its own: a Ctrl-C or a signal to the sweep's process group is for the
sweep, which ends the recording as it ends, and the runs handed over are still written. It never imports
Data-Juicer; of the plugin, only the light bottom modules (``errors``: what a full disk looks like).
"""

import json
import logging
import os
import select
import signal
import sys
from typing import Dict, Iterator, Optional

import wandb

from data_juicer_hpo.errors import full_disk_error

__all__ = ["LEAN", "lean_settings", "main"]

# What each trial's run leaves out: the environment's requirements and the working directory's git state are the
# same for every trial of a sweep, and collecting them costs most of a run's recording (0.16 -> 0.04 s per run
# with W&B 0.31: a 200-trial sweep spends 8 s instead of 32 on its runs).
LEAN = {
    "silent": True,
    "console": "off",
    "x_disable_stats": True,
    "x_disable_machine_info": True,
    "x_save_requirements": False,
    "disable_git": True,
}


def lean_settings() -> dict:
    """:data:`LEAN`, less what this W&B's settings do not have (an older release)."""
    known = getattr(wandb.Settings, "model_fields", None)
    return {k: v for k, v in LEAN.items() if known is None or k in known}


def _record(run_spec: dict) -> Optional[str]:
    """One run: ``init`` (wandb.init's keywords), ``history`` ([step, value] pairs of ``metric``), ``summary``,
    ``exit_code``. Returns the run's directory."""
    run = wandb.init(**run_spec["init"], reinit="create_new", settings=wandb.Settings(**lean_settings()))
    try:
        metric = run_spec["metric"]
        for step, value in run_spec["history"]:
            run.log({metric: value, "rung": step})
        run.summary.update(run_spec["summary"])
        run_dir = os.path.dirname(run.dir) if run.dir else None
    finally:
        run.finish(exit_code=run_spec["exit_code"])
    return run_dir


def _failure(exc: BaseException) -> Dict[str, object]:
    """What the sweep needs of a failed recording: the write that failed for lack of room (its errno, message and
    file), else the exception's type and message."""
    full = full_disk_error(exc)
    if full is not None:
        return {"errno": full.errno, "strerror": full.strerror, "filename": full.filename}
    return {"type": type(exc).__name__, "message": str(exc)}


def _lines(fd: int, parent: int) -> Iterator[bytes]:
    """The lines written to ``fd`` until it ends or the process ``parent`` is no longer this one's parent."""
    pending = b""
    while True:
        ready, _, _ = select.select([fd], [], [], 1.0)
        if not ready:
            if os.getppid() != parent:
                return
            continue
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return
        *lines, pending = (pending + chunk).split(b"\n")
        yield from (line for line in lines if line.strip())


def main() -> int:
    for sig in (signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    logging.raiseExceptions = False  # W&B's own log handlers on a full disk: no traceback per record
    runs, error = [], None
    for line in _lines(sys.stdin.fileno(), int(sys.argv[1]) if len(sys.argv) > 1 else os.getppid()):
        try:
            run_spec = json.loads(line)
        except ValueError:  # a line cut short by a signal in the middle of the sweep's write: the trial is in its study
            continue
        if run_spec.get("end"):
            break
        try:
            run_dir = _record(run_spec)
        except Exception as e:  # reported to the sweep, which decides; the runs after it are not attempted
            error = _failure(e)
            break
        if run_dir:
            runs.append(run_dir)
    try:
        sys.stdout.write(json.dumps({"runs": runs, "error": error}) + "\n")
        sys.stdout.flush()
    except OSError:  # the sweep's process is gone: nothing to tell
        pass
    return 1 if error else 0


if __name__ == "__main__":
    sys.exit(main())
