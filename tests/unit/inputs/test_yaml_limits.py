"""YAML within limits (inputs/yaml_limits.py): alias bombs and oversized files refused before anything expands them;
the expansion counted on the composed graph matches a brute-force count of the loaded data."""

import time

import pytest
import yaml

from data_juicer_hpo.errors import AutoHpoError
from data_juicer_hpo.inputs import yaml_limits
from data_juicer_hpo.inputs.yaml_limits import expanded_size, has_top_key, load_yaml, yaml_problem


def bomb(levels: int = 9, width: int = 9) -> str:
    lines = [f"a0: &a0 [{', '.join(['lol'] * width)}]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def brute_force(value) -> int:
    """Nodes of the loaded data, every alias a full copy (as a mapping counts its keys and values)."""
    if isinstance(value, dict):
        return 1 + sum(brute_force(k) + brute_force(v) for k, v in value.items())
    if isinstance(value, list):
        return 1 + sum(brute_force(v) for v in value)
    return 1


def test_a_billion_laughs_is_refused_at_once(tmp_path):
    path = tmp_path / "recipe.yaml"
    path.write_text("process: []\nauto_hpo: {mode: 3sigma}\n" + bomb())
    started = time.monotonic()
    problem = yaml_problem("--config", str(path))
    assert time.monotonic() - started < 2
    assert problem.startswith(f"--config: '{path}' expands to more than 250,000 values through its YAML aliases")
    with pytest.raises(AutoHpoError) as err:
        load_yaml("auto_hpo.hpo_config", str(path))
    assert str(err.value).startswith("auto_hpo.hpo_config: ")
    assert has_top_key(str(path), "auto_hpo") and not has_top_key(str(path), "mode")


@pytest.mark.parametrize("levels, width", [(1, 3), (3, 4), (5, 5), (4, 9)])
def test_the_expansion_count_is_the_brute_force_count(levels, width):
    text = "top: {x: 1}\n" + bomb(levels, width)
    assert expanded_size(yaml.compose(text), 10**9) == brute_force(yaml.safe_load(text))


def test_a_file_that_contains_itself_is_refused(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text("a: &a [1, *a]\n")
    assert "refers to itself through an alias" in yaml_problem("key", str(path))


def test_ordinary_files_pass_and_the_size_limit_holds(tmp_path, monkeypatch):
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump({"method": "grid", "parameters": {"x": {"values": list(range(5000))}}}))
    assert yaml_problem("key", str(path)) is None
    assert load_yaml("key", str(path))["parameters"]["x"]["values"][-1] == 4999
    monkeypatch.setattr(yaml_limits, "MAX_BYTES", 100)
    assert yaml_problem("key", str(path)).startswith(f"key: '{path}' is ")
    assert yaml_problem("key", str(tmp_path / "missing.yaml")) is None  # the caller says "no such file"
    (tmp_path / "bad.yaml").write_text("a: [1\n")
    assert yaml_problem("key", str(tmp_path / "bad.yaml")) is None  # left to the YAML parser's own words
