"""W&B at the edges: credentials, and recording each local trial as a W&B offline run (``wandb sync`` later)."""

import json
import netrc
import os
import subprocess
import sys
from typing import Dict, List, Optional, Tuple
from urllib.parse import urlparse

from loguru import logger

from data_juicer_hpo.redaction import redact_value

__all__ = ["wandb_credentials", "wandb_mode", "OfflineRecorder"]

DEFAULT_HOST = "https://api.wandb.ai"


def wandb_mode() -> str:
    return (os.environ.get("WANDB_MODE") or "").strip().lower()


def wandb_credentials() -> Optional[str]:
    """Where W&B credentials come from (``'WANDB_API_KEY'`` or ``'~/.netrc'``), or None. Never the key."""
    if os.environ.get("WANDB_API_KEY", "").strip():
        return "WANDB_API_KEY"
    host = urlparse(os.environ.get("WANDB_BASE_URL") or DEFAULT_HOST).hostname
    path = os.environ.get("NETRC") or os.path.expanduser("~/.netrc")
    try:
        auth = netrc.netrc(path).authenticators(host) if os.path.exists(path) else None
    except (netrc.NetrcParseError, OSError):
        auth = None
    return "~/.netrc" if auth and auth[2] else None


def _plain(value):
    """A NumPy scalar or array as its Python value, anything else JSON cannot write as its text."""
    return value.tolist() if hasattr(value, "tolist") else str(value)


class OfflineRecorder:
    """Records finished trials as W&B runs in offline mode under ``<out_dir>/wandb`` (off when WANDB_MODE=disabled).

    A run's config is the trial's sampled values (never credentials), its summary the metric (or the error), every
    objective's score and ``feasible`` under constraints, and its history the values reported on hyperband rungs;
    config and summary are masked of secrets here, before they leave this process.

    The runs are written by a process of their own (:mod:`data_juicer_hpo.wandb_runs`, started at the first trial)
    while the sweep goes on; :meth:`close` waits for it to finish them, and raises what it could not record (a full
    disk as the ``OSError`` it was). When the sweep's process dies without closing it, that process notices, writes
    the runs it was handed and ends.
    """

    def __init__(self, out_dir: str, project: str, group: str, metric: str):
        self.enabled = wandb_mode() != "disabled"
        self.dir = out_dir
        self.project, self.group, self.metric = project, group, metric
        self.runs: List[str] = []
        self._process: Optional[subprocess.Popen] = None
        self._sent = 0

    def record(self, record, history: List[Tuple[int, float]] = ()) -> None:
        if not self.enabled:
            return
        summary: Dict[str, object] = {"state": record.state, "trial_number": record.number}
        if record.value is not None:
            summary[self.metric] = record.value
        summary.update(record.scores)  # every objective (several objectives, constrained ones)
        if record.feasible is not None:
            summary["feasible"] = record.feasible
        if record.error:
            summary["error"] = record.error
        run = {
            "init": {
                "mode": "offline",
                "dir": os.path.abspath(self.dir),
                "project": self.project,
                "group": self.group,
                "job_type": "sweep-trial",
                "name": f"{self.group}-trial-{record.number}",
                "config": redact_value(dict(record.params)),
            },
            "metric": self.metric,
            "history": [[step, value] for step, value in history],
            "summary": redact_value(summary),
            "exit_code": 0 if record.state != "FAIL" else 1,
        }
        line = (json.dumps(run, default=_plain) + "\n").encode()
        if self._process is None:
            os.makedirs(self.dir, exist_ok=True)
            self._process = subprocess.Popen(
                [sys.executable, "-m", "data_juicer_hpo.wandb_runs", str(os.getpid())],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,  # W&B reports nothing there that is not in its debug logs
                start_new_session=True,  # a signal to the sweep's process group is the sweep's to handle
            )
        try:
            self._process.stdin.write(line)
            self._process.stdin.flush()
        except BrokenPipeError:  # it stopped at a run it could not record: say why
            self.close()
            raise RuntimeError("the W&B offline runs' process ended before the sweep did") from None
        self._sent += 1

    def close(self, timeout: float = 600.0) -> None:
        """Wait for every trial handed over to be written as a run (at most ``timeout`` seconds); raise what could
        not be recorded. Recording can start again after it."""
        process, self._process = self._process, None
        if process is None:
            return
        sent, self._sent = self._sent, 0
        try:  # the end line, not only the end of the input: a process forked since holds the input open too
            process.stdin.write(b'{"end": true}\n')
            process.stdin.flush()
        except BrokenPipeError:  # it stopped at a run it could not record: its report says which
            pass
        try:
            out, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise RuntimeError(f"recording {sent} trials as W&B offline runs took more than {timeout:.0f} s") from None
        try:
            report = json.loads(out.decode().strip().splitlines()[-1])
        except (ValueError, IndexError):
            report = {"runs": [], "error": {"type": "exit", "message": f"status {process.returncode}"}}
        self.runs.extend(report.get("runs") or [])
        error = report.get("error")
        if not error:
            return
        if error.get("errno"):
            raise OSError(error["errno"], error.get("strerror") or os.strerror(error["errno"]), error.get("filename"))
        done = len(report.get("runs") or [])
        raise RuntimeError(
            f"recording trials as W&B offline runs failed after {done} of {sent}: "
            f"{error.get('type')}: {error.get('message')}"
        )

    def log_where(self) -> None:
        if self.enabled and self.runs:
            where = os.path.join(self.dir, "wandb")
            logger.info(
                f"auto_hpo[sweep]: [{len(self.runs)}] trials recorded as W&B offline runs in [{where}]; "
                f"upload them with: wandb sync {where}/offline-run-*"
            )
