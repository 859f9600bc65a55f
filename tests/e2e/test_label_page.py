"""The labelling page in headless Chromium: built from a to_label.jsonl of real documents (and one full of HTML
markup), labelled with the keyboard, saved as a download into a directory of the test's choosing; the file is what
``auto_hpo.labels`` reads (JSON Lines: every field of the sample's record, the label under ``keep``, true/false)."""

import json
import time
from pathlib import Path

import pytest

from data_juicer_hpo.report import write_label_page

from tests.helpers.browser import chromium, console_errors, open_file, requests_outside, require_browser, screenshot
from tests.helpers.data import decompress, read_jsonl
from tests.helpers.report_runs import MARKUP

pytestmark = [pytest.mark.e2e, pytest.mark.corpus]

MIN_LABELS = 20  # what the labels objective needs (auto_hpo.labels), with both keep and drop among them


def _sample(shared_data: Path, tmp_path: Path) -> Path:
    rows = read_jsonl(decompress(shared_data / "bench-corpus.jsonl.gz", tmp_path / "corpus.jsonl", limit=29))
    rows.insert(3, {"text": MARKUP, "meta": {"source": "markup test", "id": "markup"}})
    path = tmp_path / "sample" / "to_label.jsonl"
    path.parent.mkdir()
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _wait_for(path: Path, seconds: float = 20.0) -> Path:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and not list(path.parent.glob("*.crdownload")):
            return path
        time.sleep(0.1)
    raise AssertionError(f"no download at {path}: {list(path.parent.iterdir())}")


def test_label_page_keyboard_and_save(shared_data, tmp_path):
    require_browser()
    sample = _sample(shared_data, tmp_path)
    rows = read_jsonl(sample)
    page = Path(write_label_page(str(sample)))
    assert page == sample.parent / "label.html"
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    # keys and what they do: keep, drop, skip, back (then relabel), arrows as aliases
    plan = ["k", "d"] * 13 + ["s", "k", "k", "d"]  # 30 keys for 30 documents: one skipped
    with chromium(download_dir=downloads) as driver:
        url = open_file(driver, page)
        body = driver.find_element("css selector", "body")
        assert driver.find_element("id", "count").text == f"0 of {len(rows)} labelled · 0 keep · 0 drop"
        for key in plan:
            body.send_keys(key)
        expected = {}
        i = 0
        for key in plan:
            if key != "s":
                expected[i] = key == "k"
            i += 1
        # back to document 2 (index 1) with the up arrow and Backspace, relabel it keep with the right arrow
        driver.find_element("id", "back").click()  # at the last document already: back one
        for _ in range(len(rows) - 4):  # from document 29 (index 28) to index 2
            body.send_keys("\ue013")  # ArrowUp
        body.send_keys("\ue003")  # Backspace
        assert driver.find_element("id", "pos").text == "2"
        body.send_keys("\ue014")  # ArrowRight: keep
        expected[1] = True
        keep, drop = sum(expected.values()), sum(1 for v in expected.values() if not v)
        assert (
            driver.find_element("id", "count").text
            == f"{len(expected)} of {len(rows)} labelled · {keep} keep · {drop} drop"
        )
        # the markup document (index 3) is shown as text: the keep moved on to index 2, one skip to 3
        body.send_keys("\ue015")  # ArrowDown: skip
        assert driver.find_element("id", "pos").text == "4"
        assert driver.find_element("id", "text").get_attribute("textContent") == MARKUP
        assert driver.execute_script("return document.querySelectorAll('#text *, iframe, img').length") == 0
        assert driver.execute_script("return window.injected === undefined") and "injected" not in driver.title
        screenshot(driver, "label-page", tmp_path)
        body.send_keys("\ue009", "s")  # Ctrl+S saves
        saved = _wait_for(downloads / "labels.jsonl")
        assert "Saved" in driver.find_element("id", "saved").text
        assert console_errors(driver) == []
        assert requests_outside(driver, url) == []
    lines = saved.read_text(encoding="utf-8").splitlines()
    labelled = [json.loads(line) for line in lines]
    # the format auto_hpo.labels reads: the sample's records, in order, each with a true/false label under "keep"
    assert [r["text"] for r in labelled] == [rows[i]["text"] for i in sorted(expected)]
    assert [r["keep"] for r in labelled] == [expected[i] for i in sorted(expected)]
    for record, i in zip(labelled, sorted(expected)):
        assert {k: v for k, v in record.items() if k != "keep"} == rows[i] and isinstance(record["keep"], bool)
    assert len(labelled) >= MIN_LABELS and any(r["keep"] for r in labelled) and not all(r["keep"] for r in labelled)


def test_label_page_keeps_labels_over_a_reload(shared_data, tmp_path):
    require_browser()
    page = Path(write_label_page(str(_sample(shared_data, tmp_path))))
    with chromium() as driver:
        open_file(driver, page)
        body = driver.find_element("css selector", "body")
        body.send_keys("k", "d", "k")
        driver.refresh()
        assert driver.find_element("id", "count").text.startswith("3 of 30 labelled · 2 keep · 1 drop")
        assert driver.find_element("id", "pos").text == "4"  # the first document without a label
        assert console_errors(driver) == []
