"""How many processes an objective's setup uses (objectives/chunks.py)."""

from data_juicer_hpo.objectives import Population


def test_setup_processes_follow_the_recipe_np():
    from types import SimpleNamespace

    from data_juicer_hpo.objectives.chunks import setup_processes

    assert setup_processes(Population(["a"])) == 1  # no recipe: one process
    assert setup_processes(Population(["a"], cfg=SimpleNamespace(np=1))) == 1
    assert 1 <= setup_processes(Population(["a"], cfg=SimpleNamespace(np=64))) <= (__import__("os").cpu_count() or 1)


def test_forked_call_runs_beside_the_block_and_stops_its_worker_on_an_error():
    import os

    import pytest

    from data_juicer_hpo.objectives.chunks import forked_call, may_fork

    if not may_fork():
        pytest.skip("this platform does not fork")
    here = os.getpid()
    with forked_call(lambda: (os.getpid(), os.getppid())) as result:
        pid, parent = result.get(timeout=30)
    assert pid != here and parent == here
    pids = []
    with pytest.raises(RuntimeError, match="stop"):
        with forked_call(lambda: __import__("time").sleep(60)) as result:
            pids.extend(p.pid for p in __import__("multiprocessing").active_children())
            raise RuntimeError("stop")
    assert pids and not any(p.pid in pids for p in __import__("multiprocessing").active_children())
