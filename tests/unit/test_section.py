from data_juicer_hpo.section import KEYS, section_of, validate_section


def _section(**kw):
    base = {key.name: key.default for key in KEYS}
    base.update(kw)
    return base


def test_no_mode_means_nothing_to_check():
    assert validate_section(_section(k=-1)) == []


def test_every_problem_is_reported_at_once(tmp_path):
    problems = validate_section(
        _section(mode="bogus", k=0, path_3sigma_recipe=str(tmp_path / "x.txt"), backend="cloud", n_workers=0)
    )
    joined = "\n".join(problems)
    assert len(problems) == 5
    for key in ("auto_hpo.mode", "auto_hpo.k", "auto_hpo.path_3sigma_recipe", "auto_hpo.backend", "auto_hpo.n_workers"):
        assert key in joined


def test_recipe_path_checks(tmp_path):
    assert validate_section(_section(mode="3sigma", path_3sigma_recipe=str(tmp_path / "new" / "r.yml"))) == []
    assert not (tmp_path / "new").exists()  # checking writes nothing
    (tmp_path / "d.yaml").mkdir()
    problems = validate_section(_section(mode="3sigma", path_3sigma_recipe=str(tmp_path / "d.yaml")))
    assert problems and "directory" in problems[0]
    problems = validate_section(_section(mode="3sigma", path_3sigma_recipe="/proc/refined.yaml"))
    assert problems and "not a writable directory" in problems[0]


def test_wandb_needs_a_sweep_config():
    problems = validate_section(_section(mode="wandb"))
    assert problems == ["auto_hpo.hpo_config: required when auto_hpo.mode is 'wandb' (the sweep configuration)"]


def test_section_of_fills_defaults():
    class Cfg(dict):
        pass

    cfg = Cfg(auto_hpo={"mode": "3sigma"})
    section = section_of(cfg)
    assert section["mode"] == "3sigma" and section["k"] == 3.0 and section["plot"] is False
