"""The report page (report/page.py): its sections from plain data, links relative to where it is written, and the
file written whole."""

import numpy as np

from data_juicer_hpo.report import (
    FrontTrial,
    ParameterTable,
    Report,
    Summary,
    TrialsTable,
    TunedStatistic,
    filter_sections,
    render_report,
    write_report,
)


def _report(tmp_path):
    values = np.arange(100)
    stat = TunedStatistic(0, "text_length_filter", "text_len", values, {"min": "min_len", "max": "max_len"},
                          {"min": 10, "max": 1000}, {"min": 20, "max": 90},
                          {"min": "10", "max": "1000"}, {"min": "20", "max": "90"})  # fmt: skip
    sections = filter_sections([stat], lambda rows: [f"<i>doc {r}</i>" for r in rows])
    summary = Summary([("data", "d.jsonl")], [("text_length_filter.min_len (#0)", "10", "20")], [("chosen", 71)], 100,
                      [("trials", str(tmp_path / "hpo" / "trials.csv"))])  # fmt: skip
    row = {"number": 0, "state": "COMPLETE", "q": 0.5, "_class": "best", "_anchor": "trial-0"}
    trials = TrialsTable(["number", "state", "q"], [True, False, True], [row])
    recipe = str(tmp_path / "hpo" / "pareto" / "trial-0.yaml")
    front = [FrontTrial(0, {"q": 0.5}, {"text_length_filter.min_len": 20}, recipe, sections, True)]
    params = [ParameterTable("q", "maximize", 5, [("text_length_filter.min_len", 0.7, -0.5, "spearman")])]
    return Report("Sweep <report>", "wandb", summary, sections, trials, params, [], front)


def test_every_section_is_rendered_from_plain_data(tmp_path):
    html = render_report(_report(tmp_path), str(tmp_path / "hpo"))
    for anchor in ("summary", "filters", "trials", "parameters", "pareto", "filter-0-text_len", "trial-0"):
        assert f'id="{anchor}"' in html
    assert "<title>Sweep &lt;report&gt;</title>" in html and "&lt;i&gt;doc " in html and "<i>doc" not in html
    assert '<a href="trials.csv">' in html and '<a href="pareto/trial-0.yaml">' in html  # relative to the page
    assert '<a href="#trial-0">0</a>' in html and '<tr class="best">' in html
    assert "rho -0.50" in html and "71" in html and "71.0%" in html
    assert 'id="plots"' not in html  # no image given: no empty section


def test_the_report_is_written_whole(tmp_path):
    path = write_report(str(tmp_path / "out" / "report.html"), _report(tmp_path))
    text = open(path, encoding="utf-8").read()
    assert text.startswith("<!doctype html>") and text.rstrip().endswith("</html>")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["report.html"]  # no temporary file left
