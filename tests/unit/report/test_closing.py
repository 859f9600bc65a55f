"""The closing summary's lines (report/closing.py)."""

from data_juicer_hpo.report.closing import kept_text, summary_lines


def test_kept_text():
    assert kept_text(4763, 5000) == "4,763 of 5,000 documents (95.3%)"
    assert kept_text(12, None) == "12 documents" and kept_text(None, 10) == "unknown"


def test_summary_lines_say_what_was_chosen_kept_and_where_the_outputs_are():
    lines = summary_lines("sweep", [("chosen", "trial #3")], [("report", "/o/report.html"), ("export", None)], 75)
    assert lines == [
        "auto_hpo[sweep]: done in 00:01:15. Summary:",
        "auto_hpo[sweep]:   chosen: trial #3",
        "auto_hpo[sweep]:   report: [/o/report.html]",
    ]
