"""How many processes an objective's setup uses (objectives/chunks.py)."""

from data_juicer_hpo.objectives import Population


def test_setup_processes_follow_the_recipe_np():
    from types import SimpleNamespace

    from data_juicer_hpo.objectives.chunks import setup_processes

    assert setup_processes(Population(["a"])) == 1  # no recipe: one process
    assert setup_processes(Population(["a"], cfg=SimpleNamespace(np=1))) == 1
    assert 1 <= setup_processes(Population(["a"], cfg=SimpleNamespace(np=64))) <= (__import__("os").cpu_count() or 1)
