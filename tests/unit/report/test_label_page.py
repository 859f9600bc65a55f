"""The labelling page's generator (report/label_page.py): the sample read with one-line errors, embedded so that no
document can end its script element, and the page written beside the sample (the browser test labels with it)."""

import json

import pytest

from data_juicer_hpo.errors import AutoHpoError
from data_juicer_hpo.report.label_page import label_page_html, main, read_sample, write_label_page


def _sample(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_bad_samples_are_one_line_each(tmp_path):
    with pytest.raises(AutoHpoError, match=r"^to_label: file not found \(got '.*missing.jsonl'\)$"):
        read_sample(str(tmp_path / "missing.jsonl"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "a"}\n{oops\n')
    with pytest.raises(AutoHpoError, match=r"line 2 is not JSON"):
        read_sample(str(bad))
    with pytest.raises(AutoHpoError, match=r"line 1 has no string field 'content' \(the text key\)"):
        read_sample(str(_sample(tmp_path / "t.jsonl", [{"text": "a"}])), "content")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(AutoHpoError, match="holds no document"):
        read_sample(str(empty))


def test_no_document_can_end_the_script_that_holds_it():
    rows = [{"text": "</script><script>alert(1)</script>", "meta": {"x": "a\u2028b & <c>"}}]
    html = label_page_html(rows, "to_label.jsonl")
    data = html.split('<script type="application/json" id="sample">')[1].split("</script>")[0]
    assert "<" not in data and ">" not in data and "&" not in data and "\u2028" not in data
    assert json.loads(data)["rows"] == rows  # the same records, read back


def test_the_page_is_written_beside_the_sample(tmp_path, capsys):
    sample = _sample(tmp_path / "to_label.jsonl", [{"content": "x", "meta": {}}])
    assert write_label_page(str(sample), text_key="content") == str(tmp_path / "label.html")
    html = (tmp_path / "label.html").read_text()
    assert '"textKey": "content"' in html and '"labelKey": "keep"' in html
    assert main([str(sample), "--text-key", "content", "--out", str(tmp_path / "other.html")]) == 0
    assert (tmp_path / "other.html").exists() and "other.html" in capsys.readouterr().out
    assert main([str(tmp_path / "nope.jsonl")]) == 1 and "error: to_label: file not found" in capsys.readouterr().err
