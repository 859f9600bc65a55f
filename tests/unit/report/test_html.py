"""The report's HTML pieces (report/html.py): documents are text, escaped and truncated with their length; every
page carries the CSP that forbids any request; tables escape nothing themselves but keep what they are given."""

import base64

from data_juicer_hpo.report.html import CSP, doc_html, esc, fmt_number, page, png_data_uri, table


def test_a_document_is_escaped_and_truncated_with_its_length():
    text = "<script>alert('x')</script>&amp; " * 100
    out = doc_html(text, "document 7", limit=50)
    assert "<script>" not in out and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&amp;amp;" in out
    assert f"{len(text):,} characters" in out and "the first 50 of 3,300 characters shown" in out
    shown = out.split('<pre class="text">')[1].split("</pre>")[0]
    assert shown == esc(text[:50])
    short = doc_html("short", "document 8")
    assert "truncated" not in short and "5 characters" in short


def test_every_page_forbids_every_request_but_its_own_inline_parts():
    html = page("a <title>", "<p>body</p>", "var x = 1;")
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in html
    assert "default-src 'none'" in CSP and "img-src data:" in CSP and "connect-src" not in CSP
    assert '<link rel="icon" href="data:,">' in html  # no request for a favicon
    assert "<title>a &lt;title&gt;</title>" in html and "<script>\nvar x = 1;\n</script>" in html


def test_tables_mark_numeric_columns_and_sort_keys():
    rows, keys = [["x", "1,000"], ["y", "2"]], [[None, "1000"], [None, "2"]]
    out = table(["a", "n"], rows, numeric=[False, True], sort_keys=keys, row_classes=["", "best"], sortable=True)
    assert '<table class="sortable">' in out and '<th class="num" data-kind="num" scope="col">n</th>' in out
    assert '<td class="num" data-sort="1000">1,000</td>' in out and '<tr class="best">' in out


def test_numbers_as_shown():
    assert [fmt_number(v) for v in (None, True, 12345, 0.123456, 45111.0, float("nan"))] == [
        "", "true", "12,345", "0.1235", "45,111", "nan"]  # fmt: skip


def test_png_data_uri(tmp_path):
    png = tmp_path / "a.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\nxyz")
    assert png_data_uri(str(png)) == "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode()
    assert png_data_uri(str(tmp_path / "missing.png")) is None
