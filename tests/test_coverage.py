"""The coverage table: generated from the installed Data-Juicer, current in the README, and every "tuned" filter
whose packages are installed run end to end by the real dj-process on media this test makes, its bounds and kept
set recomputed here with numpy and the filters' own decisions."""

import inspect
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import ROOT, read_jsonl, varied_texts, write_yaml
from media import image_samples, video_samples, write_samples, write_wav

STATS = "__dj__stats__"


def _table():
    from data_juicer_hpo.ops.coverage import markdown_table

    return markdown_table()


def test_readme_table_is_current():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start, end = text.index("<!-- coverage:start -->\n"), text.index("\n<!-- coverage:end -->")
    assert (
        text[start + len("<!-- coverage:start -->\n") : end] == _table()
    ), "README coverage table is stale: python -m data_juicer_hpo.ops.coverage"


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


def test_statistics_pass_skips_a_filter_that_needs_a_model():
    from data_juicer.core.data import NestedDataset
    from data_juicer.ops import OPERATORS

    from data_juicer_hpo.ops.statistics import prepared_pipeline, run_stats_pass

    ops = [OPERATORS.modules["text_length_filter"](), OPERATORS.modules["token_num_filter"]()]
    data = NestedDataset.from_dict({"text": varied_texts(20)})
    stats = run_stats_pass(data, ops)
    assert list(stats.stat_keys) == [0]  # the model filter computed nothing, so downloaded nothing
    assert any(note.startswith("token_num_filter (#1) unchanged: needs a huggingface model") for note in stats.notes)
    pipeline = prepared_pipeline(stats, ops)
    assert pipeline[1].run.__func__ is type(ops[1]).run  # Data-Juicer computes its statistic itself later


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


def test_a_recipe_needing_a_missing_package_exits_with_one_line(tmp_path, dj_process):
    from data_juicer_hpo.hooks.install_guard import module_installed
    from data_juicer_hpo.ops.coverage import EXTRAS

    if all(module_installed(m) for m in EXTRAS["audio"]):
        pytest.skip("the audio extra is installed here")
    data = tmp_path / "d.jsonl"
    data.write_text('{"text": "a", "audios": []}\n{"text": "b", "audios": []}\n')
    recipe = write_yaml(
        tmp_path / "r.yaml",
        {
            "dataset_path": str(data),
            "export_path": str(tmp_path / "out" / "o.jsonl"),
            "process": [{"audio_duration_filter": {}}],
            "auto_hpo": {"mode": "3sigma"},
        },
    )
    res = dj_process("--config", recipe)
    assert res.returncode == 1
    (line,) = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert line.startswith("error: process[0].audio_duration_filter: needs the package")
    assert line.endswith("not installed: pip install data-juicer-hpo[audio]"), line
    assert "Traceback" not in res.stderr and not (tmp_path / "out").exists()


# ---- every tuned filter end to end ----------------------------------------------------------------------------

PARSED = {("image_size_filter", "size"), ("audio_size_filter", "size"), ("video_aspect_ratio_filter", "ratio")}
RECIPE = [
    {"text_length_filter": {}},
    {"alphanumeric_filter": {}},
    {"average_line_length_filter": {}},
    {"character_repetition_filter": {}},
    {"maximum_line_length_filter": {}},
    {"special_characters_filter": {}},
    {"word_repetition_filter": {}},
    {"words_num_filter": {}},
    {"specified_numeric_field_filter": {"field_key": "score"}},
    {"image_aspect_ratio_filter": {"any_or_all": "all"}},
    {"image_shape_filter": {}},
    {"image_size_filter": {"any_or_all": "all"}},
    {"audio_size_filter": {}},
    {"video_duration_filter": {"video_backend": "av"}},
    {"video_aspect_ratio_filter": {"any_or_all": "all"}},
    {"video_resolution_filter": {}},
]


# tuned, and run end to end by tests/test_audio_e2e.py in the `audio` extra's own venv (make test-audio)
AUDIO_FILTERS = {"audio_duration_filter", "audio_nmf_snr_filter"}


def test_the_audio_extras_tuned_filters_have_their_own_end_to_end_tests():
    from data_juicer_hpo.ops.coverage import coverage

    audio = {row.name for row in coverage() if row.status == "tuned" and "the `audio` extra" in row.note}
    assert audio == AUDIO_FILTERS
    source = (ROOT / "tests" / "test_audio_e2e.py").read_text(encoding="utf-8")
    assert all(f'"{name}"' in source for name in AUDIO_FILTERS)


def _runnable_tuned():
    from data_juicer_hpo.hooks.install_guard import module_installed
    from data_juicer_hpo.ops.coverage import coverage, needed_packages, stats_filters

    filters = stats_filters()
    return {
        row.name
        for row in coverage()
        if row.status == "tuned" and all(module_installed(m) for m in needed_packages(filters[row.name]))
    }


def _samples(folder: Path, n=40):
    rng = np.random.default_rng(11)
    texts = varied_texts(n, seed=3)
    images = image_samples(folder / "img", n=n)
    videos = video_samples(folder / "vid", n=n)
    out = []
    for i in range(n):
        words = texts[i].split(" ")
        step = int(rng.integers(3, 12))
        text = "\n".join(" ".join(words[j : j + step]) for j in range(0, len(words), step))
        audios = [
            str(write_wav(folder / "aud" / f"a_{i}_{j}.wav", float(rng.uniform(0.1, 0.6)) * (6 if i == 13 else 1)))
            for j in range(i % 3)
        ]
        out.append(
            {
                "text": text,
                "score": float(rng.normal(50, 5)),
                "images": images[i]["images"],
                "videos": videos[i]["videos"],
                "audios": audios,
            }
        )
    return out


def _stats_of(op, sample):
    row = dict(sample)
    row[STATS] = {}
    if op.is_batched_op():
        return op.compute_stats_batched({k: [v] for k, v in row.items()})[STATS][0]
    return op.compute_stats_single(row)[STATS]


def _keeps(op, stats):
    if op.is_batched_op():
        return bool(list(op.process_batched({STATS: [stats]}))[0])
    return bool(op.process_single({STATS: stats}))


def _expected(values, side, annotation, parsed, stat):
    """k-sigma (k=3, ddof=1) over the pooled items, clamped to [0, 1] for ratios and to >= 0 for the rest (every
    statistic here is non-negative), cast as the argument is typed."""
    items = np.asarray([x for v in values for x in (v if isinstance(v, (list, tuple, np.ndarray)) else [v])], float)
    raw = items.mean() + (-3 if side == "min" else 3) * items.std(ddof=1)
    raw = max(raw, 0.0)
    if "ratio" in stat and items.max() <= 1:
        raw = min(raw, 1.0)
    integral = bool(np.all(items == np.floor(items)))
    if annotation is int or (parsed and "size" in stat):
        if integral:
            return math.ceil(raw) if side == "min" else math.floor(raw)
        return math.floor(raw) if side == "min" else math.ceil(raw)
    return float(raw)


def test_every_tuned_filter_end_to_end(tmp_path, dj_process):
    from data_juicer.ops import OPERATORS
    from data_juicer.utils.mm_utils import size_to_bytes

    # a new tuned filter needs a row here
    assert {next(iter(e)) for e in RECIPE} == _runnable_tuned() - AUDIO_FILTERS
    samples = _samples(tmp_path / "media")
    data = write_samples(tmp_path / "d.jsonl", samples)
    refined_path = tmp_path / "refined.yaml"
    recipe = write_yaml(
        tmp_path / "recipe.yaml",
        {
            "dataset_path": str(data),
            "export_path": str(tmp_path / "out" / "kept.jsonl"),
            "np": 1,
            "process": RECIPE,
            "auto_hpo": {"mode": "3sigma", "path_3sigma_recipe": str(refined_path)},
        },
    )
    res = dj_process("--config", recipe)
    assert res.returncode == 0, res.stderr[-3000:]
    refined = yaml.safe_load(refined_path.read_text())["process"]

    keep = np.ones(len(samples), dtype=bool)
    for entry, tuned in zip(RECIPE, refined):
        ((name, args),) = entry.items()
        cls = OPERATORS.modules[name]
        op = cls(**args)
        rows = [_stats_of(op, s) for s in samples]
        keys = sorted(rows[0])
        params = inspect.signature(cls.__init__).parameters
        new_args = tuned[name]
        for arg in (p for p in params if p.startswith(("min_", "max_"))):
            side, suffix = arg.split("_", 1)
            stat = keys[0] if len(keys) == 1 else next(k for k in keys if k.endswith(suffix))
            parsed = (name, suffix) in PARSED
            want = _expected([r[stat] for r in rows], side, params[arg].annotation, parsed, stat)
            got = new_args[arg]
            if parsed and suffix == "size":
                assert isinstance(got, str) and size_to_bytes(got) == want, (name, arg, got, want)
            elif parsed:
                assert isinstance(got, str) and float(Fraction(got)) == pytest.approx(want, rel=1e-9), (name, arg)
            elif isinstance(want, int):
                assert type(got) is int and got == want, (name, arg, got, want)
            else:
                assert type(got) is float and got == pytest.approx(want, rel=1e-9, abs=1e-12), (name, arg, got)
        tuned_op = cls(**new_args)
        keep &= np.asarray([_keeps(tuned_op, row) for row in rows])
    kept = [row["text"] for row in read_jsonl(tmp_path / "out" / "kept.jsonl")]
    assert kept == [s["text"] for s, k in zip(samples, keep) if k]
    assert 0 < len(kept) < len(samples)
