"""What a run shows a person: ``report.html`` (:mod:`.page`: the summary, every tuned filter with its bounds and
example documents (:mod:`.filters`, :mod:`.svg`), a sweep's trials, parameters, plots and Pareto front) and the
labelling page ``label.html`` (:mod:`.label_page`). Pure: the modes hand plain data in; every page is one
self-contained file (:mod:`.html`)."""

from data_juicer_hpo.report.filters import (
    BoundRow,
    Doc,
    ExampleGroup,
    FilterSection,
    TunedStatistic,
    fetch_texts,
    filter_sections,
    section_counts,
    with_counts,
)
from data_juicer_hpo.report.label_page import LABELS_FILE, read_sample, write_label_page
from data_juicer_hpo.report.page import (
    FrontTrial,
    ParameterTable,
    Report,
    Summary,
    TrialsTable,
    render_report,
    write_report,
)

__all__ = [
    "BoundRow",
    "Doc",
    "ExampleGroup",
    "FilterSection",
    "TunedStatistic",
    "fetch_texts",
    "filter_sections",
    "section_counts",
    "with_counts",
    "LABELS_FILE",
    "read_sample",
    "write_label_page",
    "FrontTrial",
    "ParameterTable",
    "Report",
    "Summary",
    "TrialsTable",
    "render_report",
    "write_report",
]
