"""Both reports of real runs opened in headless Chromium: no console error, no request beyond the file itself, every
tuned filter named, example documents present, a document full of HTML markup shown as text (nothing of it run,
rendered or fetched), the static parts readable without JavaScript, and a sweep's trials table, Pareto front and
choice consistent with its ``trials.csv``. Screenshots go to ``$DJ_HPO_SCREENSHOTS`` (the docs' pictures)."""

import csv
from pathlib import Path

import numpy as np
import pytest

from tests.helpers.browser import chromium, console_errors, open_file, requests_outside, require_browser, screenshot
from tests.helpers.report_runs import MARKUP

pytestmark = [pytest.mark.e2e, pytest.mark.corpus]


def _rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def _check_markup_is_text(driver, report_title: str) -> None:
    """The markup document is in the page as its own text: no element of it exists, no script of it ran."""
    texts = [e.get_attribute("textContent") for e in driver.find_elements("css selector", "pre.text")]
    shown = [t for t in texts if t.startswith("<!doctype html><html><head><title>markup document</title><script>")]
    assert shown and all(MARKUP.startswith(t) for t in shown)
    assert driver.title == report_title
    assert driver.execute_script("return window.injected === undefined")
    assert driver.execute_script("return document.querySelectorAll('pre.text *, iframe, img:not(.plot)').length") == 0
    metas = [e.get_attribute("textContent") for e in driver.find_elements("css selector", ".doc .docmeta")]
    assert any(f"{len(MARKUP):,} characters" in m for m in metas)  # truncated, with its length


def _check_static(path: Path, titles) -> None:
    """Without JavaScript the summary, the filters' tables and the documents are all there."""
    with chromium(javascript=False) as driver:
        open_file(driver, path)
        assert not driver.find_elements("css selector", "html.js")  # the page's script did not run
        assert [h.text for h in driver.find_elements("css selector", "#filters article > h3")] == titles
        assert driver.find_elements("css selector", "#summary table tbody tr")
        assert len(driver.find_elements("css selector", "pre.text")) >= len(titles)


def test_three_sigma_report(three_sigma_report_run, tmp_path):
    require_browser()
    run = three_sigma_report_run
    assert run["returncode"] == 0, run["stderr"][-3000:]
    report = Path(run["dir"]) / "report" / "report.html"
    assert f"auto_hpo[3sigma]:   report: [{report}]" in run["stderr"]
    titles = [
        "text_length_filter (#0): text_len",
        "average_line_length_filter (#1): avg_line_length",
        "maximum_line_length_filter (#2): max_line_length",
    ]
    with chromium() as driver:
        url = open_file(driver, report)
        assert console_errors(driver) == []
        assert requests_outside(driver, url) == []
        assert driver.find_elements("css selector", "html.js")  # the page's script ran
        assert [h.text for h in driver.find_elements("css selector", "#filters article > h3")] == titles
        for article in driver.find_elements("css selector", "#filters article"):
            assert article.find_elements("css selector", "svg.hist")
            assert article.find_elements("css selector", "pre.text"), article.get_attribute("id")
        _check_markup_is_text(driver, "3sigma report: data.jsonl")
        # the summary's counts are the exported ones
        kept = sum(1 for _ in open(Path(run["dir"]) / "export" / "kept.jsonl"))
        cells = [c.text for c in driver.find_elements("css selector", "#summary table tbody tr td")]
        assert f"{kept:,}" in cells
        screenshot(driver, "report-3sigma", tmp_path, css="#filter-0-text_len")
        assert console_errors(driver) == [] and requests_outside(driver, url) == []
    _check_static(report, titles)


def _front(rows, names):
    """The feasible completed trials no other such trial dominates (brute force over every pair)."""
    done = [r for r in rows if r["state"] == "COMPLETE" and r["feasible"] == "true"]
    values = {r["number"]: np.array([float(r[n]) for n in names]) for r in done}

    def dominated(a):
        return any((values[b] >= values[a]).all() and (values[b] > values[a]).any() for b in values if b != a)

    return sorted(int(n) for n in values if not dominated(n))


def test_sweep_report(sweep_report_run, tmp_path):
    require_browser()
    run = sweep_report_run
    assert run["returncode"] == 0, run["stderr"][-3000:]
    out = Path(run["dir"]) / "hpo"
    report, rows = out / "report.html", _rows(out / "trials.csv")
    # the closing summary ends the run: only Data-Juicer's own timing line comes after it
    tail = run["stderr"].strip().splitlines()
    start = max(i for i, line in enumerate(tail) if "auto_hpo[sweep]: done in" in line)
    assert all("auto_hpo[sweep]:   " in line for line in tail[start + 1 : -1]) and "Running executor took" in tail[-1]
    assert f"report: [{report}]" in run["stderr"]
    titles = [
        "text_length_filter (#0): text_len",
        "alphanumeric_filter (#1): alnum_ratio",
        "character_repetition_filter (#2): char_rep_ratio",
    ]
    front = _front(rows, ["quality_score", "retention"])
    with chromium() as driver:
        url = open_file(driver, report)
        assert console_errors(driver) == []
        assert requests_outside(driver, url) == []
        assert [h.text for h in driver.find_elements("css selector", "#filters article > h3")] == titles
        assert len(driver.find_elements("css selector", "#filters pre.text")) >= 6
        _check_markup_is_text(driver, "Sweep report: report-sweep")
        # the trials: one row each, infeasible ones marked, sortable by any column
        table = driver.find_element("css selector", "table.trials")
        body = table.find_elements("css selector", "tbody tr")
        assert len(body) == len(rows)
        infeasible = {r["number"] for r in rows if r["feasible"] == "false"}
        marked = {
            tr.find_element("css selector", "td").text for tr in body if "infeasible" in tr.get_attribute("class")
        }
        assert marked == infeasible and infeasible  # the constraint bites in this sweep
        header = [th for th in table.find_elements("css selector", "thead th") if th.text == "quality_score"][0]
        header.click()
        column = [th.text for th in table.find_elements("css selector", "thead th")].index("quality_score")
        shown = [
            tr.find_elements("css selector", "td")[column].text
            for tr in table.find_elements("css selector", "tbody tr")
        ]
        values = [float(v) for v in shown if v]
        assert values == sorted(values) and header.get_attribute("aria-sort") == "ascending"
        # the Pareto front: each front trial with its recipe and its own example documents
        articles = driver.find_elements("css selector", "#pareto > article")
        assert sorted(int(a.get_attribute("id").split("-")[1]) for a in articles) == front
        for article in articles:
            number = article.get_attribute("id").split("-")[1]
            link = article.find_element("css selector", "p a")
            assert link.get_attribute("href").endswith(f"/pareto/trial-{number}.yaml")
            assert (out / "pareto" / f"trial-{number}.yaml").exists()
            assert article.find_elements("css selector", "pre.text")
        chosen = [a for a in articles if "(the chosen trial)" in a.find_element("css selector", "h3").text]
        assert len(chosen) == 1
        screenshot(driver, "report-sweep", tmp_path)
        assert console_errors(driver) == [] and requests_outside(driver, url) == []
    _check_static(report, titles)
