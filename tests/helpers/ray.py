"""A local Ray cluster for the tests, on loopback only: ``ray_netns.sh`` starts it inside a private network
namespace (``unshare --net``), so Ray can bind nothing else, and a private PID namespace makes ``ray stop --force``
stop only this cluster, not a concurrent test run's. The ``ray_runner`` fixture (tests/conftest.py) uses it."""

import shutil
import subprocess
from pathlib import Path

from tests.helpers.runs import run

NETNS_SCRIPT = Path(__file__).resolve().parent / "ray_netns.sh"


def netns_available() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    probe = subprocess.run(["unshare", "--net", "--pid", "--fork", "--mount-proc", "true"], capture_output=True)
    return probe.returncode == 0


def run_beside_ray(cmd, cwd, workers: int = 0, env=None):
    """Runs ``cmd`` beside a local Ray cluster on loopback (a private network namespace): one node, or (``workers``)
    a head and that many worker nodes, each its own raylet and object store."""
    env = {**(env or {}), "DJ_HPO_RAY_WORKERS": str(workers)}
    return run(
        # a private PID namespace too: `ray stop --force` then stops only this cluster, not a concurrent run's
        [
            "unshare",
            "--net",
            "--pid",
            "--fork",
            "--mount-proc",
            "bash",
            str(NETNS_SCRIPT),
            *map(str, cmd),
        ],
        cwd=cwd,
        timeout=900,
        env=env,
    )
