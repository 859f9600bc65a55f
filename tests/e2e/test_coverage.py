"""The coverage table end to end: every "tuned" filter whose packages are installed run by the real dj-process on media
this test makes, its bounds and kept set recomputed here with numpy and the filters' own decisions; a recipe needing
a missing package refused in one line; the audio filters' own end-to-end tests (test_audio.py)."""

import inspect
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.helpers.data import read_jsonl, varied_texts, write_yaml
from tests.helpers.media import image_samples, video_samples, write_samples, write_wav
from tests.helpers.runs import ROOT

STATS = "__dj__stats__"


def test_a_recipe_needing_a_missing_package_exits_with_one_line(tmp_path, dj_process):
    from data_juicer_hpo.imports import module_installed
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


# tuned, and run end to end by tests/e2e/test_audio.py in the `audio` extra's own venv (make test-audio)
AUDIO_FILTERS = {"audio_duration_filter", "audio_nmf_snr_filter"}


def test_the_audio_extras_tuned_filters_have_their_own_end_to_end_tests():
    from data_juicer_hpo.ops.coverage import coverage

    audio = {row.name for row in coverage() if row.status == "tuned" and "the `audio` extra" in row.note}
    assert audio == AUDIO_FILTERS
    source = (ROOT / "tests" / "e2e" / "test_audio.py").read_text(encoding="utf-8")
    assert all(f'"{name}"' in source for name in AUDIO_FILTERS)


def _runnable_tuned():
    from data_juicer_hpo.imports import module_installed
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
