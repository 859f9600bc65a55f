"""The coverage table (ops/coverage.py): generated from the installed Data-Juicer, current in docs/media.md, the extras
it names; every "tuned" filter end to end is in tests/e2e/test_coverage.py."""

from tests.helpers.runs import ROOT


def _table():
    from data_juicer_hpo.ops.coverage import markdown_table

    return markdown_table()


def test_docs_table_is_current():
    text = (ROOT / "docs" / "media.md").read_text(encoding="utf-8")
    start, end = text.index("<!-- coverage:start -->\n"), text.index("\n<!-- coverage:end -->")
    assert (
        text[start + len("<!-- coverage:start -->\n") : end] == _table()
    ), "docs/media.md coverage table is stale: python -m data_juicer_hpo.ops.coverage"


def test_rows_cover_every_statistic_filter_and_the_known_cases():
    from data_juicer.ops import NON_STATS_FILTERS, OPERATORS, Filter

    from data_juicer_hpo.ops.coverage import coverage

    rows = {row.name: row for row in coverage()}
    expected = {n for n, c in OPERATORS.modules.items() if issubclass(c, Filter) and n not in NON_STATS_FILTERS.modules}
    assert set(rows) == expected
    assert rows["image_shape_filter"].status == "tuned"
    assert rows["perplexity_filter"].status == "needs a model"
    assert rows["video_motion_score_raft_filter"].status == "needs a model"  # torchvision weights, not prepare_model
    assert rows["flagged_words_filter"].status == "needs an asset download"
    assert rows["general_field_filter"].status == "no threshold"
    assert rows["alphanumeric_filter"].status == "tuned" and "select a model" in rows["alphanumeric_filter"].note


def test_model_need_is_read_from_the_op_instance():
    from data_juicer.ops import OPERATORS

    from data_juicer_hpo.ops.coverage import model_need

    assert "huggingface model" in model_need(OPERATORS.modules["token_num_filter"]())  # prepared lazily: no download
    assert model_need(OPERATORS.modules["words_num_filter"](tokenization=False)) is None
    assert model_need(OPERATORS.modules["text_length_filter"]()) is None


def test_missing_packages_fail_with_one_line_naming_the_extra(monkeypatch):
    from data_juicer_hpo.ops import coverage

    process = [
        {"video_duration_filter": {}},
        {"audio_duration_filter": {}},
        {"text_length_filter": {}},
        {"audio_nmf_snr_filter": {}},
        {"image_subplot_filter": {}},
    ]
    monkeypatch.setattr(coverage, "module_installed", lambda module: module not in {"av", "librosa", "cv2"})
    assert coverage.missing_package_problems(process) == [
        "process[0].video_duration_filter: needs the package 'av', which is not installed: "
        "pip install data-juicer-hpo[multimodal]",
        "process[1].audio_duration_filter: needs the package 'librosa', which is not installed: "
        "pip install data-juicer-hpo[audio]",
        "process[3].audio_nmf_snr_filter: needs the package 'librosa', which is not installed: "
        "pip install data-juicer-hpo[audio]",
        "process[4].image_subplot_filter: needs the package 'cv2', which is not installed: "
        "pip install opencv-contrib-python (not part of an extra of data-juicer-hpo)",
    ]
    # Data-Juicer's own pins (samplerate==0.1.0, torchcodec==0.7) never reach the hint: the extra's tested versions do
    monkeypatch.setattr(
        coverage, "module_installed", lambda module: module not in {"samplerate", "torchcodec", "torch"}
    )
    assert coverage.missing_package_problems(process[3:4]) == [
        "process[0].audio_nmf_snr_filter: needs the packages 'samplerate', 'torchcodec', 'torch', which are not "
        "installed: pip install data-juicer-hpo[audio]"
    ]


def test_torch_is_the_audio_extras_only_beside_torchcodec():
    from data_juicer_hpo.ops.coverage import EXTRAS, extra_of

    assert extra_of("torch", {"torchcodec": "torchcodec", "torch": "torch"}) == "audio"
    assert extra_of("torch", {"torch": "torch"}) is None  # a model filter's torch is not the extra's
    assert extra_of("av", {"av": "av"}) == "multimodal"
    assert set(EXTRAS["audio"]) == {"torch", "torchcodec", "librosa", "resampy", "samplerate"}


def test_the_extras_install_what_the_table_says():
    """setup.cfg's extras hold a requirement for every module the coverage table attributes to them."""
    import configparser

    from data_juicer_hpo.ops.coverage import EXTRAS

    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    for extra, modules in EXTRAS.items():
        declared = {line.split("==")[0].split(">=")[0].strip() for line in cfg["options.extras_require"][extra].split()}
        assert declared == set(modules), extra


# ---- every tuned filter end to end ----------------------------------------------------------------------------
