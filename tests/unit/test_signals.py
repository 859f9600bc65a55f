"""Signals (signals.py) in real processes: SIGHUP ends a run like SIGTERM, the first signal decides the outcome, and
a forked worker dies with its parent."""

import os
import signal
import subprocess
import sys
import textwrap
import time

from data_juicer_hpo.signals import LINE

from tests.helpers.runs import ROOT

RUN = """
import os, sys, time
from data_juicer_hpo.signals import interruptible
marks = sys.argv[1]
with interruptible():
    try:
        open(marks + ".ready", "w").close()
        time.sleep(60)
    except KeyboardInterrupt:
        open(marks + ".cleaning", "w").close()
        time.sleep(1.5)  # the clean-up a second signal must not cut short
        open(marks + ".cleaned", "w").close()
        raise
"""


def _start(tmp_path, script: str, *args):
    path = tmp_path / "script.py"
    path.write_text(textwrap.dedent(script))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, str(path), *map(str, args)],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _wait(path, timeout=60):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def test_sighup_ends_a_run_as_sigterm_does(tmp_path):
    marks = tmp_path / "m"
    proc = _start(tmp_path, RUN, marks)
    _wait(f"{marks}.ready")
    proc.send_signal(signal.SIGHUP)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 129 and err.rstrip().splitlines()[-1] == LINE
    assert os.path.exists(f"{marks}.cleaned")


def test_a_second_signal_changes_nothing(tmp_path):
    for first, second, code in [(signal.SIGINT, signal.SIGINT, 130), (signal.SIGTERM, signal.SIGINT, 143)]:
        marks = tmp_path / f"m{first}"
        proc = _start(tmp_path, RUN, marks)
        _wait(f"{marks}.ready")
        proc.send_signal(first)
        _wait(f"{marks}.cleaning")
        proc.send_signal(second)  # a second Ctrl-C while the run cleans up
        proc.send_signal(signal.SIGHUP)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == code, err[-2000:]
        assert err.rstrip().splitlines()[-1] == LINE and "Traceback" not in err
        assert os.path.exists(f"{marks}.cleaned")  # the clean-up ran to its end


ORPHAN = """
import multiprocessing, os, signal, sys, time
from data_juicer_hpo.signals import die_with_parent
marks = sys.argv[1]

def child(parent):
    def on_term(signum, frame):
        open(marks + ".terminated", "w").close()
        os._exit(0)
    signal.signal(signal.SIGTERM, on_term)
    die_with_parent(parent)
    open(marks + ".child", "w").write(str(os.getpid()))
    time.sleep(60)
    open(marks + ".outlived", "w").close()

multiprocessing.get_context("fork").Process(target=child, args=(os.getpid(),)).start()
time.sleep(60)
"""


def test_a_forked_worker_dies_with_its_parent(tmp_path):
    marks = tmp_path / "m"
    proc = _start(tmp_path, ORPHAN, marks)
    _wait(f"{marks}.child")
    proc.kill()  # as the OOM killer does: no clean-up in the parent
    proc.communicate()
    _wait(f"{marks}.terminated", timeout=10)
    child = int(open(f"{marks}.child").read())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and os.path.exists(f"/proc/{child}"):
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{child}") and not os.path.exists(f"{marks}.outlived")


FORKS = """
import logging, os, sys
from loguru import logger
from data_juicer_hpo.signals import interruptible
logging.getLogger().addHandler(logging.StreamHandler(open(os.devnull, "w")))
logger.remove()
logger.add(open(os.devnull, "w"))
marks = sys.argv[1]
with interruptible():
    open(marks + ".ready", "w").close()
    while True:  # a worker pool starting: fork after fork, each through logging's and loguru's fork hooks
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        logging.getLogger().warning("forked")
        logger.info("forked")
"""


def test_a_signal_during_a_fork_is_neither_lost_nor_a_hang(tmp_path):
    for attempt in range(6):
        marks = tmp_path / f"f{attempt}"
        proc = _start(tmp_path, FORKS, marks)
        _wait(f"{marks}.ready")
        time.sleep(0.05 * attempt)
        proc.send_signal(signal.SIGTERM)
        try:
            _, err = proc.communicate(timeout=30)
        finally:
            proc.kill()  # a run that hangs (a logging lock left held by a fork hook) must not outlive the test
        assert proc.returncode == 143, err[-2000:]
        assert err.rstrip().splitlines()[-1] == LINE and "Traceback" not in err and "Exception ignored" not in err


EARLY = """
import os, signal, sys, time
from data_juicer_hpo.signals import interruptible

# a hook registered before the run's runs before its hook in the child: the signal lands where a pool's terminate
# lands when it comes the moment the pool forked its worker
os.register_at_fork(after_in_child=lambda: os.kill(os.getpid(), signal.SIGTERM))
with interruptible():
    pid = os.fork()
    if pid == 0:
        time.sleep(30)  # a worker that lost the signal would wait for tasks here, and its pool for it
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    print(os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM, flush=True)
"""


def test_a_signal_a_child_gets_before_its_fork_hook_is_not_lost(tmp_path):
    path = tmp_path / "script.py"
    path.write_text(textwrap.dedent(EARLY))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, str(path)], env=env, capture_output=True, text=True, timeout=20)
    assert out.returncode == 0 and out.stdout.strip() == "True", out.stderr[-2000:]
