"""W&B at the edges: credentials, and recording each local trial as a W&B offline run (``wandb sync`` later)."""

import netrc
import os
from typing import Dict, List, Optional, Tuple
from urllib.parse import urlparse

from loguru import logger

from data_juicer_hpo.imports import lazy_import
from data_juicer_hpo.redaction import redact_value

wandb = lazy_import("wandb")  # 1.4 s to import: only when a trial is recorded or an agent runs

__all__ = ["wandb_credentials", "wandb_mode", "OfflineRecorder", "import_before_fork"]

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


def import_before_fork() -> None:
    """Import W&B in the parent before local workers fork, when runs are recorded: W&B makes two temporary
    directories when it is imported (``tmp*wandb-media``, ``tmp*wandb-artifacts``) and removes them at the exit of
    the process that made them; a forked worker ends without Python's exit handlers, so one that imported W&B
    itself would leave its two behind in the system's temporary directory."""
    if wandb_mode() != "disabled":
        wandb.Settings  # noqa: B018  (the first attribute read imports it)


# What each trial's run leaves out: the environment's requirements and the working directory's git state are the
# same for every trial of a sweep, and collecting them costs most of a run's recording (0.16 -> 0.04 s per run
# with W&B 0.31: a 200-trial sweep spends 8 s instead of 32 on its runs).
_LEAN = {
    "silent": True,
    "console": "off",
    "x_disable_stats": True,
    "x_disable_machine_info": True,
    "x_save_requirements": False,
    "disable_git": True,
}


def _settings() -> dict:
    """:data:`_LEAN`, less what this W&B's settings do not have (an older release)."""
    known = getattr(wandb.Settings, "model_fields", None)
    return {k: v for k, v in _LEAN.items() if known is None or k in known}


class OfflineRecorder:
    """Records finished trials as W&B runs in offline mode under ``<out_dir>/wandb`` (off when WANDB_MODE=disabled).

    A run's config is the trial's sampled values (never credentials), its summary the metric (or the error), every
    objective's score and ``feasible`` under constraints, and its history the values reported on hyperband rungs;
    config and summary are masked of secrets.
    """

    def __init__(self, out_dir: str, project: str, group: str, metric: str):
        self.enabled = wandb_mode() != "disabled"
        self.dir = out_dir
        self.project, self.group, self.metric = project, group, metric
        self.runs: List[str] = []

    def record(self, record, history: List[Tuple[int, float]] = ()) -> Optional[str]:
        if not self.enabled:
            return None
        os.makedirs(self.dir, exist_ok=True)
        run = wandb.init(
            mode="offline",
            dir=self.dir,
            project=self.project,
            group=self.group,
            job_type="sweep-trial",
            name=f"{self.group}-trial-{record.number}",
            config=redact_value(dict(record.params)),
            reinit="create_new",
            settings=wandb.Settings(**_settings()),
        )
        try:
            for step, value in history:
                run.log({self.metric: value, "rung": step})
            summary: Dict[str, object] = {"state": record.state, "trial_number": record.number}
            if record.value is not None:
                summary[self.metric] = record.value
            summary.update(record.scores)  # every objective (several objectives, constrained ones)
            if record.feasible is not None:
                summary["feasible"] = record.feasible
            if record.error:
                summary["error"] = record.error
            run.summary.update(redact_value(summary))
            run_dir = os.path.dirname(run.dir) if run.dir else None
        finally:
            run.finish(exit_code=0 if record.state != "FAIL" else 1)
        if run_dir:
            self.runs.append(run_dir)
        return run_dir

    def log_where(self) -> None:
        if self.enabled and self.runs:
            where = os.path.join(self.dir, "wandb")
            logger.info(
                f"auto_hpo[sweep]: [{len(self.runs)}] trials recorded as W&B offline runs in [{where}]; "
                f"upload them with: wandb sync {where}/offline-run-*"
            )
