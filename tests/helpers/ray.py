"""A local Ray cluster for the tests, on loopback only: ``ray_netns.sh`` starts it inside a private network
namespace (``unshare --net``), so Ray can bind nothing else, and a private PID namespace makes ``ray stop --force``
stop only this cluster, not a concurrent test run's. The ``ray_runner`` fixture (tests/conftest.py) uses it."""

import re
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Callable, Optional

import psutil

from tests.helpers.runs import run, run_env

NETNS_SCRIPT = Path(__file__).resolve().parent / "ray_netns.sh"


def netns_available() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    probe = subprocess.run(["unshare", "--net", "--pid", "--fork", "--mount-proc", "true"], capture_output=True)
    return probe.returncode == 0


def run_beside_ray(cmd, cwd, workers: int = 0, env=None, while_running: Optional[Callable] = None):
    """Runs ``cmd`` beside a local Ray cluster on loopback (a private network namespace): one node, or (``workers``)
    a head and that many worker nodes, each its own raylet and object store. ``while_running(root)`` is called in a
    thread with the root of the run's process tree (a ``psutil.Process``), e.g. to kill a node mid-run."""
    env = {**(env or {}), "DJ_HPO_RAY_WORKERS": str(workers)}
    # a private PID namespace too: `ray stop --force` then stops only this cluster, not a concurrent run's
    command = ["unshare", "--net", "--pid", "--fork", "--mount-proc", "bash", str(NETNS_SCRIPT), *map(str, cmd)]
    if while_running is None:
        return run(command, cwd=cwd, timeout=900, env=env)
    process = subprocess.Popen(
        command, cwd=cwd, env=run_env(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace"
    )
    watcher = threading.Thread(target=while_running, args=(psutil.Process(process.pid),), daemon=True)
    watcher.start()
    stdout, stderr = process.communicate(timeout=900)
    watcher.join(timeout=60)
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def worker_raylets(root) -> list:
    """The raylets of the worker nodes (not the head's) under ``root``: each serves its own socket, ``raylet.N``."""
    found = []
    for process in root.children(recursive=True):
        try:
            args = process.cmdline()
        except psutil.Error:
            continue
        if args and args[0].endswith("/raylet") and any(re.search(r"sockets/raylet\.\d+$", a) for a in args):
            found.append(process)
    return found


def kill_a_worker_node_when(ready: Callable[[], bool], killed: list, timeout: float = 600):
    """A ``while_running`` that waits for ``ready()`` and then kills one worker node's raylet (SIGKILL: the node is
    lost with its object store and workers), appending its pid to ``killed``."""

    def watch(root):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and root.is_running():
            if ready():
                raylets = worker_raylets(root)
                if raylets:
                    raylets[0].kill()
                    killed.append(raylets[0].pid)
                return
            time.sleep(0.05)

    return watch
